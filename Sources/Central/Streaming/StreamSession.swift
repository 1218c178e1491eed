import Foundation
import Logging
import Protocol

/// One live session: meters audio by sequence, relays it to the provider, checkpoints usage,
/// pushes quota, and stops the stream when the license says so. It outlives its connection for
/// the resume window, so a reconnecting edge continues the same session.
actor StreamSession {
    nonisolated let id: String
    nonisolated let licenseID: String
    nonisolated let deviceFingerprint: String
    nonisolated let clientIP: String
    nonisolated let startedAt: Date
    nonisolated let provider: ProviderInfo

    private let environment: StreamEnvironment
    private let providerSession: any SpeechProviderSession
    private var meter = SequenceMeter()
    private var billedMs: Int64 = 0
    /// Accepted audio at which the license runs out, as of the last checkpoint.
    private var stopAtMs: Int64 = .max
    private var exhaustionCode: ErrorCode = .minutesExhausted
    private var quota: QuotaSnapshot
    private var warning: QuotaWarning
    private var outbound: AsyncStream<ControlMessage>.Continuation?
    private var connection = 0
    private var detachedSince: Date?
    private var lastInboundAt: Date
    private var lastHeartbeatSentAt: Date
    private var framesSinceAck = 0
    private var sessionCounted = false
    private(set) var isStopped = false
    private var ticker: Task<Void, Never>?
    private var eventPump: Task<Void, Never>?

    private init(
        ticket: StreamTicket, provider: ProviderInfo, providerSession: any SpeechProviderSession,
        first: CheckpointResult, quota: QuotaSnapshot, environment: StreamEnvironment, now: Date
    ) {
        id = ticket.sessionID
        licenseID = ticket.licenseID
        deviceFingerprint = ticket.deviceFingerprint
        clientIP = ticket.clientIP
        startedAt = now
        self.provider = provider
        self.providerSession = providerSession
        self.environment = environment
        self.quota = quota
        warning = QuotaWarning.level(for: quota)
        lastInboundAt = now
        lastHeartbeatSentAt = now
        stopAtMs = first.remainingMs
    }

    /// Opens the provider task and the session record, and starts the session's clock.
    static func open(ticket: StreamTicket, start: StartMessage, environment: StreamEnvironment) async throws -> StreamSession {
        let provider = environment.provider
        guard provider.supports(source: start.sourceLanguage, target: start.targetLanguage) else {
            throw ProtocolError(.unsupportedLanguagePair, "\(provider.info.name) cannot translate \(start.sourceLanguage) to \(start.targetLanguage ?? "-")")
        }
        guard start.codec.name == "opus", start.codec.channels == 1 else {
            throw ProtocolError(.invalidMessage, "start: only mono Opus is supported")
        }
        let now = environment.clock.now()
        let providerSession: any SpeechProviderSession
        do {
            providerSession = try await provider.openSession(ProviderSessionConfiguration(
                sessionID: ticket.sessionID, sourceLanguage: start.sourceLanguage, targetLanguage: start.targetLanguage,
                codec: start.codec))
        } catch let error as ProviderError {
            throw ProtocolError(error.code, error.message)
        }
        let first: CheckpointResult
        do {
            try await environment.store.openStreamSession(StreamSessionRecord(
                id: ticket.sessionID, licenseID: ticket.licenseID, leaseID: ticket.leaseID,
                deviceFingerprint: ticket.deviceFingerprint, clientIP: ticket.clientIP, provider: provider.info.name,
                sourceLanguage: start.sourceLanguage, targetLanguage: start.targetLanguage, status: .live, startedAt: now,
                firstAudioAt: nil, lastCheckpointAt: nil, billedMs: 0, lastSequence: -1, endedAt: nil, stopReason: nil))
            first = try await environment.store.checkpointStreamSession(
                id: ticket.sessionID, acceptedMs: 0, lastSequence: -1, leaseTTL: environment.leaseTTL, now: now)
        } catch {
            // The provider task is already open: close it, or it outlives the refused start.
            providerSession.cancel()
            throw error
        }
        guard let quota = first.quota else {
            providerSession.cancel()
            try await environment.store.closeStreamSession(id: ticket.sessionID, reason: .licenseNotFound, now: now)
            throw ProtocolError(.licenseNotFound, "the license no longer exists")
        }
        let session = StreamSession(
            ticket: ticket, provider: provider.info, providerSession: providerSession, first: first, quota: quota,
            environment: environment, now: now)
        await session.startClocks()
        return session
    }

    private func startClocks() {
        let interval = environment.settings.tickInterval
        ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, await !self.isStopped else { return }
                await self.tick()
            }
        }
        let events = providerSession.events
        eventPump = Task { [weak self] in
            for await event in events {
                await self?.deliver(event)
            }
        }
    }

    // MARK: Connection

    /// Binds a connection: returns the messages to write to it, starting with `started`, and
    /// the connection's number. A second attach (a resume racing a half-dead socket) takes the
    /// session over; the old connection's stream ends.
    func attach(resumed: Bool) -> (messages: AsyncStream<ControlMessage>, connection: Int) {
        outbound?.finish()
        let (stream, continuation) = AsyncStream<ControlMessage>.makeStream(
            bufferingPolicy: .bufferingOldest(environment.settings.outboundCapacity))
        outbound = continuation
        connection += 1
        detachedSince = nil
        lastInboundAt = environment.clock.now()
        send(.started(StartedMessage(
            sessionID: id, resumed: resumed, nextSequence: meter.nextSequence, provider: provider, quota: quota,
            warning: warning)))
        return (stream, connection)
    }

    /// The connection ended without `stop`: keep the session for the resume window. A
    /// connection that was already taken over detaches nothing.
    func detach(connection ended: Int) {
        guard !isStopped, ended == connection else { return }
        outbound?.finish()
        outbound = nil
        detachedSince = environment.clock.now()
        environment.metrics.recordStreamEvent("detached")
    }

    var isResumable: Bool { !isStopped }

    // MARK: Inbound

    /// Meters and relays one frame. Returns false once the session has stopped (the hot path
    /// learns it here instead of asking the actor a second time).
    @discardableResult
    func audio(_ frame: AudioFrame) async -> Bool {
        let now = environment.clock.now()
        lastInboundAt = now
        guard !isStopped else { return false }
        if meter.isDuplicate(frame.sequence) {
            environment.metrics.recordFrame("duplicate")
            return true
        }
        guard providerSession.send(frame) else {
            // The provider is not keeping up: the frame is refused, not queued without bound, and not billed.
            environment.metrics.recordFrame("dropped_provider_backpressure")
            return true
        }
        if case .acceptedAfterGap = meter.meter(sequence: frame.sequence, durationMicroseconds: frame.durationMicroseconds) {
            environment.metrics.recordFrame("gap")
        }
        environment.metrics.recordAcceptedFrame(
            relayMicroseconds: Int64(now.timeIntervalSince1970 * 1_000_000) - Int64(clamping: frame.captureTimeMicroseconds))
        framesSinceAck += 1
        if framesSinceAck >= environment.settings.framesPerAck {
            sendAck()
        }
        if meter.acceptedMs >= stopAtMs {
            await stop(exhaustionCode, "No time is left on this license.")
            return false
        }
        if !sessionCounted {
            // The session counts against the session quota at its first audio frame.
            sessionCounted = true
            await checkpoint()
        }
        return !isStopped
    }

    @discardableResult
    func control(_ message: ControlMessage) async -> Bool {
        lastInboundAt = environment.clock.now()
        switch message {
        case .heartbeat:
            break
        case .stop:
            await stop(.clientStop, "Stopped by the edge.")
        case .start:
            protocolError(ProtocolError(.unexpectedMessage, "the session has already started"))
        default:
            protocolError(ProtocolError(.unexpectedMessage, "'\(message.type)' is not sent by an edge"))
        }
        return !isStopped
    }

    func protocolError(_ error: ProtocolError) {
        lastInboundAt = environment.clock.now()
        environment.metrics.recordFrame("rejected")
        send(.error(ErrorMessage(code: error.code, message: error.message, fatal: false)))
    }

    // MARK: Clock

    func tick() async {
        guard !isStopped else { return }
        let now = environment.clock.now()
        if let detachedSince, now.timeIntervalSince(detachedSince) > environment.settings.resumeWindow {
            await stop(.connectionLost, "The connection dropped and was not resumed.")
            return
        }
        if detachedSince == nil, now.timeIntervalSince(lastInboundAt) > environment.settings.edgeTimeout {
            await stop(.edgeTimeout, "Nothing was received from the edge for \(Int(environment.settings.edgeTimeout)) s.")
            return
        }
        await checkpoint()
        guard !isStopped else { return }
        if now.timeIntervalSince(lastHeartbeatSentAt) >= environment.settings.heartbeatInterval {
            lastHeartbeatSentAt = now
            send(.heartbeat(HeartbeatMessage(sentAt: now)))
        }
    }

    /// An operator changed the license: re-read it now rather than at the next tick.
    func licenseChanged() async {
        guard !isStopped else { return }
        await checkpoint()
    }

    /// Bills accepted audio, renews the lease, refreshes the quota, pushes it, and stops the
    /// stream if the license no longer allows it.
    private func checkpoint() async {
        let now = environment.clock.now()
        let result: CheckpointResult
        do {
            result = try await environment.store.checkpointStreamSession(
                id: id, acceptedMs: meter.acceptedMs, lastSequence: meter.lastSequence,
                leaseTTL: environment.leaseTTL, now: now)
        } catch {
            // The next tick retries; checkpoints are idempotent by their watermark.
            environment.logger.error("checkpoint failed", metadata: ["session": "\(id)", "error": "\(error)"])
            return
        }
        billedMs = result.billedMs
        guard let license = result.license, let quota = result.quota else {
            await stop(.licenseRevoked, "The license was deleted.")
            return
        }
        self.quota = quota
        stopAtMs = result.billedMs + result.remainingMs
        exhaustionCode = license.remainingMs <= result.remainingMs ? .minutesExhausted : .dailyLimitReached
        warning = QuotaWarning.level(for: quota)
        if let refusal = Self.stopReason(license: license, now: now) {
            await stop(refusal.0, refusal.1)
            return
        }
        send(.quota(QuotaMessage(quota: quota, warning: warning, sessionBilledMs: billedMs, provider: provider)))
        sendAck()
        if meter.acceptedMs >= stopAtMs {
            await stop(exhaustionCode, "No time is left on this license.")
        }
    }

    static func stopReason(license: License, now: Date) -> (ErrorCode, String)? {
        switch license.status {
        case .revoked: return (.licenseRevoked, "The license was revoked.")
        case .suspended: return (.licenseSuspended, "The license was suspended.")
        case .active: break
        }
        if let expiresAt = license.expiresAt, now >= expiresAt { return (.licenseExpired, "The license expired.") }
        return nil
    }

    // MARK: Outbound

    private func deliver(_ event: ProviderEvent) async {
        switch event {
        case .transcript(let result): send(.transcript(result))
        case .translation(let result): send(.translation(result))
        case .failed(let code, let message):
            // Not awaited: stop() waits for this event pump to drain.
            Task { await self.stop(code, message) }
        }
    }

    private func sendAck() {
        framesSinceAck = 0
        guard meter.lastSequence >= 0 else { return }
        send(.ack(AckMessage(lastSequence: meter.nextSequence &- 1, billedMs: billedMs)))
    }

    private func send(_ message: ControlMessage) {
        guard let outbound else { return }
        if case .dropped = outbound.yield(message) {
            environment.metrics.recordFrame("dropped_slow_edge")
        }
    }

    // MARK: Stop

    /// Ends the session once: flushes the provider, bills the last audio, releases the lease,
    /// tells the edge why, and closes.
    func stop(_ reason: ErrorCode, _ message: String) async {
        guard !isStopped else { return }
        isStopped = true
        let usage = await providerSession.finish()
        await eventPump?.value
        // The final bill and the lease release must happen even when the caller's task is being
        // cancelled (the ticker, a closing socket): run them in a task of their own.
        let (store, clock, ttl, accepted, last, id) = (
            environment.store, environment.clock, environment.leaseTTL, meter.acceptedMs, meter.lastSequence, self.id)
        let closing = Task { () throws -> Int64 in
            let now = clock.now()
            let result = try await store.checkpointStreamSession(
                id: id, acceptedMs: accepted, lastSequence: last, leaseTTL: ttl, now: now)
            try await store.closeStreamSession(id: id, reason: reason, now: now)
            return result.billedMs
        }
        // The provider's own account is kept beside the bill; failing to record it changes no bill.
        Task { [logger = environment.logger] in
            do {
                try await store.recordProviderUsage(sessionID: id, usage: usage)
            } catch {
                logger.warning("could not record provider usage", metadata: ["session": "\(id)", "error": "\(error)"])
            }
        }
        do {
            billedMs = try await closing.value
        } catch {
            environment.logger.error("closing session failed", metadata: ["session": "\(id)", "error": "\(error)"])
        }
        environment.logger.info("stream stopped", metadata: [
            "session": "\(id)", "reason": "\(reason)", "billed_ms": "\(billedMs)", "provider_ms": "\(usage.audioMs)",
        ])
        send(.stopped(StoppedMessage(sessionID: id, reason: reason, message: message, billedMs: billedMs)))
        outbound?.finish()
        outbound = nil
        environment.metrics.recordStreamEvent("stopped_\(reason.rawValue)")
        environment.registry.remove(self)
    }

    /// For the admin view.
    func snapshot() -> LiveSessionView {
        LiveSessionView(
            sessionID: id, licenseID: licenseID, deviceFingerprint: deviceFingerprint, clientIP: clientIP,
            startedAt: startedAt, seconds: Double(meter.acceptedMs) / 1000, billedMs: billedMs, provider: provider.name,
            demo: provider.demo, connected: outbound != nil)
    }
}

/// A live session as `GET /v1/admin/sessions` shows it.
public struct LiveSessionView: Sendable, Codable, Equatable {
    public var sessionID: String
    public var licenseID: String
    public var deviceFingerprint: String
    public var clientIP: String
    public var startedAt: Date
    /// Audio accepted so far.
    public var seconds: Double
    public var billedMs: Int64
    public var provider: String
    public var demo: Bool
    /// False while the session waits for its edge to resume.
    public var connected: Bool

    enum CodingKeys: String, CodingKey {
        case sessionID = "session_id"
        case licenseID = "license_id"
        case deviceFingerprint = "device_fingerprint"
        case clientIP = "client_ip"
        case startedAt = "started_at"
        case seconds
        case billedMs = "billed_ms"
        case provider, demo, connected
    }
}
