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

    private enum State {
        /// Collecting a frame header; `bytes` holds what arrived so far.
        case header(bytes: [UInt8])
        /// Inside a payload: this many bytes still belong to the current frame.
        case payload(remaining: UInt64)
        case closed
    }

    private var state = State.header(bytes: [])

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
                    state = remaining == skip ? .header(bytes: []) : .payload(remaining: remaining - skip)
                case .header(var header):
                    let frameStart = index - header.count
                    header.append(bytes[index])
                    index += 1
                    guard header.count >= 2 else {
                        state = .header(bytes: header)
                        continue
                    }
                    guard header[1] & 0x80 != 0 else { return max(0, frameStart) }
                    let lengthCode = header[1] & 0x7F
                    let lengthBytes = lengthCode == 127 ? 8 : lengthCode == 126 ? 2 : 0
                    let headerLength = 2 + lengthBytes + 4
                    guard header.count == headerLength else {
                        state = .header(bytes: header)
                        continue
                    }
                    var length = UInt64(lengthCode)
                    if lengthBytes > 0 {
                        length = header[2..<(2 + lengthBytes)].reduce(0) { $0 << 8 | UInt64($1) }
                    }
                    state = length == 0 ? .header(bytes: []) : .payload(remaining: length)
                }
            }
            return nil
        }
    }
}
