import Foundation
import Logging
import Protocol

/// Runs one translation at a time: starts and stops the session (`CentralLink`) and its audio
/// (`CapturePipeline`, from ALSA or the `BrowserMicrophone`), keeps the `EdgeStatus`, and tells
/// the pages (`PageHub`) what happens.
public actor TranslationController {
    let configuration: EdgeConfiguration
    let audio: any AudioSource
    let central: CentralClient
    let deviceID: String
    let logger: Logger
    let makeLink: @Sendable () -> CentralLink

    /// The pages listening on `/ws`; events reach them without a hop onto this actor.
    public nonisolated let pages = PageHub()
    /// The page's own microphone; /ws binary messages feed it without a hop onto this actor.
    public nonisolated let browserMicrophone = BrowserMicrophone()

    private var link: CentralLink?
    private var capture: AudioCapture?
    private var tasks: [Task<Void, Never>] = []
    private var status = EdgeStatus(link: .idle, audio: .idle)
    /// What central last said of the quota (settled after a session that ran out), while it
    /// still answers.
    private var latestQuota: QuotaMessage?
    /// The request for more minutes the pages saw last: an approval since then reloads the quota.
    private var lastMinutesRequest: MinutesRequestNotice?
    /// Reads the quota for the pages while they listen and no session runs.
    private var quotaWatch: Task<Void, Never>?

    public init(
        configuration: EdgeConfiguration, audio: any AudioSource, central: CentralClient, deviceID: String,
        logger: Logger, makeLink: @escaping @Sendable () -> CentralLink
    ) {
        self.configuration = configuration
        self.audio = audio
        self.central = central
        self.deviceID = deviceID
        self.logger = logger
        self.makeLink = makeLink
    }

    public enum ControlError: Error, Equatable {
        case alreadyStreaming
        case notStreaming
        case encoder(String)
        /// The start named a device the edge does not offer (see `CaptureDeviceChoice`).
        case invalidDevice
    }

    // MARK: Page side

    /// A page joins `/ws`. It hears the whole status and the quota from there, first as a
    /// greeting and then as they change: it asks no other endpoint for them.
    public func subscribe() -> (UUID, AsyncStream<TranslationEvent>) {
        let subscription = pages.add(greeting: [.state(currentStatus())] + (latestQuota.map { [.quota($0)] } ?? []))
        if latestQuota == nil { Task { _ = try? await self.readQuota() } }
        watchQuota()
        return subscription
    }

    public func unsubscribe(_ id: UUID) {
        let left = pages.remove(id)
        if left == 0 {
            quotaWatch?.cancel()
            quotaWatch = nil
        }
        // A browser-microphone page that went away (closed, crashed) cannot send audio any more:
        // end its session rather than hold a concurrency slot with nothing to stream.
        if browserMicrophone.pageLeft(id, pagesLeft: left) {
            logger.info("the page feeding the browser microphone went away; stopping")
            Task { try? await self.stop() }
        }
    }

    /// Opening a device is I/O on this actor: pages poll status, so one answer serves 2 s.
    private static let probeInterval: Duration = .seconds(2)
    private var lastProbe: (at: ContinuousClock.Instant, problem: String?)?

    private func probeCapture() -> String? {
        let now = ContinuousClock.now
        if let lastProbe, now - lastProbe.at < Self.probeInterval { return lastProbe.problem }
        let problem = audio.probe(device: configuration.audioDevice)
        lastProbe = (now, problem)
        return problem
    }

    public func currentStatus() -> EdgeStatus {
        // While capturing, the device is ours and busy; otherwise ask ALSA whether it would open.
        if capture == nil || capture?.isStopRequested == true || browserMicrophone.isCapturing {
            let problem = probeCapture()
            status.alsaAvailable = problem == nil
            if let problem, status.audio == .idle || status.audio == .noDevice {
                status.audio = .noDevice
                status.audioMessage = problem
            } else if problem == nil, status.audio == .noDevice, capture == nil {
                status.audio = .idle
                status.audioMessage = nil
            }
        } else {
            status.alsaAvailable = true
        }
        return status
    }

    /// During a session the latest quota central pushed; otherwise a fresh one from central
    /// (which the pages hear too).
    public func quota() async throws(CentralClient.Refusal) -> QuotaSnapshot {
        if status.link.isLive, let latestQuota { return latestQuota.quota }
        return try await readQuota().quota
    }

    public func devices() -> [AudioDevice] { audio.devices() }

    /// The license's latest request for more minutes, as central has it.
    public func latestMinutesRequest() async throws(CentralClient.Refusal) -> MinutesRequestReply {
        let reply = try await central.latestMinutesRequest()
        let answered = reply.request.map { $0.status == .approved && lastMinutesRequest?.id == $0.id && lastMinutesRequest?.status == .pending } ?? false
        lastMinutesRequest = reply.request
        // Approved since the page last looked: every page sees the new quota now, not at the
        // next minute's read (while streaming, central pushes it on the stream anyway).
        if answered, !status.link.isLive { _ = try? await readQuota() }
        return reply
    }

    /// Asks the vendor for more minutes; an approval shows as a quota change (pushed while
    /// streaming, read again by the page otherwise).
    public func requestMinutes(_ minutes: Double, note: String) async throws(CentralClient.Refusal) -> MinutesRequestReply {
        let reply = try await central.requestMinutes(minutes, note: note)
        lastMinutesRequest = reply.request
        return reply
    }

    /// The serving provider's language pairs, from central.
    public func languages() async throws(CentralClient.Refusal) -> LanguageCatalog {
        try await central.languages()
    }

    /// The device name that selects the page's own microphone.
    public static let browserDevice = CaptureDeviceChoice.browserName

    // MARK: Control

    /// `device`: nil for the configured AUDIO_DEVICE, `browser`, `default`, or a name from
    /// `devices()`; anything else throws `invalidDevice` before central or ALSA hear of it.
    public func start(sourceLanguage: String, targetLanguage: String?, device: String?) async throws {
        guard let choice = CaptureDeviceChoice.choose(requested: device, configured: configuration.audioDevice, enumerate: { audio.devices() })
        else { throw ControlError.invalidDevice }
        if let link, case .streaming = await link.currentState { throw ControlError.alreadyStreaming }
        if link != nil, status.link == .connecting || status.link == .reconnecting { throw ControlError.alreadyStreaming }
        let settings = configuration.opus
        let preSkip: Int
        do {
            preSkip = try OpusFrameEncoder(settings: settings).lookaheadAt48kHz
        } catch {
            throw ControlError.encoder("\(error)")
        }
        let link = makeLink()
        self.link = link
        // The previous session's tasks end on their own (their streams finished with it).
        tasks.removeAll()
        status.stopReason = nil
        // The answer to start describes this session, not the last one.
        status.audio = .starting
        status.audioMessage = nil
        status.audioSentMs = 0
        status.audioDroppedFrames = 0
        status.sessionID = nil
        listen(to: link)
        try await link.open(
            sourceLanguage: sourceLanguage, targetLanguage: targetLanguage,
            codec: CodecParameters(sampleRate: Int(settings.sampleRate), frameMs: 20, preSkip: preSkip))
        // While opening, the session may already have ended (quota ran out at once) or been
        // replaced: then no capture may start for it.
        guard self.link === link, status.link != .stopped else { return }
        let capture: AudioCapture
        switch choice {
        case .browser:
            capture = browserMicrophone.capture(device: Self.browserDevice, sampleRate: Int(settings.sampleRate))
            status.audioSource = .browser
        case .alsa(let trustedName):
            capture = audio.capture(device: trustedName, sampleRate: Int(settings.sampleRate))
            status.audioSource = .alsa
        }
        self.capture = capture
        let pipeline = CapturePipeline(capture: capture, settings: settings, link: link) { [pages] level in
            pages.broadcast(.level(level))
        }
        tasks.append(Task.detached { await pipeline.run() })
        tasks.append(Task { [weak self] in
            while !Task.isCancelled, !capture.isStopRequested {
                await self?.updateAudioState(capture.state, sentMs: await link.sentMilliseconds, dropped: await link.droppedFrames)
                try? await Task.sleep(for: .milliseconds(250))
            }
            await self?.updateAudioState(capture.state, sentMs: await link.sentMilliseconds, dropped: await link.droppedFrames)
        })
    }

    public func stop() async throws {
        guard let link else { throw ControlError.notStreaming }
        stopCapture()
        await link.stop()
    }

    private func stopCapture() {
        capture?.stop()
        browserMicrophone.finish()
    }

    // MARK: Central's side

    private func listen(to link: CentralLink) {
        tasks.append(Task { [weak self] in
            for await event in link.events {
                await self?.handle(event)
            }
        })
    }

    private func handle(_ event: LinkEvent) {
        switch event {
        case .state(let state):
            status.link = LinkPhase(state)
            switch state {
            case .streaming(let sessionID):
                status.sessionID = sessionID
            case .stopped(let reason):
                status.stopReason = reason
                stopCapture()
            case .idle, .connecting, .reconnecting:
                break
            }
            pages.broadcast(.state(status))
            if case .stopped = state { sessionEnded() }
        case .started(let started):
            status.demo = started.provider.demo
            status.license = started.quota.status
            status.centralReachable = true
            pages.broadcast(.state(status))
        case .quota(let quota):
            adopt(quota)
            if status.quotaError != nil {
                status.quotaError = nil
                pages.broadcast(.state(status))
            }
        case .transcript(let result):
            pages.broadcast(.transcript(result))
        case .translation(let result):
            pages.broadcast(.translation(result))
        case .error(let code, let message):
            pages.broadcast(.error(code: code, message: message))
        case .stopped(let stopped):
            // The state event carries the reason; anything but the user's own stop is also an error to explain.
            if stopped.reason != .clientStop {
                pages.broadcast(.error(code: stopped.reason, message: stopped.message))
            }
        }
    }

    // MARK: Quota

    /// A session ended, however (central stopped it, it was refused, the user stopped it).
    private func sessionEnded() {
        if let latestQuota { adopt(latestQuota) }
        // The last pushed quota still counts this stream and its last unbilled second: ask
        // central for the settled figures. Central releases the lease as it sends `stopped`;
        // a moment later the quota is settled.
        Task {
            try? await Task.sleep(for: .milliseconds(300))
            _ = try? await self.readQuota()
        }
    }

    /// Takes `message` as the quota and tells the pages (settled when the last session ran out).
    @discardableResult
    private func adopt(_ message: QuotaMessage) -> QuotaMessage {
        let settled = QuotaSettlement.settle(message, stopReason: status.link == .stopped ? status.stopReason : nil)
        status.license = settled.quota.status
        guard settled != latestQuota else { return settled }
        latestQuota = settled
        pages.broadcast(.quota(settled))
        return settled
    }

    /// Asks central for the quota; the pages hear the answer, or why there is none.
    @discardableResult
    private func readQuota() async throws(CentralClient.Refusal) -> QuotaMessage {
        let before = status
        defer { if status != before { pages.broadcast(.state(status)) } }
        do {
            let quota = try await central.quota()
            status.centralReachable = true
            status.quotaError = nil
            return adopt(QuotaMessage(quota: quota, warning: QuotaWarning.level(for: quota), sessionBilledMs: nil, provider: latestQuota?.provider))
        } catch {
            latestQuota = nil
            status.centralReachable = error.code != CentralClient.unreachable
            status.quotaError = ErrorBody.Detail(code: error.code, message: error.message)
            throw error
        }
    }

    /// While pages listen and no session runs, the edge reads the quota for them: an operator
    /// may top the license up, and central may come back. Every minute, or every 10 s while
    /// central does not answer; the capture device is probed again at the same time.
    private func watchQuota() {
        guard quotaWatch == nil else { return }
        quotaWatch = Task { [weak self] in
            while let interval = await self?.idleQuotaInterval {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { return }
                await self?.refreshIdleState()
            }
        }
    }

    private var idleQuotaInterval: Duration? {
        guard !pages.isEmpty else { return nil }
        return status.centralReachable == true && latestQuota != nil ? .seconds(60) : .seconds(10)
    }

    private func refreshIdleState() async {
        guard !status.link.isLive, !pages.isEmpty else { return }
        let before = status
        if currentStatus() != before { pages.broadcast(.state(status)) }
        _ = try? await readQuota()
    }

    private func updateAudioState(_ state: CaptureState, sentMs: Int64, dropped: Int) {
        status.audioSentMs = sentMs
        status.audioDroppedFrames = dropped
        status.audioRecoveredErrors = capture?.recoveredErrors
        let (phase, message) = AudioPhase.of(state)
        guard phase != status.audio || message != status.audioMessage else { return }
        status.audio = phase
        status.audioMessage = message
        pages.broadcast(.state(status))
    }
}
