import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import Protocol
import Synchronization

/// Runs one DashScope task on its own WebSocket: `run-task`, wait for `task-started`, Ogg Opus
/// audio as binary frames, `finish-task`, the last results, `task-finished`. A reader turns
/// events into session results while a writer feeds audio from the inbox.
final class DashScopeTaskRunner: Sendable {
    enum Outcome: Sendable, Equatable {
        /// The session's audio ended and the task finished.
        case inputEnded
        /// The session was cancelled.
        case cancelled
        /// The task reached the rotation length and finished; continue with a new task.
        case rotated
        /// No audio for a while: the task finished; wait for audio before the next one.
        case idle
    }

    let configuration: ProviderSessionConfiguration
    let settings: DashScopeSettings
    let inbox: ProviderInbox
    let relay: DashScopeRelayState
    let sink: AsyncStream<ProviderEvent>.Continuation
    let logger: Logger

    init(
        configuration: ProviderSessionConfiguration, settings: DashScopeSettings, inbox: ProviderInbox,
        relay: DashScopeRelayState, sink: AsyncStream<ProviderEvent>.Continuation, logger: Logger
    ) {
        self.configuration = configuration
        self.settings = settings
        self.inbox = inbox
        self.relay = relay
        self.sink = sink
        self.logger = logger
    }

    /// Ends the session with `code`, then drains the inbox so the session's `finish()` returns.
    func fail(_ code: ErrorCode, _ message: String) async {
        sink.yield(.failed(code, message))
        guard !relay.read(\.inputEnded) else { return }
        while let item = await inbox.next() {
            if case .end = item { return }
        }
    }

    /// Waits for the next audio frame; false when the audio ended first.
    func awaitAudio() async -> Bool {
        guard !relay.read(\.inputEnded) else { return false }
        while let item = await inbox.next() {
            switch item {
            case .audio(let frame):
                relay.accept(frame)
                return true
            case .tick: continue
            case .end:
                relay.markInputEnded()
                return false
            }
        }
        return false
    }

    func runTask(key: ProviderKeyLease) async throws -> Outcome {
        relay.beginTask()
        let taskID = DashScopeWire.newTaskID()
        var wsConfiguration = WebSocketClientConfiguration(maxFrameSize: 1 << 20)
        var headers: HTTPFields = [.authorization: "bearer \(key.secret)", .userAgent: "speech-edge-central/1"]
        if let workspace = settings.workspace, let name = HTTPField.Name("X-DashScope-WorkSpace") {
            headers[name] = workspace
        }
        wsConfiguration.additionalHeaders = headers
        let result = LockedValue<Outcome?>(nil)
        do {
            try await WebSocketClient.connect(
                url: settings.url, configuration: wsConfiguration, tlsConfiguration: settings.tlsConfiguration, logger: logger
            ) { inbound, outbound, _ in
                let outcome = try await self.exchange(taskID: taskID, inbound: inbound, outbound: outbound)
                result.set(outcome)
            }
        } catch let failure as DashScopeFailure {
            throw failure
        } catch let error as WebSocketClientError where error == .webSocketUpgradeFailed {
            throw await Self.classifyRefusedUpgrade(url: settings.url, secret: key.secret)
        } catch {
            if let outcome = result.value { return outcome }
            throw DashScopeFailure.transient(.providerUnavailable, "cannot reach DashScope (\(type(of: error)))")
        }
        guard let outcome = result.value else {
            throw DashScopeFailure.transient(.providerUnavailable, "DashScope closed the connection during the task")
        }
        return outcome
    }

    private enum Finished: Sendable {
        case reader
        case writer(Outcome)
    }

