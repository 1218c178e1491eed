import COpus

/// libopus decoding to 16-bit PCM. Not thread-safe: one decoder belongs to one task.
public final class OpusFrameDecoder {
    private let decoder: OpaquePointer
    public let sampleRate: Int32
    private var pcm: [Int16]

    public init?(sampleRate: Int32 = 16_000) {
        var error: Int32 = 0
        guard let decoder = opus_decoder_create(sampleRate, 1, &error), error == OPUS_OK else { return nil }
        self.decoder = decoder
        self.sampleRate = sampleRate
        // 120 ms, the longest Opus packet.
        self.pcm = [Int16](repeating: 0, count: Int(sampleRate) * 120 / 1000)
    }

    deinit {
        opus_decoder_destroy(decoder)
    }

    /// Decoded samples, or nil when libopus rejects the packet.
    public func decode(_ packet: [UInt8]) -> ArraySlice<Int16>? {
        let count = packet.withUnsafeBufferPointer { input -> Int32 in
            pcm.withUnsafeMutableBufferPointer { output -> Int32 in
                guard let samples = output.baseAddress else { return OPUS_BAD_ARG }
                return opus_decode(decoder, input.baseAddress, Int32(input.count), samples, Int32(output.count), 0)
            }
        }
        guard count > 0 else { return nil }
        return pcm[0..<Int(count)]
    }
}
