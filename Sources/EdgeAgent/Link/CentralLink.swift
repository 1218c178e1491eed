import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import NIOSSL
import Protocol

/// What the link tells the rest of the edge.
public enum LinkEvent: Sendable, Equatable {
    case state(LinkState)
    case started(StartedMessage)
    case quota(QuotaMessage)
    case transcript(ResultMessage)
    case translation(ResultMessage)
    case error(ErrorCode, String)
    case stopped(StoppedMessage)
}

public enum LinkState: Sendable, Equatable {
    case idle
    case connecting
    case streaming(sessionID: String)
    /// The connection dropped; the link is resuming the session.
    case reconnecting(attempt: Int)
    case stopped(ErrorCode)
}

/// One translation session's connection to central: admission, the stream WebSocket,
/// heartbeats, and reconnection with jittered exponential backoff that resumes the same
/// session and replays unacknowledged audio, so a short outage loses nothing and costs no
/// extra session.
public actor CentralLink {
    private let central: CentralClient
    private let streamBaseURL: String
    private let tls: TLSConfiguration?
    private let deviceID: String
    private let logger: Logger
    private let eventSink: AsyncStream<LinkEvent>.Continuation
    public nonisolated let events: AsyncStream<LinkEvent>

    private var start: StartMessage?
    private var sessionID: String?
    private var nextSequence: UInt32 = 0
    private var replay = ReplayBuffer()
    /// The current connection's queue to its socket writer.
    private var outbound: OutboundQueue?
    /// Frames earlier connections' queues dropped.
    private var droppedUnsentEarlier = 0
    private var connection: Task<Void, Never>?
    private var state: LinkState = .idle
    private var lastSentAt = Date()
    private var heartbeat: Task<Void, Never>?

    public init(central: CentralClient, tls: TLSConfiguration?, deviceID: String, logger: Logger) {
        self.central = central
        var base = central.baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        self.streamBaseURL = base.replacingOccurrences(of: "https://", with: "wss://").replacingOccurrences(of: "http://", with: "ws://")
        self.tls = tls
        self.deviceID = deviceID
        self.logger = logger
        (events, eventSink) = AsyncStream<LinkEvent>.makeStream(bufferingPolicy: .bufferingNewest(256))
    }

    public var currentState: LinkState { state }
    /// Audio dropped because the replay buffer overflowed during an outage (or while central
    /// took audio slower than real time).
    public var droppedFrames: Int { replay.dropped }
    /// The part of `droppedFrames` that was never written at all: pushed out of a full outbound
    /// queue while central read slowly.
    public var droppedUnsentFrames: Int { droppedUnsentEarlier + (outbound?.droppedFrames ?? 0) }
    /// Audio handed to the link in this session, in milliseconds.
    public var sentMilliseconds: Int64 { sentMicroseconds / 1000 }
    private var sentMicroseconds: Int64 = 0
    /// Set by `stop()`: packets the capture still hands over until `stopped` arrives are neither
    /// sent nor counted, so `sentMilliseconds` stays what the `stop` told central (and was billed).
    private var stopRequested = false

    /// Admits and opens a new session. Throws central's refusal (with its code) when refused.
    public func open(sourceLanguage: String, targetLanguage: String?, codec: CodecParameters) async throws(CentralClient.Refusal) {
        start = StartMessage(sourceLanguage: sourceLanguage, targetLanguage: targetLanguage, codec: codec)
        stopRequested = false
        sessionID = nil
        nextSequence = 0
        replay.removeAll()
        setState(.connecting)
        let grant: SessionGrant
        do {
            grant = try await central.admit(deviceID: deviceID, holder: ProcessInfo.processInfo.hostName)
        } catch {
            finish(error.code)
            throw error
        }
        connect(grant: grant, resume: false)
        startHeartbeats()
    }

    /// Queues one encoded 20 ms packet; it is kept until central acknowledges it.
    public func send(packet: [UInt8], captureTimeMicroseconds: UInt64) {
        guard start != nil, !isStopped, !stopRequested else { return }
        guard let frame = try? AudioFrame(sequence: nextSequence, captureTimeMicroseconds: captureTimeMicroseconds, packet: packet) else {
            return
        }
        nextSequence &+= 1
        sentMicroseconds += Int64(frame.durationMicroseconds)
        replay.append(frame)
        if case .streaming = state {
            write(.frame(frame.encoded()))
        }
    }

    /// Asks central to finish; the link ends when `stopped` arrives (or the connection drops).
    public func stop() {
        stopRequested = true
        if case .streaming = state {
            write(.text(ControlMessage.stop(StopMessage(sentMs: sentMilliseconds)).encodedText()))
        } else {
            finish(.clientStop)
        }
    }

    /// Simulates a network failure: the connection is dropped without a close handshake.
    func dropConnection() {
        connection?.cancel()
    }

    // MARK: Connection

    private var isStopped: Bool {
        if case .stopped = state { return true }
        return false
    }

    private func connect(grant: SessionGrant, resume: Bool) {
        guard var startMessage = start else { return }
        if resume { startMessage.resumeSessionID = grant.sessionID }
        sessionID = grant.sessionID
        // Sized like the replay buffer, so what it drops the replay buffer has already dropped.
        let queue = OutboundQueue(frameCapacity: replay.capacity)
        outbound = queue
        var configuration = WebSocketClientConfiguration()
        configuration.additionalHeaders = [.authorization: "Bearer \(grant.streamToken)"]
        let url = streamBaseURL + grant.streamPath
        let tls = self.tls
        let logger = self.logger
        let first = ControlMessage.start(startMessage).encodedText()
        // The task holds the link while the socket lives; it ends when the socket closes.
        connection = Task { [self] in
            do {
                try await WebSocketClient.connect(url: url, configuration: configuration, tlsConfiguration: tls, logger: logger) { inbound, outbound, _ in
                    try await outbound.write(.text(first))
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            while let item = await queue.next() {
                                switch item {
                                case .text(let text): try await outbound.write(.text(text))
                                case .frame(let bytes): try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                                case .close:
                                    try await outbound.close(.normalClosure, reason: nil)
                                    return
                                }
                            }
                        }
                        for try await message in inbound.messages(maxSize: ControlMessage.maxTextBytes) {
                            guard case .text(let text) = message else { continue }
                            if let decoded = try? ControlMessage.decode(text) {
                                await self.received(decoded)
                            }
                        }
                        group.cancelAll()
                    }
                }
            } catch {
                logger.debug("stream connection ended", metadata: ["error": "\(error)"])
            }
            // Reconnect from a task of its own: this one may be the cancelled one.
            Task { await self.connectionEnded() }
        }
    }

    private func received(_ message: ControlMessage) {
        switch message {
        case .started(let started):
            setState(.streaming(sessionID: started.sessionID))
            eventSink.yield(.started(started))
            // Replay what central has not seen; duplicates are harmless, it meters by sequence.
            for frame in replay.pending(from: started.nextSequence) {
                write(.frame(frame.encoded()))
            }
        case .ack(let ack):
            replay.acknowledge(through: ack.lastSequence)
        case .quota(let quota):
            eventSink.yield(.quota(quota))
        case .transcript(let result):
            eventSink.yield(.transcript(result))
        case .translation(let result):
            eventSink.yield(.translation(result))
        case .error(let error):
            eventSink.yield(.error(error.code, error.message))
            // A fatal error (refused token, bad start) ends the session: do not try to resume it.
            if error.fatal { finish(error.code) }
        case .stopped(let stopped):
            eventSink.yield(.stopped(stopped))
            finish(stopped.reason)
        case .heartbeat, .start, .stop:
            break
        }
    }

    /// The socket closed: unless the session ended, resume it.
    private func connectionEnded() async {
        droppedUnsentEarlier += outbound?.droppedFrames ?? 0
        outbound = nil
        guard !isStopped, let sessionID else { return }
        var attempt = 0
        while !isStopped {
            attempt += 1
            setState(.reconnecting(attempt: attempt))
            // Jittered exponential backoff: 0.25 s, 0.5 s, 1 s … capped at 8 s, ±50 %.
            let base = min(8.0, 0.25 * pow(2, Double(attempt - 1)))
            try? await Task.sleep(for: .milliseconds(Int(base * Double.random(in: 0.5...1.5) * 1000)))
            guard !isStopped else { return }
            do {
                let grant = try await central.admit(deviceID: deviceID, holder: ProcessInfo.processInfo.hostName, resumeSessionID: sessionID)
                connect(grant: grant, resume: true)
                return
            } catch {
                if error.code == .sessionNotResumable || (error.status >= 400 && error.status < 500 && error.code != .rateLimited) {
                    eventSink.yield(.error(error.code, error.message))
                    finish(error.code)
                    return
                }
                // Unreachable or 5xx: keep trying.
            }
        }
    }

    private func startHeartbeats() {
        heartbeat?.cancel()
        heartbeat = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(5))
                await self?.heartbeatIfIdle()
            }
        }
    }

    private func heartbeatIfIdle() {
        guard case .streaming = state, Date().timeIntervalSince(lastSentAt) >= 4.5 else { return }
        write(.text(ControlMessage.heartbeat(HeartbeatMessage(sentAt: Date())).encodedText()))
    }

    private func write(_ item: OutboundQueue.Item) {
        lastSentAt = Date()
        guard let outbound, outbound.push(item) else { return }
        // Once per connection: central is taking audio slower than it comes, for 10 s now.
        if outbound.droppedFrames == 1 {
            logger.warning("central reads audio slower than real time; dropping the oldest unsent audio")
        }
    }

    private func finish(_ reason: ErrorCode) {
        guard !isStopped else { return }
        setState(.stopped(reason))
        heartbeat?.cancel()
        outbound?.push(.close)
        outbound?.finish()
        // A link serves one session: its listeners end with it.
        eventSink.finish()
    }

    private func setState(_ newState: LinkState) {
        state = newState
        eventSink.yield(.state(newState))
    }
}
