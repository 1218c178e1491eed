import Foundation
import Logging
import Protocol

/// Runs one translation at a time: microphone → Opus → central, and fans central's answers and
/// the input level out to every page listening on `/ws`.
public actor TranslationController {
    let configuration: EdgeConfiguration
    let audio: any AudioSource
    let central: CentralClient
    let deviceID: String
    let logger: Logger
    let makeLink: @Sendable () -> CentralLink

    private var link: CentralLink?
    private var capture: AudioCapture?
    /// Set while the page's own microphone is the source; /ws binary messages feed it.
    private var browserCapture: AudioCapture?
    private var browserDroppedFrames = 0
    /// The /ws subscriber whose audio feeds the browser capture; its page closing ends the session.
    private var browserOwner: UUID?
    private var tasks: [Task<Void, Never>] = []
    private var status = EdgeStatus(link: "idle", audio: "idle")
    private var latestQuota: QuotaMessage?
    private var subscribers: [UUID: AsyncStream<TranslationEvent>.Continuation] = [:]

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

    public func subscribe() -> (UUID, AsyncStream<TranslationEvent>) {
        let id = UUID()
        // A slow page loses old level readings rather than holding memory.
        let (stream, continuation) = AsyncStream<TranslationEvent>.makeStream(bufferingPolicy: .bufferingNewest(128))
        subscribers[id] = continuation
        continuation.yield(.state(status))
        if let latestQuota { continuation.yield(.quota(latestQuota)) }
        return (id, stream)
    }

    public func unsubscribe(_ id: UUID) {
        subscribers.removeValue(forKey: id)?.finish()
        // A browser-microphone page that went away (closed, crashed) cannot send audio any more:
        // end its session rather than hold a concurrency slot with nothing to stream.
        // No owner yet (the page went away before its first audio) and nobody left to send it.
        let abandoned = browserOwner == nil && subscribers.isEmpty
        if browserCapture != nil, id == browserOwner || abandoned {
            browserOwner = nil
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
        if capture == nil || capture?.isStopRequested == true || browserCapture != nil {
            let problem = probeCapture()
            status.alsaAvailable = problem == nil
            if let problem, status.audio == "idle" || status.audio == "no_device" {
                status.audio = "no_device"
                status.audioMessage = problem
            } else if problem == nil, status.audio == "no_device", capture == nil {
                status.audio = "idle"
                status.audioMessage = nil
            }
        } else {
            status.alsaAvailable = true
        }
        return status
    }

    /// The latest quota central pushed, or a fresh one from central.
    public func quota() async throws(CentralClient.Refusal) -> QuotaSnapshot {
        if let latestQuota { return latestQuota.quota }
        let quota = try await central.quota()
        status.license = quota.status
        return quota
    }

    public func devices() -> [AudioDevice] { audio.devices() }

    /// The serving provider's language pairs, from central.
    public func languages() async throws(CentralClient.Refusal) -> LanguageCatalog {
        try await central.languages()
    }

    /// The device name that selects the page's own microphone.
    public static let browserDevice = CaptureDeviceChoice.browserName
    /// 20 ms of 16 kHz mono S16LE.
    public static let browserFrameBytes = 640
    /// The largest /ws binary message: one second of audio.
    public static let browserMessageMaxBytes = 32_000

    /// PCM from the page (browser-microphone mode): whole 20 ms frames of 16 kHz mono S16LE.
    public func receiveBrowserAudio(_ bytes: [UInt8], from page: UUID? = nil) -> (code: ErrorCode, message: String)? {
        guard let browserCapture else {
            return (.browserAudioNotExpected, "Audio from the page is only taken after starting with the browser microphone.")
        }
        guard !bytes.isEmpty, bytes.count % Self.browserFrameBytes == 0, bytes.count <= Self.browserMessageMaxBytes else {
            return (.invalidAudioFrame, "Send whole 20 ms frames: a multiple of 640 bytes of 16 kHz mono 16-bit PCM, at most 32000 bytes.")
        }
        if let page { browserOwner = page }
        let now = UInt64(Date().timeIntervalSince1970 * 1_000_000)
        let frames = bytes.count / Self.browserFrameBytes
        for index in 0..<frames {
            let base = index * Self.browserFrameBytes
            let samples = (0..<(Self.browserFrameBytes / 2)).map { i in
                Int16(bitPattern: UInt16(bytes[base + 2 * i]) | UInt16(bytes[base + 2 * i + 1]) << 8)
            }
            // Capture times step back from now by 20 ms a frame, oldest first.
            let capturedAt = now - UInt64(frames - 1 - index) * 20_000
            if !browserCapture.offer(PCMFrame(samples: samples, captureTimeMicroseconds: capturedAt)) {
                browserDroppedFrames += 1
            }
        }
        return nil
    }

    // MARK: Control

    /// `device`: nil for the configured AUDIO_DEVICE, `browser`, `default`, or a name from
    /// `devices()`; anything else throws `invalidDevice` before central or ALSA hear of it.
    public func start(sourceLanguage: String, targetLanguage: String?, device: String?) async throws {
        guard let choice = CaptureDeviceChoice.choose(requested: device, configured: configuration.audioDevice, enumerate: { audio.devices() })
        else { throw ControlError.invalidDevice }
        if let link, case .streaming = await link.currentState { throw ControlError.alreadyStreaming }
        if link != nil, status.link == "connecting" || status.link == "reconnecting" { throw ControlError.alreadyStreaming }
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
        status.audio = "starting"
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
        guard self.link === link, status.link != "stopped" else { return }
        let capture: AudioCapture
        switch choice {
        case .browser:
            capture = AudioCapture(capacity: 25)
            capture.setState(.capturing)
            browserCapture = capture
            status.audioSource = "browser"
        case .alsa(let trustedName):
            capture = audio.capture(device: trustedName, sampleRate: Int(settings.sampleRate))
            status.audioSource = "alsa"
        }
        self.capture = capture
        tasks.append(Task.detached { [weak self] in
            await Self.pump(capture: capture, settings: settings, link: link, controller: self)
        })
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
        // The browser capture has no thread of its own to end the frame stream.
        browserCapture?.finish()
        browserCapture = nil
        browserOwner = nil
    }

    // MARK: Pipeline

    /// Capture → level → Opus → link. Runs off the actor; the encoder lives in this task only.
    private static func pump(capture: AudioCapture, settings: OpusEncoderSettings, link: CentralLink, controller: TranslationController?) async {
        guard let encoder = try? OpusFrameEncoder(settings: settings) else { return }
        var levelSamples: [Int16] = []
        for await frame in capture.frames {
            levelSamples += frame.samples
            if levelSamples.count >= frame.samples.count * 5 {
                // About ten level readings a second for the page's meter.
                await controller?.broadcast(.level(InputLevel(samples: levelSamples)))
                levelSamples.removeAll(keepingCapacity: true)
            }
            guard let packet = try? encoder.encode(frame.samples[...]) else { continue }
            await link.send(packet: packet, captureTimeMicroseconds: frame.captureTimeMicroseconds)
        }
    }

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
            switch state {
            case .idle: status.link = "idle"
            case .connecting: status.link = "connecting"
            case .streaming(let sessionID):
                status.link = "streaming"
                status.sessionID = sessionID
            case .reconnecting: status.link = "reconnecting"
            case .stopped(let reason):
                status.link = "stopped"
                status.stopReason = reason
                stopCapture()
            }
            broadcast(.state(status))
        case .started(let started):
            status.demo = started.provider.demo
            status.license = started.quota.status
            broadcast(.state(status))
        case .quota(let quota):
            latestQuota = quota
            status.license = quota.quota.status
            broadcast(.quota(quota))
        case .transcript(let result):
            broadcast(.transcript(result))
        case .translation(let result):
            broadcast(.translation(result))
        case .error(let code, let message):
            broadcast(.error(code: code, message: message))
        case .stopped(let stopped):
            // The state event carries the reason; anything but the user's own stop is also an error to explain.
            if stopped.reason != .clientStop {
                broadcast(.error(code: stopped.reason, message: stopped.message))
            }
            // The last pushed quota still counts this stream and its last unbilled second:
            // ask central for the settled figures so the page and /api/license/quota are right.
            Task { await self.refreshQuotaAfterSession() }
        }
    }

    private func refreshQuotaAfterSession() async {
        // Central releases the lease as it sends `stopped`; a moment later the quota is settled.
        try? await Task.sleep(for: .milliseconds(300))
        guard let quota = try? await central.quota() else {
            latestQuota = nil
            return
        }
        let message = QuotaMessage(quota: quota, warning: QuotaWarning.level(for: quota), sessionBilledMs: nil, provider: latestQuota?.provider)
        latestQuota = message
        status.license = quota.status
        broadcast(.quota(message))
    }

    private func updateAudioState(_ state: CaptureState, sentMs: Int64, dropped: Int) {
        status.audioSentMs = sentMs
        status.audioDroppedFrames = dropped
        status.audioRecoveredErrors = capture?.recoveredErrors
        let (name, message): (String, String?) = switch state {
        case .starting: ("starting", nil)
        case .capturing: ("capturing", nil)
        case .reopening(let why): ("reopening", why)
        case .noDevice(let why): ("no_device", why)
        case .stopped: ("stopped", nil)
        }
        guard name != status.audio || message != status.audioMessage else { return }
        status.audio = name
        status.audioMessage = message
        broadcast(.state(status))
    }

    /// One page only (an answer to something that page sent).
    func notify(_ id: UUID, _ event: TranslationEvent) {
        subscribers[id]?.yield(event)
    }

    func broadcast(_ event: TranslationEvent) {
        for continuation in subscribers.values { continuation.yield(event) }
    }
}
