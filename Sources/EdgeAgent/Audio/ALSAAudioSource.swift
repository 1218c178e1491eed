import CALSA
import Foundation

/// Microphone capture through ALSA: S16_LE mono at the requested rate, 20 ms reads, on a
/// dedicated thread (ALSA reads block; they never run on the concurrency pool or an event loop).
public struct ALSAAudioSource: AudioSource {
    /// An ALSA configuration to open devices from instead of the system's (tests use it to
    /// define a `file` PCM that plays a raw file as the microphone).
    let configurationText: String?

    public init(configurationText: String? = nil) {
        self.configurationText = configurationText
    }

    public func devices() -> [AudioDevice] {
        var hints: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
        guard snd_device_name_hint(-1, "pcm", &hints) == 0, let hints else { return [] }
        defer { snd_device_name_free_hint(hints) }
        var devices: [AudioDevice] = []
        var index = 0
        while let hint = hints[index] {
            index += 1
            func value(_ key: String) -> String? {
                guard let pointer = snd_device_name_get_hint(hint, key) else { return nil }
                defer { free(pointer) }
                return String(cString: pointer)
            }
            // IOID is absent for devices that do both directions.
            guard let name = value("NAME"), value("IOID").map({ $0 == "Input" }) ?? true else { continue }
            // Card devices (`hw:…`, `plughw:…`, `dsnoop:…`, `sysdefault:…`) and `default`; bare
            // plugin names (lavrate, jack, oss, pulse, upmix, …) are converters, not microphones.
            guard name == "default" || name.contains(":") else { continue }
            let description = (value("DESC") ?? name).replacingOccurrences(of: "\n", with: " — ")
            devices.append(AudioDevice(name: name, description: description))
        }
        return devices
    }

    public func probe(device: String) -> String? {
        ALSACaptureLoop(device: device, sampleRate: 16_000, configurationText: configurationText, capture: AudioCapture(capacity: 1)).probe()
    }

    public func capture(device: String, sampleRate: Int) -> AudioCapture {
        let capture = AudioCapture()
        let configurationText = configurationText
        let thread = Thread {
            ALSACaptureLoop(device: device, sampleRate: sampleRate, configurationText: configurationText, capture: capture).run()
        }
        thread.name = "alsa-capture"
        thread.start()
        return capture
    }
}

/// The body of the capture thread: open, read, recover, reopen with backoff.
struct ALSACaptureLoop {
    let device: String
    let sampleRate: Int
    let configurationText: String?
    let capture: AudioCapture

    func run() {
        var backoff = 0.25
        while !capture.isStopRequested {
            switch open() {
            case .failure(let error):
                capture.setState(.noDevice(error.message))
                sleepUnlessStopped(seconds: backoff)
                backoff = min(backoff * 2, 8)
            case .success(let pcm):
                backoff = 0.25
                capture.setState(.capturing)
                let reason = read(from: pcm)
                snd_pcm_close(pcm)
                if let reason {
                    capture.setState(.reopening(reason))
                    sleepUnlessStopped(seconds: backoff)
                }
            }
        }
        capture.finish()
    }

    /// Whether the device opens for capture now (non-blocking: a busy device answers at once).
    func probe() -> String? {
        switch open(mode: SND_PCM_NONBLOCK) {
        case .failure(let error): return error.message
        case .success(let pcm):
            snd_pcm_close(pcm)
            return nil
        }
    }

    private func open(mode: Int32 = 0) -> Result<OpaquePointer, OpenError> {
        var pcm: OpaquePointer?
        var result: Int32
        if let configurationText {
            var config: OpaquePointer?
            var input: OpaquePointer?
            guard snd_config_top(&config) == 0, let config else { return .failure(OpenError("ALSA configuration unavailable")) }
            defer { snd_config_delete(config) }
            result = configurationText.withCString { text in
                snd_input_buffer_open(&input, text, strlen(text))
            }
            guard result == 0, let input else { return .failure(OpenError(Self.describe(result))) }
            result = snd_config_load(config, input)
            snd_input_close(input)
            guard result == 0 else { return .failure(OpenError("invalid ALSA configuration: \(Self.describe(result))")) }
            result = snd_pcm_open_lconf(&pcm, device, SND_PCM_STREAM_CAPTURE, mode, config)
        } else {
            result = snd_pcm_open(&pcm, device, SND_PCM_STREAM_CAPTURE, mode)
        }
        guard result == 0, let pcm else {
            return .failure(OpenError("cannot open capture device '\(device)': \(Self.describe(result))"))
        }
        // 100 ms of device buffer; ALSA resamples if the device cannot do the rate itself.
        result = snd_pcm_set_params(pcm, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, 1, UInt32(sampleRate), 1, 100_000)
        guard result == 0 else {
            snd_pcm_close(pcm)
            return .failure(OpenError("capture device '\(device)' refused 16-bit mono at \(sampleRate) Hz: \(Self.describe(result))"))
        }
        return .success(pcm)
    }

    /// Reads until stopped (nil) or until the device fails beyond recovery (the reason).
    private func read(from pcm: OpaquePointer) -> String? {
        let frameSamples = sampleRate / 50
        var buffer = [Int16](repeating: 0, count: frameSamples)
        let started = Date()
        var delivered = 0.0
        while capture.waitForRoom() {
            var filled = 0
            while filled < frameSamples {
                let count = buffer.withUnsafeMutableBufferPointer { samples in
                    snd_pcm_readi(pcm, samples.baseAddress.map { $0 + filled }, snd_pcm_uframes_t(frameSamples - filled))
                }
                if count >= 0 {
                    filled += Int(count)
                    continue
                }
                // Overrun (EPIPE) or suspend (ESTRPIPE): recover and carry on; otherwise reopen.
                let recovered = snd_pcm_recover(pcm, Int32(count), 1)
                guard recovered == 0 else { return "capture failed: \(Self.describe(Int32(count)))" }
                capture.countRecoveredError()
                if capture.isStopRequested { return nil }
            }
            capture.deliver(PCMFrame(samples: buffer, captureTimeMicroseconds: UInt64(Date().timeIntervalSince1970 * 1_000_000)))
            // A microphone delivers in real time. A device that runs ahead of the clock (a file,
            // a loopback) is held to real time, so what is streamed and billed is live audio.
            delivered += 0.02
            let ahead = delivered - Date().timeIntervalSince(started)
            if ahead > 0.06 { Thread.sleep(forTimeInterval: ahead - 0.04) }
        }
        return nil
    }

    private func sleepUnlessStopped(seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, !capture.isStopRequested {
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    static func describe(_ code: Int32) -> String {
        String(cString: snd_strerror(code))
    }

    struct OpenError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }
}
