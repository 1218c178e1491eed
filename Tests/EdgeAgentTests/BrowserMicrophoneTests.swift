@testable import EdgeAgent
import Foundation
import Protocol
import Testing

@Suite(.bounded) struct BrowserMicrophoneTests {
    /// `count` frames of S16LE whose samples count up from `start`.
    static func pcm(frames count: Int, start: Int16 = 0) -> [UInt8] {
        (0..<(count * 320)).flatMap { index -> [UInt8] in
            let value = UInt16(bitPattern: start &+ Int16(truncatingIfNeeded: index))
            return [UInt8(value & 0xFF), UInt8(value >> 8)]
        }
    }

    @Test func audioIsRefusedOutsideABrowserSessionAndWhenNotWholeFrames() {
        let microphone = BrowserMicrophone()
        #expect(microphone.receive(Self.pcm(frames: 1))?.code == .browserAudioNotExpected)
        let capture = microphone.capture(device: "browser", sampleRate: 16_000)
        #expect(capture.state == .capturing)
        for size in [0, 100, 641, 32_640] {
            #expect(microphone.receive([UInt8](repeating: 0, count: size))?.code == .invalidAudioFrame, "\(size) bytes")
        }
        #expect(microphone.receive(Self.pcm(frames: 2)) == nil)
        microphone.finish()
        #expect(microphone.receive(Self.pcm(frames: 1))?.code == .browserAudioNotExpected)
    }

    @Test func framesReachTheCaptureInOrderWithCaptureTimesTwentyMillisecondsApart() async {
        let microphone = BrowserMicrophone()
        let capture = microphone.capture(device: "browser", sampleRate: 16_000)
        #expect(microphone.receive(Self.pcm(frames: 3, start: -5)) == nil)
        microphone.finish()
        var frames: [PCMFrame] = []
        for await frame in capture.frames { frames.append(frame) }
        #expect(frames.count == 3)
        #expect(frames.map { $0.samples.count } == [320, 320, 320])
        #expect(frames[0].samples.prefix(6) == [-5, -4, -3, -2, -1, 0])
        #expect(frames[2].samples.last == Int16(-5 + 959))
        #expect(frames[1].captureTimeMicroseconds - frames[0].captureTimeMicroseconds == 20_000)
        #expect(frames[2].captureTimeMicroseconds - frames[1].captureTimeMicroseconds == 20_000)
        #expect(capture.state == .stopped)
    }

    @Test func aConsumerHalfASecondBehindLosesTheNewestFrames() async {
        let microphone = BrowserMicrophone()
        let capture = microphone.capture(device: "browser", sampleRate: 16_000)
        // 1 s at once, nobody reading: the hand-off holds 25 frames (0.5 s).
        #expect(microphone.receive(Self.pcm(frames: 50)) == nil)
        microphone.finish()
        var count = 0
        for await _ in capture.frames { count += 1 }
        #expect(count == 25)
    }

    @Test func theSessionEndsWhenItsPageOrEveryPageGoesAway() {
        let microphone = BrowserMicrophone()
        let owner = UUID(), other = UUID()
        #expect(!microphone.pageLeft(owner, pagesLeft: 0), "no browser session, nothing to end")
        _ = microphone.capture(device: "browser", sampleRate: 16_000)
        // Before any audio, only the last page leaving ends it.
        #expect(!microphone.pageLeft(other, pagesLeft: 1))
        #expect(microphone.pageLeft(other, pagesLeft: 0))
        _ = microphone.capture(device: "browser", sampleRate: 16_000)
        #expect(microphone.receive(Self.pcm(frames: 1), from: owner) == nil)
        #expect(!microphone.pageLeft(other, pagesLeft: 1), "another page leaving changes nothing")
        #expect(microphone.pageLeft(owner, pagesLeft: 1), "the page feeding it")
        microphone.finish()
        #expect(!microphone.isCapturing)
    }
}
