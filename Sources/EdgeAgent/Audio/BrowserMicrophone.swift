import Foundation
import Protocol
import Synchronization

/// The page's own microphone (browser-microphone mode) as an `AudioSource`: the page sends its
/// PCM as `/ws` binary messages, and `receive` hands them to the capture started for the
/// `browser` device. A lock, not an actor: a message goes from the `/ws` task into the
/// capture's bounded hand-off without a hop.
public final class BrowserMicrophone: AudioSource {
    /// 20 ms of 16 kHz mono S16LE.
    public static let frameBytes = 640
    /// The largest /ws binary message: one second of audio.
    public static let messageMaxBytes = 32_000

    private struct Feed {
        var capture: AudioCapture?
        /// The /ws page whose audio feeds the capture; its page closing ends the session.
        var owner: UUID?
    }

    private let feed = Mutex(Feed())

    public init() {}

    /// The page's microphone is not a device the edge lists (`/api/devices` is ALSA's).
    public func devices() -> [AudioDevice] { [] }

    /// A page can always send audio.
    public func probe(device: String) -> String? { nil }

    /// A capture fed by `receive` until `finish`; it replaces any previous one.
    public func capture(device: String, sampleRate: Int) -> AudioCapture {
        let capture = AudioCapture(capacity: 25)
        capture.setState(.capturing)
        let previous = feed.withLock { feed in
            defer { feed = Feed(capture: capture, owner: nil) }
            return feed.capture
        }
        previous?.finish()
        return capture
    }

    /// Whether a capture is taking the page's audio now.
    var isCapturing: Bool { feed.withLock { $0.capture != nil } }

    /// PCM from the page: whole 20 ms frames of 16 kHz mono S16LE. nil when taken, else why not.
    func receive(_ bytes: [UInt8], from page: UUID? = nil) -> (code: ErrorCode, message: String)? {
        guard let capture = feed.withLock({ $0.capture }) else {
            return (.browserAudioNotExpected, "Audio from the page is only taken after starting with the browser microphone.")
        }
        guard !bytes.isEmpty, bytes.count % Self.frameBytes == 0, bytes.count <= Self.messageMaxBytes else {
            return (.invalidAudioFrame, "Send whole 20 ms frames: a multiple of 640 bytes of 16 kHz mono 16-bit PCM, at most 32000 bytes.")
        }
        if let page {
            feed.withLock { feed in
                if feed.capture === capture { feed.owner = page }
            }
        }
        let now = UInt64(Date().timeIntervalSince1970 * 1_000_000)
        let frames = bytes.count / Self.frameBytes
        for index in 0..<frames {
            let base = index * Self.frameBytes
            let samples = (0..<(Self.frameBytes / 2)).map { i in
                Int16(bitPattern: UInt16(bytes[base + 2 * i]) | UInt16(bytes[base + 2 * i + 1]) << 8)
            }
            // Capture times step back from now by 20 ms a frame, oldest first. A frame the
            // encoder is half a second behind on is dropped (`offer` says so).
            let capturedAt = now - UInt64(frames - 1 - index) * 20_000
            _ = capture.offer(PCMFrame(samples: samples, captureTimeMicroseconds: capturedAt))
        }
        return nil
    }

    /// The page `id` went away. True when that ends the browser session: it was the page
    /// feeding it, or no page ever sent audio and none is left to.
    func pageLeft(_ id: UUID, pagesLeft: Int) -> Bool {
        feed.withLock { feed in
            guard feed.capture != nil else { return false }
            let abandoned = feed.owner == nil && pagesLeft == 0
            guard id == feed.owner || abandoned else { return false }
            feed.owner = nil
            return true
        }
    }

    /// Ends the capture's frames: it has no thread of its own that would.
    func finish() {
        feed.withLock { feed in
            defer { feed = Feed() }
            return feed.capture
        }?.finish()
    }
}