    private func exchange(taskID: String, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws -> Outcome {
        let runTask = DashScopeWire.Command.runTask(
            id: taskID, model: settings.model.rawValue,
            parameters: settings.model.parameters(
                source: configuration.sourceLanguage, target: configuration.targetLanguage,
                sampleRate: configuration.codec.sampleRate))
        try await outbound.write(.text(String(decoding: try JSONEncoder().encode(runTask), as: UTF8.self)))
        let writerOutcome = LockedValue<Outcome?>(nil)
        return try await withThrowingTaskGroup(of: Finished.self) { group in
            group.addTask {
                try await self.read(taskID: taskID, inbound: inbound)
                return .reader
            }
            group.addTask {
                let outcome = try await self.write(taskID: taskID, outbound: outbound, decided: writerOutcome)
                return .writer(outcome)
            }
            defer { group.cancelAll() }
            while let finished = try await group.next() {
                switch finished {
                case .reader:
                    // task-finished: the writer has sent finish-task (or the provider ended the task on its own).
                    relay.completeTask()
                    return writerOutcome.value ?? (relay.read(\.inputEnded) ? .inputEnded : .rotated)
                case .writer(.cancelled):
                    return .cancelled
                case .writer(let outcome):
                    // finish-task went out but task-finished never came: results after it are lost.
                    logger.warning("DashScope did not finish the task in time", metadata: ["task": "\(taskID)"])
                    relay.completeTask()
                    return outcome
                }
            }
            throw DashScopeFailure.transient(.providerUnavailable, "the DashScope task ended unexpectedly")
        }
    }

    /// Events in; returns at `task-finished`, throws at `task-failed` or a lost connection.
    private func read(taskID: String, inbound: WebSocketInboundStream) async throws {
        let decoder = JSONDecoder()
        for try await message in inbound.messages(maxSize: 1 << 20) {
            guard case .text(let text) = message else { continue }
            guard let event = try? decoder.decode(DashScopeWire.Event.self, from: Data(text.utf8)) else {
                logger.warning("unreadable DashScope event ignored", metadata: ["bytes": "\(text.utf8.count)"])
                continue
            }
            guard event.header.taskID == taskID else { continue }
            switch event.header.event {
            case "task-started":
                relay.markStarted()
                inbox.tick()
            case "result-generated":
                if let payload = event.payload {
                    for result in relay.results(from: payload) { sink.yield(result) }
                }
            case "task-finished":
                relay.recordTaskUsage(event.payload?.usage)
                return
            case "task-failed":
                throw DashScopeFailure.fromTaskFailed(code: event.header.errorCode, message: event.header.errorMessage)
            default:
                continue
            }
        }
        throw DashScopeFailure.transient(.providerUnavailable, "DashScope closed the connection mid-task")
    }

    /// Audio out: headers once the task started, a page per ~100 ms, then `finish-task`.
    /// `decided` learns why the task is finishing as soon as finish-task goes out, so a
    /// `task-finished` that beats this function's return still knows (idle vs rotation).
    private func write(taskID: String, outbound: WebSocketOutboundWriter, decided: LockedValue<Outcome?>) async throws -> Outcome {
        let ogg = OggOpusWriter(preSkip: configuration.codec.preSkip, inputSampleRate: configuration.codec.sampleRate)
        let clock = ContinuousClock()
        let openedAt = clock.now
        var lastAudioAt = clock.now
        var headersSent = false
        var finishing: (outcome: Outcome, since: ContinuousClock.Instant)?

        func sendUnsent() async throws {
            guard relay.read(\.taskStarted) else { return }
            var bytes: [UInt8] = []
            if !headersSent {
                bytes = ogg.headers()
                headersSent = true
            }
            for packet in relay.takeUnsent() { bytes += ogg.append(packet) }
            if !bytes.isEmpty { try await outbound.write(.binary(ByteBuffer(bytes: bytes))) }
        }

        func finish(_ outcome: Outcome) async throws {
            guard finishing == nil else { return }
            guard relay.read(\.taskStarted) else { return }
            try await sendUnsent()
            let last = ogg.finish()
            if !last.isEmpty { try await outbound.write(.binary(ByteBuffer(bytes: last))) }
            let command = DashScopeWire.Command.finishTask(id: taskID)
            try await outbound.write(.text(String(decoding: try JSONEncoder().encode(command), as: UTF8.self)))
            finishing = (outcome, clock.now)
            decided.set(outcome)
        }

        while true {
            guard let item = await inbox.next() else { return .cancelled }
            switch item {
            case .audio(let frame):
                relay.accept(frame)
                lastAudioAt = clock.now
                if finishing == nil { try await sendUnsent() }
            case .end:
                relay.markInputEnded()
            case .tick:
                break
            }
            let started = relay.read(\.taskStarted)
            if let finishing {
                if clock.now - finishing.since > settings.finishTimeout { return finishing.outcome }
                continue
            }
            if !started {
                if clock.now - openedAt > settings.startTimeout {
                    throw DashScopeFailure.transient(.providerTimeout, "DashScope did not start the task in time")
                }
                continue
            }
            try await sendUnsent()
            let (inputEnded, taskMs, lastFinalMs, sessionMs) = relay.read {
                ($0.inputEnded, $0.taskSentMs, $0.lastFinalSessionMs, $0.sessionAudioMs)
            }
            if inputEnded {
                try await finish(.inputEnded)
            } else if clock.now - lastAudioAt > settings.idleFinishAfter {
                try await finish(.idle)
            } else if taskMs >= settings.rotateAfterMs {
                // Rotate at a sentence end (a final within the last second), or 30 s late at most.
                if sessionMs - lastFinalMs < 1_000 || taskMs >= settings.rotateAfterMs + 30_000 {
                    try await finish(.rotated)
                }
            }
        }
    }

    /// The WebSocket client does not expose the refusal's status, so ask once over plain HTTP
    /// with the same credentials: 401/403 is the key, 429 is throttling, anything else transient.
    static func classifyRefusedUpgrade(url: String, secret: String) async -> DashScopeFailure {
        let httpURL = url.replacingOccurrences(of: "wss://", with: "https://").replacingOccurrences(of: "ws://", with: "http://")
        var request = HTTPClientRequest(url: httpURL)
        request.headers.add(name: "Authorization", value: "bearer \(secret)")
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(5)) else {
            return .transient(.providerUnavailable, "DashScope refused the WebSocket upgrade")
        }
        switch response.status.code {
        case 401, 403: return .authFailed("DashScope refused the key (HTTP \(response.status.code))")
        case 429: return .rateLimited("DashScope is throttling the key (HTTP 429)")
        default: return .transient(.providerUnavailable, "DashScope refused the WebSocket upgrade (HTTP \(response.status.code))")
        }
    }
}
