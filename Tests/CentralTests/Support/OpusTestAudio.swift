import COpus
import Foundation
import Protocol

/// Real Opus packets from libopus: 20 ms frames at 16 kHz of tone bursts (speech-like energy)
/// and silence, for streaming tests.
enum OpusTestAudio {
    /// `seconds` of audio as 20 ms packets: 1 s of tone, 0.5 s of silence, repeating.
    static func packets(seconds: Double) -> [[UInt8]] {
        var error: Int32 = 0
        guard let encoder = opus_encoder_create(16_000, 1, OPUS_APPLICATION_VOIP, &error) else { return [] }
        defer { opus_encoder_destroy(encoder) }
        let frameSamples = 320
        let frames = Int((seconds * 50).rounded())
        var output = [UInt8](repeating: 0, count: 1500)
        return (0..<frames).map { index in
            let loud = (index % 75) < 50
            let pcm: [Int16] = (0..<frameSamples).map { sample in
                guard loud else { return 0 }
                let t = Double(index * frameSamples + sample) / 16_000
                return Int16(9_000 * sin(2 * .pi * 220 * t))
            }
            let length = opus_encode(encoder, pcm, Int32(frameSamples), &output, Int32(output.count))
            return Array(output.prefix(Int(max(0, length))))
        }
    }

    static func frames(seconds: Double, firstSequence: UInt32 = 0) -> [AudioFrame] {
        packets(seconds: seconds).enumerated().compactMap { index, packet in
            try? AudioFrame(sequence: firstSequence + UInt32(index), captureTimeMicroseconds: UInt64(index) * 20_000, packet: packet)
        }
    }
}
