/// What an Opus packet's table-of-contents byte says about its length (RFC 6716 §3.1).
///
/// Central meters audio by this, not by what the sender claims, so the bill follows the audio.
public enum OpusPacketInfo {
    /// Largest Opus packet RFC 6716 allows.
    public static let maxPacketBytes = 1275

    /// Samples at 48 kHz in `packet`, or a protocol error when the packet is not a valid
    /// Opus packet shape.
    public static func samplesAt48kHz(_ packet: some Collection<UInt8>) throws(ProtocolError) -> Int {
        guard let toc = packet.first else {
            throw ProtocolError(.invalidOpusPacket, "empty Opus packet")
        }
        guard packet.count <= maxPacketBytes else {
            throw ProtocolError(.invalidOpusPacket, "Opus packet longer than \(maxPacketBytes) bytes")
        }
        let config = Int(toc >> 3)
        let frameSamples: Int
        switch config {
        case 0...11: frameSamples = [480, 960, 1920, 2880][config % 4]   // SILK: 10, 20, 40, 60 ms
        case 12...15: frameSamples = [480, 960][config % 2]             // Hybrid: 10, 20 ms
        default: frameSamples = [120, 240, 480, 960][config % 4]         // CELT: 2.5, 5, 10, 20 ms
        }
        let frames: Int
        switch toc & 0x3 {
        case 0: frames = 1
        case 1, 2: frames = 2
        default:
            guard packet.count >= 2 else {
                throw ProtocolError(.invalidOpusPacket, "code 3 Opus packet without a frame count")
            }
            frames = Int(packet[packet.index(after: packet.startIndex)] & 0x3F)
            guard frames >= 1 else { throw ProtocolError(.invalidOpusPacket, "Opus packet with zero frames") }
        }
        let samples = frames * frameSamples
        // RFC 6716: a packet holds at most 120 ms of audio.
        guard samples <= 5760 else { throw ProtocolError(.invalidOpusPacket, "Opus packet longer than 120 ms") }
        return samples
    }

    /// Duration in microseconds.
    public static func durationMicroseconds(_ packet: some Collection<UInt8>) throws(ProtocolError) -> UInt32 {
        UInt32(try samplesAt48kHz(packet) * 1000 / 48)
    }
}
