import COpus
import Protocol

/// libFuzzer entry point: one input is one Opus packet (the payload of an audio frame).
///
/// Central bills by `OpusPacketInfo`, so it is checked against libopus itself: a packet is
/// accepted exactly when libopus can tell its sample count (and it fits RFC 6716's 1275 bytes),
/// and the counts agree. Any disagreement or trap is a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func opusPacketFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let packet = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let ours: Int?
    do {
        ours = try OpusPacketInfo.samplesAt48kHz(packet)
    } catch {
        guard error.code == .invalidOpusPacket else { fatalError("refused with unexpected code \(error.code)") }
        ours = nil
    }
    // libopus: a negative result is an error; 0 samples (a code 3 packet with 0 frames) is not audio.
    let reference = packet.withUnsafeBufferPointer { buffer -> Int? in
        guard let base = buffer.baseAddress else { return nil }
        let samples = Int(opus_packet_get_nb_samples(base, opus_int32(buffer.count), 48_000))
        return samples > 0 ? samples : nil
    }
    let expected = packet.count <= OpusPacketInfo.maxPacketBytes ? reference : nil
    guard ours == expected else {
        fatalError("OpusPacketInfo says \(ours.map(String.init) ?? "invalid"), libopus \(expected.map(String.init) ?? "invalid")")
    }
    if let ours {
        guard let micros = try? OpusPacketInfo.durationMicroseconds(packet), Int(micros) == ours * 1000 / 48 else {
            fatalError("duration in microseconds disagrees with the sample count")
        }
    }
    return 0
}
