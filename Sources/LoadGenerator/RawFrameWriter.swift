import NIOCore

/// The first handler of a stream's pipeline. What a `StreamChannelHandler` sends through it goes
/// straight to the socket: the pre-built masked frames skip NIOWebSocket's frame encoder, which
/// the upgrade installs and which cannot be removed. Everything else passes through unchanged.
final class RawFrameWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func send(_ bytes: ByteBuffer) { context?.write(wrapOutboundOut(bytes), promise: nil) }
    func flush() { context?.flush() }
}
