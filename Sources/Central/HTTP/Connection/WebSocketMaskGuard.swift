import NIOCore

/// RFC 6455 §5.1: "The server MUST close the connection upon receiving a frame that is not
/// masked", with status 1002 (§7.4.1). NIO's frame decoder and Hummingbird accept unmasked
/// client frames, so this handler reads the frame headers in the raw byte stream, in front of
/// the decoder, and ends the connection at the first unmasked one. Everything before that frame
/// is passed on; nothing from it on reaches the stream.
///
/// It only reads headers (2–14 bytes a frame) and skips payloads by count, so it costs a few
/// comparisons per frame and copies nothing.
final class WebSocketMaskGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A frame header read so far, without storing its bytes (no allocation per frame).
    private struct PartialHeader {
        var seen = 0
        /// The 7-bit length code of byte 1; the extended length follows it.
        var lengthCode: UInt8 = 0
        var length: UInt64 = 0

        var extendedLengthBytes: Int { lengthCode == 127 ? 8 : lengthCode == 126 ? 2 : 0 }
        var totalLength: Int { 2 + extendedLengthBytes + 4 }
    }

    private enum State {
        /// Collecting a frame header.
        case header(PartialHeader)
        /// Inside a payload: this many bytes still belong to the current frame.
        case payload(remaining: UInt64)
        case closed
    }

    private var state = State.header(PartialHeader())

    /// Close frame, status 1002 (protocol error); server frames are unmasked.
    static let protocolErrorClose: [UInt8] = [0x88, 0x02, 0x03, 0xEA]

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .closed = state { return }
        let buffer = unwrapInboundIn(data)
        guard let violation = firstUnmaskedFrame(in: buffer) else {
            context.fireChannelRead(data)
            return
        }
        if violation > 0, let before = buffer.getSlice(at: buffer.readerIndex, length: violation) {
            context.fireChannelRead(wrapInboundOut(before))
        }
        state = .closed
        let close = context.channel.allocator.buffer(bytes: Self.protocolErrorClose)
        context.writeAndFlush(wrapOutboundOut(close)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// Walks the frame headers in `buffer`; returns the offset of the first unmasked frame's
    /// header, or nil when every frame (so far) is masked.
    private func firstUnmaskedFrame(in buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { bytes -> Int? in
            var index = 0
            while index < bytes.count {
                switch state {
                case .closed:
                    return nil
                case .payload(let remaining):
                    let skip = min(remaining, UInt64(bytes.count - index))
                    index += Int(skip)
                    state = remaining == skip ? .header(PartialHeader()) : .payload(remaining: remaining - skip)
                case .header(var header):
                    let frameStart = index - header.seen
                    let byte = bytes[index]
                    index += 1
                    header.seen += 1
                    if header.seen == 2 {
                        guard byte & 0x80 != 0 else { return max(0, frameStart) }
                        header.lengthCode = byte & 0x7F
                        header.length = UInt64(header.lengthCode)
                        if header.extendedLengthBytes > 0 { header.length = 0 }
                    } else if header.seen > 2, header.seen <= 2 + header.extendedLengthBytes {
                        header.length = header.length << 8 | UInt64(byte)
                    }
                    guard header.seen >= 2, header.seen == header.totalLength else {
                        state = .header(header)
                        continue
                    }
                    state = header.length == 0 ? .header(PartialHeader()) : .payload(remaining: header.length)
                }
            }
            return nil
        }
    }
}
