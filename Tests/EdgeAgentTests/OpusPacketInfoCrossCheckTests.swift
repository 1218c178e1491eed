import COpus
import Foundation
import Protocol
import Testing

/// Central meters audio by parsing Opus table-of-contents bytes itself; this checks that parse
/// against libopus on packets libopus really produced.
@Suite(.bounded) struct OpusPacketInfoCrossCheckTests {
    @Test(arguments: [16_000, 48_000], [2.5, 5, 10, 20, 40, 60])
    func agreesWithLibopus(sampleRate: Int, frameMs: Double) throws {
        var error: Int32 = 0
        let encoder = try #require(opus_encoder_create(Int32(sampleRate), 1, OPUS_APPLICATION_VOIP, &error))
        defer { opus_encoder_destroy(encoder) }
        #expect(error == OPUS_OK)
        let samples = Int(Double(sampleRate) * frameMs / 1000)
        let pcm: [Int16] = (0..<samples).map { Int16(8_000 * sin(Double($0) * 2 * .pi * 440 / Double(sampleRate))) }
        var packet = [UInt8](repeating: 0, count: 4000)
        let length = opus_encode(encoder, pcm, Int32(samples), &packet, Int32(packet.count))
        try #require(length > 0)
        let bytes = Array(packet.prefix(Int(length)))
        let reference = opus_packet_get_nb_samples(bytes, length, 48_000)
        #expect(try OpusPacketInfo.samplesAt48kHz(bytes) == Int(reference))
        #expect(try OpusPacketInfo.durationMicroseconds(bytes) == UInt32(frameMs * 1000))
    }
}
