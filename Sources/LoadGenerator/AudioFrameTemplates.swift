import NIOCore
import Protocol

/// One pre-built masked binary frame per Opus packet (the `AudioFrame` wire format with sequence
/// and capture time 0). Each tick copies one into a stream's buffer and patches the only two
/// fields that change per frame, instead of encoding and masking a frame.
struct AudioFrameTemplates: Sendable {
    private let frames: [[UInt8]]
    /// Offset of the `AudioFrame` within each WebSocket frame.
    private let payloadOffsets: [Int]
    // `AudioFrame`'s layout (Sources/Protocol/AudioFrame.swift): sequence at 4, capture time at 12.
    // Both are multiples of 4, so a masked field is the field XOR the mask word.
    private static let sequenceOffset = 4
    private static let captureTimeOffset = 12

    var count: Int { frames.count }

    init(packets: [[UInt8]]) throws {
        var frames: [[UInt8]] = []
        var offsets: [Int] = []
        for packet in packets {
            let payload = try AudioFrame(sequence: 0, captureTimeMicroseconds: 0, packet: packet).encoded()
            frames.append(MaskedFrame.bytes(opcode: MaskedFrame.binary, payload: payload))
            offsets.append(MaskedFrame.headerSize(payloadCount: payload.count))
        }
        guard !frames.isEmpty else { throw LoadError("no Opus packets to send") }
        self.frames = frames
        self.payloadOffsets = offsets
        try selfCheck()
    }

    /// Replaces `buffer`'s contents with frame `index` carrying `sequence` and `captureTimeMicroseconds`.
    func write(_ index: Int, sequence: UInt32, captureTimeMicroseconds: UInt64, into buffer: inout ByteBuffer) {
        let payload = payloadOffsets[index]
        buffer.clear()
        buffer.writeBytes(frames[index])
        buffer.setInteger(sequence ^ MaskedFrame.maskWord, at: payload + Self.sequenceOffset)
        buffer.setInteger(UInt32(truncatingIfNeeded: captureTimeMicroseconds >> 32) ^ MaskedFrame.maskWord, at: payload + Self.captureTimeOffset)
        buffer.setInteger(UInt32(truncatingIfNeeded: captureTimeMicroseconds) ^ MaskedFrame.maskWord, at: payload + Self.captureTimeOffset + 4)
    }

    /// The patched bytes, unmasked, must decode to the frame they claim to be: this catches a
    /// change of the wire format before a run measures garbage.
    private func selfCheck() throws {
        let sequence: UInt32 = 0x0102_0304
        let capture: UInt64 = 0x0506_0708_090A_0B0C
        var buffer = ByteBuffer()
        for index in frames.indices {
            write(index, sequence: sequence, captureTimeMicroseconds: capture, into: &buffer)
            let bytes = Array(buffer.readableBytesView)
            let payload = payloadOffsets[index]
            let mask = bytes[(payload - 4)..<payload]
            let unmasked = bytes[payload...].enumerated().map { $0.element ^ mask[mask.startIndex + ($0.offset & 3)] }
            let frame = try AudioFrame.decode(unmasked)
            guard frame.sequence == sequence, frame.captureTimeMicroseconds == capture else {
                throw LoadError("pre-built audio frame \(index) does not decode to its sequence and capture time")
            }
        }
    }
}
