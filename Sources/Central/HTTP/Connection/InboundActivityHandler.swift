import NIOCore

/// Sits at the very front of an HTTP connection's pipeline and tells `HTTPConnectionGuard` that
/// bytes arrived, before the HTTP decoder buffers them: a request head that is still incomplete
/// produces no HTTP part, so only raw reads show that the client began one.
final class InboundActivityHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// Unowned in spirit: the guard removes this handler when it leaves, and drops it on removal.
    private weak var connectionGuard: HTTPConnectionGuard?

    init(notifying connectionGuard: HTTPConnectionGuard) {
        self.connectionGuard = connectionGuard
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connectionGuard?.bytesArrived()
        context.fireChannelRead(data)
    }
}
