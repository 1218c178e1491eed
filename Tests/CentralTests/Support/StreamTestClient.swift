import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket
import Protocol
import Synchronization
import Testing

/// A scripted edge on the stream WebSocket: the test pushes frames and reads what central says.
final class StreamTestClient: Sendable {
    enum Outgoing: Sendable {
        case text(String)
        case binary([UInt8])
        /// One binary message split into two WebSocket frames (a continuation follows).
        case fragmented([UInt8])
        case close
    }

    /// What arrived, shared with the connection task.
    final class Inbox: Sendable {
        let messages = Mutex<[ControlMessage]>([])
        let closed = Mutex<Bool>(false)
    }

    private let outgoing: AsyncStream<Outgoing>.Continuation
    private let box = Inbox()
    let connection: Task<WebSocketCloseFrame?, any Error>

    init(port: Int, token: String, forwardedFor: String? = nil) {
        let (stream, outgoing) = AsyncStream<Outgoing>.makeStream()
        self.outgoing = outgoing
        let box = self.box
        var logger = Logger(label: "stream-test-client")
        logger.logLevel = .critical
        var configuration = WebSocketClientConfiguration()
        configuration.additionalHeaders = [.authorization: "Bearer \(token)"]
        if let forwardedFor, let name = HTTPField.Name("X-Forwarded-For") {
            configuration.additionalHeaders[name] = forwardedFor
        }
        connection = Task {
            defer { box.closed.withLock { $0 = true } }
            return try await WebSocketClient.connect(url: "ws://localhost:\(port)/v1/stream", configuration: configuration, logger: logger) { inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        // A write failing (the server already closed) must not stop the reading
                        // of what the server said before closing.
                        for await item in stream {
                            switch item {
                            case .text(let text): try? await outbound.write(.text(text))
                            case .binary(let bytes): try? await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                            case .fragmented(let bytes):
                                let half = bytes.count / 2
                                try? await outbound.write(.custom(WebSocketFrame(fin: false, opcode: .binary, data: ByteBuffer(bytes: bytes[..<half]))))
                                try? await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .continuation, data: ByteBuffer(bytes: bytes[half...]))))
                            case .close:
                                try? await outbound.close(.normalClosure, reason: nil)
                                return
                            }
                        }
                    }
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message, let decoded = try? ControlMessage.decode(text) {
                            box.messages.withLock { $0.append(decoded) }
                        }
                    }
                    group.cancelAll()
                }
            }
        }
    }

    func send(_ message: ControlMessage) { outgoing.yield(.text(message.encodedText())) }
    func send(_ frame: AudioFrame) { outgoing.yield(.binary(frame.encoded())) }
    func sendRaw(text: String) { outgoing.yield(.text(text)) }
    func sendRaw(bytes: [UInt8]) { outgoing.yield(.binary(bytes)) }
    func sendFragmented(_ frame: AudioFrame) { outgoing.yield(.fragmented(frame.encoded())) }
    func close() { outgoing.yield(.close) }
    /// Drops the connection without a close handshake, as a network failure would.
    func drop() { connection.cancel() }

    var messages: [ControlMessage] { box.messages.withLock { $0 } }
    var isClosed: Bool { box.closed.withLock { $0 } }

    func start(source: String = "zh", target: String? = "en", resume: String? = nil) {
        send(.start(StartMessage(sourceLanguage: source, targetLanguage: target, resumeSessionID: resume)))
    }

    /// Waits for the first message matching `match`, polling the inbox.
    func waitFor<T>(timeout: Duration = .seconds(10), _ match: (ControlMessage) -> T?) async -> T? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let found = messages.lazy.compactMap(match).first { return found }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    func started() async -> StartedMessage? {
        await waitFor { if case .started(let m) = $0 { m } else { nil } }
    }

    func stopped(timeout: Duration = .seconds(10)) async -> StoppedMessage? {
        await waitFor(timeout: timeout) { if case .stopped(let m) = $0 { m } else { nil } }
    }

    var errors: [ErrorMessage] {
        messages.compactMap { if case .error(let m) = $0 { m } else { nil } }
    }

    var lastAck: AckMessage? {
        messages.compactMap { if case .ack(let m) = $0 { m } else { nil } }.last
    }

    /// Sends frames, optionally paced (`interval` between frames).
    func stream(_ frames: [AudioFrame], interval: Duration? = nil) async {
        for frame in frames {
            send(frame)
            if let interval { try? await Task.sleep(for: interval) }
        }
    }
}

extension LiveCentral {
    /// Admission, then a stream client connected with its token that has sent nothing yet.
    func connectStream(key: String, device: String = "device-1", from ip: String? = nil) async throws -> StreamTestClient {
        let admitted = try await admit(key: key, device: device, from: ip)
        try #require(admitted.status == .created, "\(admitted.text)")
        let token = try #require(try admitted.json()["stream_token"] as? String)
        return StreamTestClient(port: port, token: token, forwardedFor: ip)
    }

    /// Admission, then a connected stream client that has sent `start` and seen `started`.
    func openStream(
        key: String, device: String = "device-1", source: String = "zh", target: String? = "en", from ip: String? = nil
    ) async throws -> (StreamTestClient, StartedMessage) {
        let client = try await connectStream(key: key, device: device, from: ip)
        client.start(source: source, target: target)
        let started = try #require(await client.started(), "no started message: \(client.messages)")
        return (client, started)
    }
}

extension LiveCentral {
    /// Admission and `start`, expecting central to refuse the start: returns the error's code.
    func openStreamExpectingError(key: String, device: String = "device-1", source: String = "en", target: String?) async throws -> (ErrorCode, String) {
        let client = try await connectStream(key: key, device: device)
        client.start(source: source, target: target)
        let error = try #require(await client.waitFor { if case .error(let e) = $0 { e } else { nil } }, "\(client.messages)")
        return (error.code, error.message)
    }
}
