import Foundation
import HummingbirdWebSocket
import Logging
import NIOCore

/// One `/v1/listen` connection: audio in binary frames, `KeepAlive`/`Finalize`/`CloseStream` in
/// text frames; a connection that hears nothing for the silence timeout (10 s on Deepgram) is
/// closed with 1011 and NET-0001, as Deepgram does.
actor FakeListenConnection {
    private let stream: FakeListenStream
    private let state: FakeDeepgramState
    private let outbound: WebSocketOutboundWriter
    private let silenceTimeout: Duration
    private var injection: FakeDeepgramState.Injection?
    private var lastDataAt = ContinuousClock.now
    private var closed = false
    private let encoder = JSONEncoder()

    init(stream: FakeListenStream, state: FakeDeepgramState, outbound: WebSocketOutboundWriter, silenceTimeout: Duration) {
        self.stream = stream
        self.state = state
        self.outbound = outbound
        self.silenceTimeout = silenceTimeout
    }

    nonisolated func run(inbound: WebSocketInboundStream) async {
        await start()
        let watchdog = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                if await self.checkSilence() { return }
            }
        }
        defer { watchdog.cancel() }
        do {
            for try await message in inbound.messages(maxSize: 1 << 20) {
                let keepGoing: Bool
                switch message {
                case .text(let text): keepGoing = await handle(text: text)
                case .binary(let buffer): keepGoing = await handle(audio: Array(buffer: buffer))
                }
                if !keepGoing { break }
            }
        } catch {}
        await disconnected()
    }

    private func start() async {
        injection = await state.takeInjection()
        await record("open")
    }

    private func handle(text: String) async -> Bool {
        struct Control: Decodable { var type: String }
        guard let control = try? JSONDecoder().decode(Control.self, from: Data(text.utf8)) else {
            return await fail(variant: "DATA-0000", "The text frame is not a control message.")
        }
        lastDataAt = .now
        switch control.type {
        case "KeepAlive":
            stream.keepAlive()
            await record("open")
            return true
        case "Finalize":
            for result in stream.finalize() where !(await deliver(result)) { return false }
            await record("open")
            return true
        case "CloseStream":
            let (results, metadata) = stream.close()
            for result in results where !(await deliver(result)) { return false }
            _ = await send(metadata)
            await record("closed")
            closed = true
            try? await outbound.close(.normalClosure, reason: nil)
            return false
        default:
            return await fail(variant: "DATA-0000", "Unknown control message type \(control.type).")
        }
    }

    private func handle(audio bytes: [UInt8]) async -> Bool {
        lastDataAt = .now
        guard !stream.closedStream else { return await fail(variant: "DATA-0000", "Audio after CloseStream.") }
        let results = stream.feed(bytes)
        await record("open")
        if let injection, stream.audioMs >= (injection.afterMs ?? 0), let outcome = await strike(injection) {
            return outcome
        }
        for result in results where !(await deliver(result)) { return false }
        // Deepgram's UtteranceEnd follows an utterance's last final when asked for.
        if stream.query.utteranceEnd, let last = results.last(where: { $0.isFinal }) {
            struct UtteranceEnd: Encodable {
                var type = "UtteranceEnd"
                var channel = [0, 1]
                var lastWordEnd: Double
                enum CodingKeys: String, CodingKey { case type, channel; case lastWordEnd = "last_word_end" }
            }
            if !(await send(UtteranceEnd(lastWordEnd: last.start + last.duration))) { return false }
        }
        return true
    }

    /// An injected failure; nil when it only changes pacing (`slow`).
    private func strike(_ injection: FakeDeepgramState.Injection) async -> Bool? {
        switch injection.failure {
        case "error":
            return await fail(variant: "INTERNAL-0000", "Deepgram encountered an internal error.")
        case "disconnect":
            closed = true
            await record("disconnected")
            try? await outbound.close(.unexpectedServerError, reason: nil)
            return false
        default:
            return nil
        }
    }

    private func deliver(_ results: FakeDeepgramMessages.Results) async -> Bool {
        if injection?.failure == "slow" { try? await Task.sleep(for: .milliseconds(injection?.delayMs ?? 1_000)) }
        return await send(results)
    }

    /// Deepgram's NET-0001: no audio and no KeepAlive within the timeout.
    private func checkSilence() async -> Bool {
        guard !closed else { return true }
        guard ContinuousClock.now - lastDataAt > silenceTimeout else { return false }
        closed = true
        await record("timed-out", failure: "NET-0001")
        try? await outbound.close(.unexpectedServerError, reason: "NET-0001")
        return true
    }

    private func fail(variant: String, _ description: String) async -> Bool {
        _ = await send(FakeDeepgramMessages.ErrorMessage(variant: variant, description: description, message: description))
        closed = true
        await record("failed", failure: "\(variant): \(description)")
        try? await outbound.close(.unexpectedServerError, reason: variant)
        return false
    }

    private func disconnected() async {
        guard !closed else { return }
        closed = true
        await record("disconnected")
    }

    private func record(_ status: String, failure: String? = nil) async {
        var report = stream.report
        report.state = status
        report.failure = failure
        await state.record(report)
    }

    private func send(_ message: some Encodable) async -> Bool {
        guard let data = try? encoder.encode(message) else { return false }
        do {
            try await outbound.write(.text(String(decoding: data, as: UTF8.self)))
            return true
        } catch {
            return false
        }
    }
}
