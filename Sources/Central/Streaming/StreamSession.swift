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
    /// Accepted audio (µs) the session may reach: its billed total plus the reservation the
    /// store granted it from the license's shared balance at the last checkpoint.
    private var allowanceMicroseconds: Int64 = 0
    private var exhaustionCode: ErrorCode = .minutesExhausted
    /// The address of the connection now bound (the allowlist is checked against it).
    private var connectedIP: String
    private var checkpointInFlight: Task<CheckpointOutcome, Never>?
    private var lastPaceWarningAt: Date?
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
        connectedIP = ticket.clientIP
        allowanceMicroseconds = (first.billedMs + first.reservedMs) * 1000
        exhaustionCode = first.limitedBy
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
        // The store first: the session record, its lease and its first reservation decide
        // whether it may stream at all, before a provider task (which the vendor pays for) opens.
        try await environment.store.openStreamSession(StreamSessionRecord(
            id: ticket.sessionID, licenseID: ticket.licenseID, leaseID: ticket.leaseID,
            deviceFingerprint: ticket.deviceFingerprint, clientIP: ticket.clientIP, provider: provider.info.name,
            sourceLanguage: start.sourceLanguage, targetLanguage: start.targetLanguage, status: .live, startedAt: now,
            firstAudioAt: nil, lastCheckpointAt: nil, billedMs: 0, lastSequence: -1, endedAt: nil, stopReason: nil))
        let first: CheckpointResult
        do {
            first = try await environment.store.checkpointStreamSession(
                id: ticket.sessionID, acceptedMs: 0, lastSequence: -1, reserveMs: environment.settings.reservationMs,
                leaseTTL: environment.leaseTTL, now: now)
        } catch {
            try? await environment.store.closeStreamSession(id: ticket.sessionID, reason: .internalError, now: now)
            throw error
        }
        let refusal: ProtocolError? = if first.quota == nil {
            ProtocolError(.licenseNotFound, "The license no longer exists.")
        } else if !first.leaseHeld {
            ProtocolError(.leaseLost, "The session's lease was released or lapsed before the stream opened. Ask for admission again.")
        } else if first.reservedMs == 0 {
            ProtocolError(first.limitedBy, StreamStopSentence.exhausted(first.limitedBy))
        } else {
            nil
        }
        guard let quota = first.quota, refusal == nil else {
            let error = refusal ?? ProtocolError(.internalError, "The session could not be opened.")
            try await environment.store.closeStreamSession(id: ticket.sessionID, reason: error.code, now: now)
            throw error
        }
        let providerSession: any SpeechProviderSession
        do {
            providerSession = try await provider.openSession(ProviderSessionConfiguration(
                sessionID: ticket.sessionID, sourceLanguage: start.sourceLanguage, targetLanguage: start.targetLanguage,
                codec: start.codec))
        } catch {
            // The record goes, and its reservation back to the license.
            let code = (error as? ProviderError)?.code ?? .providerUnavailable
            try? await environment.store.closeStreamSession(id: ticket.sessionID, reason: code, now: now)
            if let error = error as? ProviderError { throw ProtocolError(error.code, error.message) }
            throw error
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
    func attach(resumed: Bool, clientIP: String) -> (messages: AsyncStream<ControlMessage>, connection: Int) {
        outbound?.finish()
        connectedIP = clientIP
        let (stream, continuation) = AsyncStream<ControlMessage>.makeStream(
            bufferingPolicy: .bufferingOldest(environment.settings.outboundCapacity))
        outbound = continuation
        connection += 1
        detachedSince = nil
        lastInboundAt = environment.clock.now()
        send(.started(StartedMessage(
            sessionID: id, resumed: resumed, nextSequence: meter.nextWireSequence, provider: provider, quota: quota,
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

    /// Meters and relays one frame. Returns false once the session has stopped or `from` is no
    /// longer its connection (the hot path learns it here instead of asking the actor again).
    ///
    /// A frame is forwarded only inside the session's reservation and the pace allowance, and
    /// it is metered (and so acked) only once the provider has taken it: when the provider is
    /// full this waits, and the caller stops reading the socket meanwhile.
    @discardableResult
    func audio(_ frame: AudioFrame, connection from: Int) async -> Bool {
        let now = environment.clock.now()
        lastInboundAt = now
        guard !isStopped, from == connection else { return false }
        switch meter.classify(frame.sequence) {
        case .new: break
        case .duplicate:
            environment.metrics.recordFrame("duplicate")
            return true
        case .jumpTooFar:
            protocolError(ProtocolError(
                .malformedFrame, "Frame \(frame.sequence) jumps more than \(SequenceMeter.maxForwardJump) past \(meter.nextSequence); it was not accepted."))
            return true
        case .exhausted:
            protocolError(ProtocolError(.malformedFrame, "The sequence numbers are used up; start a new session."))
            return true
        }
        let frameMicroseconds = Int64(frame.durationMicroseconds)
        let reaching = meter.acceptedMicroseconds + frameMicroseconds
        guard reaching <= paceLimitMicroseconds(at: now) else {
            refuseTooFast(frame, now: now)
            return true
        }
        var failedCheckpoints = 0
        while reaching > allowanceMicroseconds {
            // The reservation is spent: ask the shared balance for more before forwarding.
            let recorded = await checkpoint()
            guard !isStopped else { return false }
            if reaching <= allowanceMicroseconds { break }
            if recorded {
                await stop(exhaustionCode, StreamStopSentence.exhausted(exhaustionCode))
                return false
            }
            // The store did not answer: hold the frame (and the socket) and ask again, bounded.
            failedCheckpoints += 1
            guard failedCheckpoints < 20 else {
                await stop(.unavailable, "Central cannot record usage right now; start again in a moment.")
                return false
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
        guard await forward(frame) else { return !isStopped }
        if case .new(let missing) = meter.meter(sequence: frame.sequence, durationMicroseconds: frame.durationMicroseconds),
           missing > 0
        {
            environment.metrics.recordFrame("gap")
        }
        environment.metrics.recordAcceptedFrame(
            relayMicroseconds: Int64(now.timeIntervalSince1970 * 1_000_000) - Int64(clamping: frame.captureTimeMicroseconds))
        framesSinceAck += 1
        if framesSinceAck >= environment.settings.framesPerAck {
            sendAck()
        }
        if !sessionCounted {
            // The session counts against the session quota at its first audio frame.
            sessionCounted = true
            await checkpoint()
        }
        return !isStopped
    }

    /// Hands the frame to the provider, waiting (bounded) while its queue is full. False when
    /// the frame was not taken; the session has then stopped, or stops here.
    private func forward(_ frame: AudioFrame) async -> Bool {
        if providerSession.send(frame) { return true }
        environment.metrics.recordFrame("provider_backpressure")
        let taken = await providerSession.send(frame, waitingUpTo: environment.settings.providerStallTimeout)
        guard !isStopped else { return false }
        guard taken else {
            await stop(.providerTimeout, "The speech service stopped accepting audio.")
            return false
        }
        return true
    }

    /// Audio may run ahead of the wall clock (since the session opened) by the replay allowance.
    private func paceLimitMicroseconds(at now: Date) -> Int64 {
        let elapsed = Int64(max(0, now.timeIntervalSince(startedAt)) * 1_000_000)
        return elapsed + environment.settings.paceAllowanceMs * 1000
    }

    private func refuseTooFast(_ frame: AudioFrame, now: Date) {
        environment.metrics.recordFrame("refused_too_fast")
        // One error a second is enough for the edge to notice; the frames are simply not taken.
        if let last = lastPaceWarningAt, now.timeIntervalSince(last) < 1 { return }
        lastPaceWarningAt = now
        send(.error(ErrorMessage(
            code: .audioTooFast,
            message: "Frame \(frame.sequence) runs more than \(environment.settings.paceAllowanceMs / 1000) s ahead of real time; it was not accepted. Send audio at real-time pace.",
            fatal: false)))
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

    /// Checkpoints one at a time: a checkpoint asked for while one is in flight waits for it
    /// and then runs with the newer watermark. Returns whether the store recorded it. A stop
    /// it decides on runs after it is no longer in flight (stop waits for in-flight checkpoints).
    @discardableResult
    private func checkpoint() async -> Bool {
        while let running = checkpointInFlight {
            _ = await running.value
            if checkpointInFlight == running { checkpointInFlight = nil }
        }
        guard !isStopped else { return true }
        let task = Task { await self.performCheckpoint() }
        checkpointInFlight = task
        let outcome = await task.value
        if checkpointInFlight == task { checkpointInFlight = nil }
        if let (reason, message) = outcome.stop {
            await stop(reason, message)
        }
        return outcome.recorded
    }

    private struct CheckpointOutcome {
        var recorded: Bool
        var stop: (ErrorCode, String)?
    }

    /// Bills accepted audio, takes a new reservation from the license's shared balance, renews
    /// the lease, refreshes and pushes the quota, and decides whether the license still allows
    /// the stream.
    private func performCheckpoint() async -> CheckpointOutcome {
        let now = environment.clock.now()
        let result: CheckpointResult
        do {
            result = try await environment.store.checkpointStreamSession(
                id: id, acceptedMs: meter.acceptedMs, lastSequence: meter.lastSequence,
                reserveMs: environment.settings.reservationMs, leaseTTL: environment.leaseTTL, now: now)
        } catch {
            // The next tick retries; checkpoints are idempotent by their watermark. Meanwhile
            // the session forwards nothing beyond the reservation it already holds.
            environment.logger.error("checkpoint failed", metadata: ["session": "\(id)", "error": "\(error)"])
            return CheckpointOutcome(recorded: false)
        }
        guard !isStopped else { return CheckpointOutcome(recorded: true) }
        billedMs = result.billedMs
        allowanceMicroseconds = (result.billedMs + result.reservedMs) * 1000
        exhaustionCode = result.limitedBy
        guard let license = result.license, let quota = result.quota else {
            return CheckpointOutcome(recorded: true, stop: (.licenseNotFound, "The license was deleted."))
        }
        self.quota = quota
        warning = QuotaWarning.level(for: quota)
        if let refusal = Self.stopReason(license: license, now: now) {
            return CheckpointOutcome(recorded: true, stop: refusal)
        }
        guard result.leaseHeld else {
            return CheckpointOutcome(recorded: true, stop: (.leaseLost, "The session's lease was released or lapsed."))
        }
        guard license.ipAllowlist.allows(connectedIP) else {
            return CheckpointOutcome(
                recorded: true, stop: (.ipNotAllowed, "This address is no longer allowed to use the license."))
        }
        send(.quota(QuotaMessage(quota: quota, warning: warning, sessionBilledMs: billedMs, provider: provider)))
        sendAck()
        if result.reservedMs == 0 {
            return CheckpointOutcome(recorded: true, stop: (exhaustionCode, StreamStopSentence.exhausted(exhaustionCode)))
        }
        return CheckpointOutcome(recorded: true)
    }

    /// The license's own state ends a live stream (and refuses a stream or resume) as it
    /// refuses admission: one rule, `AdmissionPolicy.stateRefusal`.
    static func stopReason(license: License, now: Date) -> (ErrorCode, String)? {
        AdmissionPolicy.stateRefusal(license, now: now).map { ($0, StreamStopSentence.licenseState($0)) }
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
        send(.ack(AckMessage(lastSequence: UInt32(clamping: meter.lastSequence), billedMs: billedMs)))
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
        if let running = checkpointInFlight { _ = await running.value }
        // The final bill and the lease release must happen even when the caller's task is being
        // cancelled (the ticker, a closing socket): run them in a task of their own.
        let (store, clock, ttl, accepted, last, id) = (
            environment.store, environment.clock, environment.leaseTTL, meter.acceptedMs, meter.lastSequence, self.id)
        let closing = Task { () throws -> CheckpointResult in
            let now = clock.now()
            // Reserving nothing gives the session's reservation back to the license.
            let result = try await store.checkpointStreamSession(
                id: id, acceptedMs: accepted, lastSequence: last, reserveMs: 0, leaseTTL: ttl, now: now)
            try await store.closeStreamSession(id: id, reason: reason, now: now)
            return result
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
            let final = try await closing.value
            billedMs = final.billedMs
            if let quota = final.quota {
                // The last figures, so the page ends on the real balance (and `exhausted` is pushed).
                self.quota = quota
                warning = QuotaWarning.level(for: quota)
                send(.quota(QuotaMessage(quota: quota, warning: warning, sessionBilledMs: billedMs, provider: provider)))
            }
        } catch {
            environment.logger.error("closing session failed", metadata: ["session": "\(id)", "error": "\(error)"])
        }
        environment.logger.info("stream stopped", metadata: [
            "session": "\(id)", "reason": "\(reason)", "billed_ms": "\(billedMs)", "provider_ms": "\(usage.audioMs)",
        ])
        sendAck()
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
