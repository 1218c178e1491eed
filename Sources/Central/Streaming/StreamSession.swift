import Foundation
import Logging
import Protocol

/// One live session. Its audio frames never come here: the event loop that reads them meters
/// and forwards them through `intake` (`StreamFrameHandler`). The actor handles what is not
/// per frame: control messages, the tick (timeouts, the group-committed checkpoint, quota
/// pushes, heartbeats), asking the license for more when a reservation is spent, and the stop.
/// It outlives its connection for the resume window, so a reconnecting edge continues the same
/// session.
actor StreamSession {
    nonisolated let id: String
    nonisolated let licenseID: String
    nonisolated let deviceFingerprint: String
    nonisolated let clientIP: String
    nonisolated let startedAt: Date
    nonisolated let provider: ProviderInfo
    /// The per-frame state, shared with the event loop under its own lock.
    nonisolated let intake: StreamAudioIntake
    nonisolated let providerSession: any SpeechProviderSession
    /// Control messages to the edge, shared with the event loop so that all go out in one order.
    nonisolated let outbox: StreamOutbox
    /// This provider's stream series.
    nonisolated let metrics: ProviderStreamMetrics

    private let environment: StreamEnvironment
    private var exhaustionCode: ErrorCode = .minutesExhausted
    /// The address of the connection now bound (the allowlist is checked against it).
    private var connectedIP: String
    private var checkpointInFlight: Task<CheckpointOutcome, Never>?
    /// The tick's group commit delivers this session's result here.
    private var batchSlot: AsyncStream<CheckpointResult?>.Continuation?
    private var quota: QuotaSnapshot
    private var warning: QuotaWarning
    private var connection = 0
    private var detachedSince: Date?
    private var lastHeartbeatSentAt: Date
    private(set) var isStopped = false
    /// The edge's own count of what it sent, from its `stop` (clamped: it is only recorded).
    private var edgeSentMs: Int64?
    private var eventPump: Task<Void, Never>?

    /// Where a session taken over from another instance goes on: the stored record.
    private struct Continuation {
        var startedAt: Date
        var meter: SequenceMeter
        var firstAudioSeen: Bool
    }

    private init(
        ticket: StreamTicket, provider: ProviderInfo, providerSession: any SpeechProviderSession,
        first: CheckpointResult, quota: QuotaSnapshot, environment: StreamEnvironment, now: Date,
        continuing: Continuation? = nil
    ) {
        id = ticket.sessionID
        licenseID = ticket.licenseID
        deviceFingerprint = ticket.deviceFingerprint
        clientIP = ticket.clientIP
        startedAt = continuing?.startedAt ?? now
        self.provider = provider
        self.providerSession = providerSession
        self.environment = environment
        self.quota = quota
        warning = QuotaWarning.level(for: quota)
        lastHeartbeatSentAt = now
        connectedIP = ticket.clientIP
        exhaustionCode = first.limitedBy
        metrics = environment.metrics.stream(provider: provider.name)
        outbox = StreamOutbox(capacity: environment.settings.outboundCapacity, metrics: metrics)
        intake = StreamAudioIntake(
            startedAt: continuing?.startedAt ?? now, grantedMicroseconds: (first.billedMs + first.reservedMs) * 1000,
            paceAllowanceMs: environment.settings.paceAllowanceMs, framesPerAck: environment.settings.framesPerAck,
            meter: continuing?.meter ?? SequenceMeter(), billedMs: first.billedMs,
            firstAudioSeen: continuing?.firstAudioSeen ?? false, now: now)
    }

    /// Opens the provider task and the session record.
    static func open(ticket: StreamTicket, start: StartMessage, environment: StreamEnvironment) async throws -> StreamSession {
        let choice = try await environment.store.license(id: ticket.licenseID)?.provider
        let provider = try environment.providers.provider(for: choice, source: start.sourceLanguage, target: start.targetLanguage)
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
            firstAudioAt: nil, lastCheckpointAt: nil, billedMs: 0, lastSequence: -1, endedAt: nil, stopReason: nil,
            owner: environment.instanceID))
        return try await begin(
            ticket: ticket, start: start, provider: provider, acceptedMs: 0, lastSequence: -1, environment: environment,
            now: now, continuing: nil)
    }

    /// Continues a live session another instance served (a resume that reached this one): takes
    /// it over in the store, then goes on from its stored watermark and next sequence. The other
    /// instance, if it is alive, sees at its next checkpoint that the session moved and drops it
    /// without billing (`CheckpointResult.movedAway`).
    static func takeOver(ticket: StreamTicket, start: StartMessage, environment: StreamEnvironment) async throws -> StreamSession {
        let notResumable = ProtocolError(.sessionNotResumable, "That session can no longer be resumed; start a new one.")
        // The ticket's license and device were checked against the record when it was issued.
        guard let record = try await environment.store.streamSession(id: ticket.sessionID), record.status == .live,
              record.licenseID == ticket.licenseID, record.deviceFingerprint == ticket.deviceFingerprint
        else { throw notResumable }
        let choice = try await environment.store.license(id: ticket.licenseID)?.provider
        let provider = try environment.providers.provider(for: choice, source: start.sourceLanguage, target: start.targetLanguage)
        let now = environment.clock.now()
        guard let taken = try await environment.store.takeOverStreamSession(id: ticket.sessionID, owner: environment.instanceID, now: now)
        else { throw notResumable }
        let continuing = Continuation(
            startedAt: taken.startedAt,
            meter: SequenceMeter(nextSequence: taken.lastSequence + 1, acceptedMicroseconds: taken.billedMs * 1000),
            firstAudioSeen: taken.firstAudioAt != nil)
        return try await begin(
            ticket: ticket, start: start, provider: provider, acceptedMs: taken.billedMs, lastSequence: taken.lastSequence,
            environment: environment, now: now, continuing: continuing)
    }

    /// The session's first checkpoint (its reservation), then its provider task: the store
    /// decides whether it may stream at all before a provider task (which the vendor pays for)
    /// opens. A refusal closes the record and gives its reservation back.
    private static func begin(
        ticket: StreamTicket, start: StartMessage, provider: any SpeechProvider, acceptedMs: Int64, lastSequence: Int64,
        environment: StreamEnvironment, now: Date, continuing: Continuation?
    ) async throws -> StreamSession {
        let (store, owner) = (environment.store, environment.instanceID)
        let first: CheckpointResult
        do {
            first = try await store.checkpointStreamSession(
                id: ticket.sessionID, acceptedMs: acceptedMs, lastSequence: lastSequence,
                reserveMs: environment.settings.reservationMs, leaseTTL: environment.leaseTTL, owner: owner, now: now)
        } catch {
            try? await store.closeStreamSession(id: ticket.sessionID, owner: owner, reason: .internalError, now: now)
            throw error
        }
        if first.movedAway {
            throw ProtocolError(.sessionNotResumable, "That session was resumed elsewhere; start a new one.")
        }
        let refusal = MeteringPolicy.openRefusal(after: first)
        guard let quota = first.quota, refusal == nil else {
            let error = refusal ?? ProtocolError(.internalError, "The session could not be opened.")
            try await store.closeStreamSession(id: ticket.sessionID, owner: owner, reason: error.code, now: now)
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
            try? await store.closeStreamSession(id: ticket.sessionID, owner: owner, reason: code, now: now)
            if let error = error as? ProviderError { throw ProtocolError(error.code, error.message) }
            throw error
        }
        let session = StreamSession(
            ticket: ticket, provider: provider.info, providerSession: providerSession, first: first, quota: quota,
            environment: environment, now: now, continuing: continuing)
        await session.startEventPump()
        return session
    }

    private func startEventPump() {
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
    /// session over; the old connection's stream ends and its frames are no longer taken.
    func attach(resumed: Bool, clientIP: String) -> (messages: AsyncStream<ControlMessage>, connection: Int) {
        connectedIP = clientIP
        let stream = outbox.open()
        connection = intake.bindConnection(now: environment.clock.now())
        detachedSince = nil
        send(.started(StartedMessage(
            sessionID: id, resumed: resumed, nextSequence: intake.snapshot.meter.nextWireSequence, provider: provider,
            quota: quota, warning: warning)))
        return (stream, connection)
    }

    /// The connection ended without `stop`: keep the session for the resume window. A
    /// connection that was already taken over detaches nothing.
    func detach(connection ended: Int) {
        guard !isStopped, ended == connection else { return }
        outbox.close()
        detachedSince = environment.clock.now()
        metrics.recordStreamEvent("detached")
    }

    var isResumable: Bool { !isStopped }

    /// A week: more than any session, less than anything that could overflow a sum.
    static let longestEdgeCountMs: Int64 = 7 * 86_400_000

    // MARK: Inbound (not audio)

    @discardableResult
    func control(_ message: ControlMessage) async -> Bool {
        intake.noteInbound(at: environment.clock.now())
        switch message {
        case .heartbeat:
            break
        case .stop(let request):
            edgeSentMs = request.sentMs.map { min(max(0, $0), Self.longestEdgeCountMs) }
            await stop(.clientStop, "Stopped by the edge.")
        case .start:
            protocolError(ProtocolError(.unexpectedMessage, "the session has already started"))
        default:
            protocolError(ProtocolError(.unexpectedMessage, "'\(message.type)' is not sent by an edge"))
        }
        return !isStopped
    }

    func protocolError(_ error: ProtocolError) {
        intake.noteInbound(at: environment.clock.now())
        metrics.recordFrame("rejected")
        send(.error(ErrorMessage(code: error.code, message: error.message, fatal: false)))
    }

    /// The session's first audio frame was taken: count the session now, not at the next tick.
    func firstAudioArrived() async {
        await checkpoint()
    }

    /// The reservation is spent and a frame reaching `reachingMicroseconds` waits: ask the
    /// license's shared balance for more. Returns once the frame may go or the session stopped.
    func replenish(reachingMicroseconds: Int64) async {
        let giveUpAt = ContinuousClock.now + environment.settings.storeOutageAllowance
        while !isStopped {
            let recorded = await checkpoint()
            guard !isStopped, !intake.isGranted(reachingMicroseconds: reachingMicroseconds) else { return }
            if recorded {
                await stop(exhaustionCode, StreamStopSentence.exhausted(exhaustionCode))
                return
            }
            // The store did not answer: the frame (and the socket) waits; ask again, bounded.
            // The edge is there (its frame waits), so it does not time out meanwhile.
            intake.noteInbound(at: environment.clock.now())
            guard ContinuousClock.now < giveUpAt else {
                await stop(.unavailable, "Central cannot record usage right now; start again in a moment.")
                return
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    // MARK: Clock

    /// The tick's first half (`StreamCheckpointService`): ends a session whose edge went quiet
    /// or did not resume, otherwise returns its checkpoint for the tick's group commit (nil when
    /// a checkpoint of its own is in flight: the next tick takes it). `endTick` must follow.
    func beginTick() -> CheckpointRequest? {
        guard !isStopped else { return nil }
        let now = environment.clock.now()
        if let detachedSince, now.timeIntervalSince(detachedSince) > environment.settings.resumeWindow {
            Task { await self.stop(.connectionLost, "The connection dropped and was not resumed.") }
            return nil
        }
        if detachedSince == nil, now.timeIntervalSince(intake.snapshot.lastInboundAt) > environment.settings.edgeTimeout {
            Task { await self.stop(.edgeTimeout, "Nothing was received from the edge for \(Int(self.environment.settings.edgeTimeout)) s.") }
            return nil
        }
        guard checkpointInFlight == nil else { return nil }
        let (results, slot) = AsyncStream<CheckpointResult?>.makeStream()
        batchSlot = slot
        checkpointInFlight = Task {
            var iterator = results.makeAsyncIterator()
            let result = await iterator.next() ?? nil
            return self.apply(result, now: self.environment.clock.now())
        }
        return checkpointRequest(reserveMs: environment.settings.reservationMs)
    }

    /// The tick's second half: this session's result of the group commit (nil when the store
    /// failed; the next tick retries, checkpoints being idempotent by their watermark).
    func endTick(_ result: CheckpointResult?) async {
        guard let slot = batchSlot else { return }
        batchSlot = nil
        slot.yield(result)
        slot.finish()
        guard let running = checkpointInFlight else { return }
        let outcome = await running.value
        if checkpointInFlight == running { checkpointInFlight = nil }
        if let (reason, message) = outcome.stop {
            await stop(reason, message)
            return
        }
        let now = environment.clock.now()
        if !isStopped, now.timeIntervalSince(lastHeartbeatSentAt) >= environment.settings.heartbeatInterval {
            lastHeartbeatSentAt = now
            send(.heartbeat(HeartbeatMessage(sentAt: now)))
        }
    }

    /// An operator changed the license: re-read it now rather than at the next tick.
    func licenseChanged() async {
        guard !isStopped else { return }
        await checkpoint()
    }

    private func checkpointRequest(reserveMs: Int64) -> CheckpointRequest {
        let (accepted, last) = intake.watermark
        return CheckpointRequest(
            sessionID: id, acceptedMs: accepted, lastSequence: last, reserveMs: reserveMs, leaseTTL: environment.leaseTTL,
            owner: environment.instanceID)
    }

    /// Checkpoints one at a time: a checkpoint asked for while one is in flight (its own or the
    /// tick's) waits for it and then runs with the newer watermark. Returns whether the store
    /// recorded it. A stop it decides on runs after it is no longer in flight.
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

    private func performCheckpoint() async -> CheckpointOutcome {
        let request = checkpointRequest(reserveMs: environment.settings.reservationMs)
        let now = environment.clock.now()
        let (store, logger, id) = (environment.store, environment.logger, self.id)
        let call = Task { () -> CheckpointResult? in
            do {
                return try await store.checkpointStreamSessions([request], now: now)[id]
            } catch {
                logger.error("checkpoint failed", metadata: ["session": "\(id)", "error": "\(error)"])
                return nil
            }
        }
        return apply(await StoreCallDeadline.value(within: environment.settings.storeCallTimeout, of: call), now: now)
    }

    /// Takes in what a checkpoint decided: the new grant, the quota (pushed with an ack), and
    /// whether the license still allows the stream (`MeteringPolicy.stop`).
    private func apply(_ result: CheckpointResult?, now: Date) -> CheckpointOutcome {
        guard let result else {
            // The next tick retries. Meanwhile the session forwards nothing beyond the
            // reservation it already holds.
            return CheckpointOutcome(recorded: false)
        }
        guard !isStopped else { return CheckpointOutcome(recorded: true) }
        intake.grant(billedMs: result.billedMs, reservedMs: result.reservedMs)
        exhaustionCode = result.limitedBy
        if let quota = result.quota {
            self.quota = quota
            warning = QuotaWarning.level(for: quota)
        }
        if let stop = MeteringPolicy.stop(after: result, clientIP: connectedIP, now: now) {
            return CheckpointOutcome(recorded: true, stop: stop)
        }
        send(.quota(QuotaMessage(quota: quota, warning: warning, sessionBilledMs: result.billedMs, provider: provider)))
        sendAck()
        return CheckpointOutcome(recorded: true)
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
        if let ack = intake.takeAck() { send(.ack(ack)) }
    }

    private func send(_ message: ControlMessage) {
        outbox.send(message)
    }

    // MARK: Stop

    /// Ends the session once: stops taking frames, flushes the provider, bills the last audio,
    /// releases the lease, tells the edge why, and closes.
    func stop(_ reason: ErrorCode, _ message: String) async {
        guard !isStopped else { return }
        isStopped = true
        _ = intake.stop()
        var usage = await providerSession.finish()
        usage.edgeSentMs = edgeSentMs
        await eventPump?.value
        if let running = checkpointInFlight { _ = await running.value }
        if reason == .sessionMoved {
            // Another instance serves it now and bills it from the stored watermark: this one
            // bills, closes and releases nothing, and its (stale) connection just closes. Its
            // provider task was real, though: its part of the provider's account is added.
            recordProviderAccount(usage)
            outbox.close()
            metrics.recordStreamEvent("stopped_\(reason.rawValue)")
            environment.registry.remove(self)
            environment.logger.info("stream moved to another instance", metadata: ["session": "\(id)"])
            return
        }
        // The final bill and the lease release must happen even when the caller's task is being
        // cancelled (the ticker, a closing socket): run them in a task of their own.
        let (accepted, last) = intake.watermark
        let (store, clock, ttl, id, owner) = (environment.store, environment.clock, environment.leaseTTL, self.id, environment.instanceID)
        let closeInStore = { @Sendable () async throws -> CheckpointResult in
            let now = clock.now()
            // Reserving nothing gives the session's reservation back to the license.
            let result = try await store.checkpointStreamSession(
                id: id, acceptedMs: accepted, lastSequence: last, reserveMs: 0, leaseTTL: ttl, owner: owner, now: now)
            // Taken over meanwhile: the new owner closes it, not this one.
            if !result.movedAway {
                try await store.closeStreamSession(id: id, owner: owner, reason: reason, now: now)
            }
            return result
        }
        let closing = Task { try await closeInStore() }
        recordProviderAccount(usage)
        var billedMs = intake.snapshot.billedMs
        let logger = environment.logger
        let bounded = Task { () -> CheckpointResult? in
            do {
                return try await closing.value
            } catch {
                logger.error("closing session failed", metadata: ["session": "\(id)", "error": "\(error)"])
                return nil
            }
        }
        if let final = await StoreCallDeadline.value(within: environment.settings.storeCallTimeout, of: bounded) {
            billedMs = final.billedMs
            intake.grant(billedMs: final.billedMs, reservedMs: 0)
            if let quota = final.quota {
                // The last figures, so the page ends on the real balance (and `exhausted` is pushed).
                self.quota = quota
                warning = QuotaWarning.level(for: quota)
                send(.quota(QuotaMessage(quota: quota, warning: warning, sessionBilledMs: billedMs, provider: provider)))
            }
        } else {
            Self.closeWhenTheStoreIsBack(id: id, first: bounded, closeInStore, logger: logger)
        }
        metrics.recordAudioCounts(
            billedMs: billedMs, edgeSentMs: edgeSentMs, providerAudioMs: usage.audioMs, providerReportedSeconds: usage.reportedSeconds)
        environment.logger.info("stream stopped", metadata: [
            "session": "\(id)", "reason": "\(reason)", "billed_ms": "\(billedMs)", "provider_ms": "\(usage.audioMs)",
        ])
        sendAck()
        send(.stopped(StoppedMessage(sessionID: id, reason: reason, message: message, billedMs: billedMs)))
        outbox.close()
        metrics.recordStreamEvent("stopped_\(reason.rawValue)")
        environment.registry.remove(self)
    }

    /// The provider's own account of this instance's part of the session, kept beside the bill;
    /// failing to record it changes no bill. Not awaited.
    private func recordProviderAccount(_ usage: ProviderUsage) {
        let (store, id, logger) = (environment.store, self.id, environment.logger)
        Task {
            do {
                try await store.recordProviderUsage(sessionID: id, usage: usage)
            } catch {
                logger.warning("could not record provider usage", metadata: ["session": "\(id)", "error": "\(error)"])
            }
        }
    }

    /// Graceful shutdown with other instances alive: bills everything accepted, keeps the session
    /// live in the store (with its lease), and closes the connection without `stopped`, so the
    /// edge resumes through the load balancer and another instance takes it over from there. A
    /// session nobody resumes is settled by the others once this instance's heartbeat lapses.
    func handOff() async {
        guard !isStopped else { return }
        isStopped = true
        _ = intake.stop()
        // The provider's last results still reach the edge before the socket closes.
        let usage = await providerSession.finish()
        await eventPump?.value
        if let running = checkpointInFlight { _ = await running.value }
        let (accepted, last) = intake.watermark
        let (store, ttl, id, owner, now) = (environment.store, environment.leaseTTL, self.id, environment.instanceID, environment.clock.now())
        let call = Task { () -> CheckpointResult? in
            try? await store.checkpointStreamSession(
                id: id, acceptedMs: accepted, lastSequence: last, reserveMs: 0, leaseTTL: ttl, owner: owner, now: now)
        }
        if let result = await StoreCallDeadline.value(within: environment.settings.storeCallTimeout, of: call) {
            intake.grant(billedMs: result.billedMs, reservedMs: 0)
        }
        // This instance's part of the provider's account; the next owner adds its own.
        recordProviderAccount(usage)
        sendAck()
        outbox.close()
        metrics.recordStreamEvent("handed_off")
        environment.registry.remove(self)
        environment.logger.info("stream handed off for another instance", metadata: ["session": "\(id)"])
    }

    /// The store did not answer the final bill (the database is away): the session's last audio
    /// is billed, and its lease freed, once it is back. Retried with backoff for ten minutes;
    /// the checkpoint is idempotent by its watermark, so a retry never bills twice. Past that (or
    /// if this process ends first) the session is settled at its last checkpoint.
    private static func closeWhenTheStoreIsBack(
        id: String, first: Task<CheckpointResult?, Never>,
        _ closeInStore: @escaping @Sendable () async throws -> CheckpointResult, logger: Logger
    ) {
        Task.detached {
            // The first attempt may still answer (the store was only slow).
            if await first.value != nil { return }
            var delay = 1.0
            let deadline = ContinuousClock.now + .seconds(600)
            while ContinuousClock.now < deadline {
                try? await Task.sleep(for: .seconds(delay))
                delay = min(delay * 2, 15)
                if let final = try? await closeInStore() {
                    logger.notice("session billed after the store came back", metadata: [
                        "session": "\(id)", "billed_ms": "\(final.billedMs)",
                    ])
                    return
                }
            }
            logger.error("session could not be billed; it is settled at its last checkpoint", metadata: ["session": "\(id)"])
        }
    }

    /// For the admin view.
    func snapshot() -> LiveSessionView {
        let state = intake.snapshot
        return LiveSessionView(
            sessionID: id, licenseID: licenseID, deviceFingerprint: deviceFingerprint, clientIP: clientIP,
            startedAt: startedAt, seconds: Double(state.meter.acceptedMs) / 1000, billedMs: state.billedMs,
            provider: provider.name, demo: provider.demo, connected: outbox.isOpen, instance: environment.instanceID)
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
    /// False while the session waits for its edge to resume; nil when another instance serves it.
    public var connected: Bool?
    /// The central instance serving it.
    public var instance: String?

    /// A session another instance serves, as the store knows it (billed to its last checkpoint).
    init(record: StreamSessionRecord) {
        self.init(
            sessionID: record.id, licenseID: record.licenseID, deviceFingerprint: record.deviceFingerprint,
            clientIP: record.clientIP, startedAt: record.startedAt, seconds: Double(record.billedMs) / 1000,
            billedMs: record.billedMs, provider: record.provider, demo: record.provider == DemoSpeechProvider.name,
            connected: nil, instance: record.owner)
    }

    init(
        sessionID: String, licenseID: String, deviceFingerprint: String, clientIP: String, startedAt: Date, seconds: Double,
        billedMs: Int64, provider: String, demo: Bool, connected: Bool?, instance: String?
    ) {
        self.sessionID = sessionID
        self.licenseID = licenseID
        self.deviceFingerprint = deviceFingerprint
        self.clientIP = clientIP
        self.startedAt = startedAt
        self.seconds = seconds
        self.billedMs = billedMs
        self.provider = provider
        self.demo = demo
        self.connected = connected
        self.instance = instance
    }

    enum CodingKeys: String, CodingKey {
        case sessionID = "session_id"
        case licenseID = "license_id"
        case deviceFingerprint = "device_fingerprint"
        case clientIP = "client_ip"
        case startedAt = "started_at"
        case seconds
        case billedMs = "billed_ms"
        case provider, demo, connected, instance
    }
}
