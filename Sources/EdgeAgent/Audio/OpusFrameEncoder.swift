import COpus

/// Settings of the edge's Opus encoder (VOIP mode, 20 ms frames).
public struct OpusEncoderSettings: Sendable, Equatable {
    public var sampleRate: Int32 = 16_000
    public var bitrate: Int32 = 24_000
    /// 0 (fastest) … 10 (best).
    public var complexity: Int32 = 5
    /// In-band forward error correction, so the provider can conceal a lost packet.
    public var inbandFEC = true
    public var expectedPacketLossPercent: Int32 = 5

    public init() {}

    /// Samples in one 20 ms frame at the sample rate.
    public var frameSamples: Int { Int(sampleRate) / 50 }
}

/// libopus encoding of 20 ms mono frames. Not thread-safe: one encoder per capture pipeline.
public final class OpusFrameEncoder {
    public enum EncoderError: Error, Equatable, CustomStringConvertible {
        case create(Int32)
        case setting(String, Int32)
        case encode(Int32)
        case wrongFrameSize(expected: Int, got: Int)

        public var description: String {
            switch self {
            case .create(let code): "Opus encoder could not be created: \(String(cString: opus_strerror(code)))"
            case .setting(let name, let code): "Opus setting \(name) refused: \(String(cString: opus_strerror(code)))"
            case .encode(let code): "Opus encoding failed: \(String(cString: opus_strerror(code)))"
            case .wrongFrameSize(let expected, let got): "expected \(expected) samples per frame, got \(got)"
            }
        }
    }

    private let encoder: OpaquePointer
    public let settings: OpusEncoderSettings
    /// The encoder's lookahead in 48 kHz samples: central needs it as the Ogg Opus pre-skip.
    public let lookaheadAt48kHz: Int
    private var output = [UInt8](repeating: 0, count: 1_500)

    public init(settings: OpusEncoderSettings = OpusEncoderSettings()) throws {
        var error: Int32 = 0
        guard let encoder = opus_encoder_create(settings.sampleRate, 1, OPUS_APPLICATION_VOIP, &error), error == OPUS_OK else {
            throw EncoderError.create(error)
        }
        self.encoder = encoder
        self.settings = settings
        func apply(_ name: String, _ result: Int32) throws {
            guard result == OPUS_OK else {
                opus_encoder_destroy(encoder)
                throw EncoderError.setting(name, result)
            }
        }
        try apply("bitrate", copus_set_bitrate(encoder, settings.bitrate))
        try apply("complexity", copus_set_complexity(encoder, settings.complexity))
        try apply("inband FEC", copus_set_inband_fec(encoder, settings.inbandFEC ? 1 : 0))
        try apply("packet loss", copus_set_packet_loss_percent(encoder, settings.expectedPacketLossPercent))
        var lookahead: Int32 = 0
        try apply("lookahead", copus_get_lookahead(encoder, &lookahead))
        // libopus reports the lookahead at the encoder's rate; Ogg's pre-skip is at 48 kHz.
        lookaheadAt48kHz = Int(lookahead) * 48_000 / Int(settings.sampleRate)
    }

    deinit {
        opus_encoder_destroy(encoder)
    }

    /// Encodes exactly one 20 ms frame.
    public func encode(_ pcm: ArraySlice<Int16>) throws(EncoderError) -> [UInt8] {
        guard pcm.count == settings.frameSamples else {
            throw .wrongFrameSize(expected: settings.frameSamples, got: pcm.count)
        }
        let length = pcm.withUnsafeBufferPointer { samples -> Int32 in
            output.withUnsafeMutableBufferPointer { bytes -> Int32 in
                guard let input = samples.baseAddress, let packet = bytes.baseAddress else { return OPUS_BAD_ARG }
                return opus_encode(encoder, input, Int32(samples.count), packet, Int32(bytes.count))
            }
        }
        guard length > 0 else { throw .encode(length) }
        return Array(output.prefix(Int(length)))
    }
}
