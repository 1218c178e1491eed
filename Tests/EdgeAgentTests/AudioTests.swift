import COpus
@testable import EdgeAgent
import Foundation
import Testing

@Suite(.bounded) struct OpusFrameEncoderTests {
    @Test func encodesTwentyMillisecondFramesAndReportsTheLookahead() throws {
        let encoder = try OpusFrameEncoder()
        // libopus's VOIP lookahead at 16 kHz is 104 samples: 312 at 48 kHz, the Ogg pre-skip.
        #expect(encoder.lookaheadAt48kHz == 312)
        let tone = (0..<320).map { Int16(10_000 * sin(2 * .pi * 440 * Double($0) / 16_000)) }
        let packet = try encoder.encode(tone[...])
        #expect(!packet.isEmpty && packet.count < 200)
        // A real decoder reads it back as 20 ms.
        #expect(opus_packet_get_nb_samples(packet, Int32(packet.count), 48_000) == 960)
        #expect(throws: OpusFrameEncoder.EncoderError.wrongFrameSize(expected: 320, got: 100)) {
            try encoder.encode(tone[0..<100])
        }
    }

    @Test func bitrateFollowsTheSettings() throws {
        var low = OpusEncoderSettings()
        low.bitrate = 8_000
        var high = OpusEncoderSettings()
        high.bitrate = 64_000
        let noise = (0..<320).map { _ in Int16.random(in: -12_000...12_000) }
        var lowBytes = 0, highBytes = 0
        let lowEncoder = try OpusFrameEncoder(settings: low), highEncoder = try OpusFrameEncoder(settings: high)
        for _ in 0..<50 {
            lowBytes += try lowEncoder.encode(noise[...]).count
            highBytes += try highEncoder.encode(noise[...]).count
        }
        #expect(highBytes > lowBytes * 3)
        var invalid = OpusEncoderSettings()
        invalid.bitrate = -5
        #expect(throws: OpusFrameEncoder.EncoderError.self) { try OpusFrameEncoder(settings: invalid) }
    }
}

@Suite(.bounded) struct InputLevelTests {
    @Test func levelsInDBFS() {
        let fullScaleSine = (0..<1_600).map { Int16(32_767 * sin(2 * .pi * 100 * Double($0) / 16_000)) }
        let level = InputLevel(samples: fullScaleSine)
        #expect(abs(level.rmsDBFS - -3.01) < 0.1)
        #expect(abs(level.peakDBFS) < 0.01)
        #expect(InputLevel(samples: [Int16](repeating: 0, count: 320)) == .silence)
        #expect(abs(InputLevel(samples: [Int16](repeating: 3_277, count: 320)).rmsDBFS - -20) < 0.01)
    }
}

/// Real ALSA capture: alsa-lib's `file` plugin plays a raw file as the microphone.
@Suite(.bounded) struct ALSACaptureTests {
    static func configuration(infile: String) -> String {
        """
        pcm.testmic {
            type file
            slave.pcm { type null }
            file "/dev/null"
            infile "\(infile)"
            format "raw"
        }
        """
    }

    @Test func capturesTheFileSampleForSampleIn20msFrames() async throws {
        let frames = 10
        let samples = (0..<(frames * 320)).map { Int16(truncatingIfNeeded: $0 * 7 - 11_000) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mic-\(UUID().uuidString).raw")
        try samples.withUnsafeBytes { Data($0) }.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }

        let source = ALSAAudioSource(configurationText: Self.configuration(infile: file.path))
        let capture = source.capture(device: "testmic", sampleRate: 16_000)
        var received: [Int16] = []
        var iterator = capture.frames.makeAsyncIterator()
        for _ in 0..<frames {
            let frame = try #require(await iterator.next())
            #expect(frame.samples.count == 320)
            received += frame.samples
        }
        capture.stop()
        #expect(received == samples)
        #expect(capture.state == .capturing || capture.state == .stopped)
        while await iterator.next() != nil {}
        #expect(capture.state == .stopped)
    }

    @Test func aMissingDeviceIsAClearStateAndTheCaptureKeepsTrying() async throws {
        let capture = ALSAAudioSource(configurationText: "pcm.other { type null }").capture(device: "no-such-mic", sampleRate: 16_000)
        var state = capture.state
        for _ in 0..<50 where !(state.isNoDevice) {
            try await Task.sleep(for: .milliseconds(20))
            state = capture.state
        }
        guard case .noDevice(let message) = state else {
            Issue.record("expected noDevice, got \(state)")
            return
        }
        #expect(message.contains("no-such-mic"))
        capture.stop()
        for await _ in capture.frames {}
        #expect(capture.state == .stopped)
    }
}

extension CaptureState {
    var isNoDevice: Bool {
        if case .noDevice = self { return true }
        return false
    }
}

@Suite(.bounded) struct ALSADeviceLossTests {
    @Test func aMissingDeviceIsReopenedWithBackoffOnceItAppears() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("late-mic-\(UUID().uuidString).raw")
        let source = ALSAAudioSource(configurationText: ALSACaptureTests.configuration(infile: file.path))
        let capture = source.capture(device: "testmic", sampleRate: 16_000)
        var state = capture.state
        for _ in 0..<100 where !state.isNoDevice {
            try await Task.sleep(for: .milliseconds(20))
            state = capture.state
        }
        #expect(state.isNoDevice, "\(state)")
        // The device comes (back): the capture finds it on a later attempt, without a restart.
        try [Int16](repeating: 1_234, count: 3_200).withUnsafeBytes { Data($0) }.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        var iterator = capture.frames.makeAsyncIterator()
        let frame = await iterator.next()
        #expect(frame?.samples.first == 1_234)
        #expect(capture.state == .capturing)
        capture.stop()
        while await iterator.next() != nil {}
    }
}
