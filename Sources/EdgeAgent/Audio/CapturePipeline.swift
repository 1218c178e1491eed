import Foundation

/// One session's audio path: an `AudioCapture`'s frames → the page's level meter → Opus →
/// `CentralLink`, until the capture's frames end.
///
/// It runs on the link's executor, so a frame enters an actor once on its way from the capture
/// to the socket: the capture's hand-off resumes the pump directly on the link, `send` is a
/// plain call there, and the level goes to the pages through a lock. (The Opus encode, ~0.1 ms
/// a frame, is the only work it adds to the link's executor.)
struct CapturePipeline: Sendable {
    let capture: AudioCapture
    let settings: OpusEncoderSettings
    let link: CentralLink
    /// About ten readings a second, for the page's meter; must not block.
    let level: @Sendable (InputLevel) -> Void

    func run() async {
        await Self.pump(capture: capture, settings: settings, level: level, on: link)
    }

    /// The encoder lives in this call only (libopus encoders are not thread-safe).
    private static func pump(
        capture: AudioCapture, settings: OpusEncoderSettings, level: @Sendable (InputLevel) -> Void, on link: isolated CentralLink
    ) async {
        guard let encoder = try? OpusFrameEncoder(settings: settings) else { return }
        var levelSamples: [Int16] = []
        for await frame in capture.frames {
            levelSamples += frame.samples
            if levelSamples.count >= frame.samples.count * 5 {
                level(InputLevel(samples: levelSamples))
                levelSamples.removeAll(keepingCapacity: true)
            }
            guard let packet = try? encoder.encode(frame.samples[...]) else { continue }
            link.send(packet: packet, captureTimeMicroseconds: frame.captureTimeMicroseconds)
        }
    }
}
