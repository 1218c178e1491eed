import HummingbirdCore
import Logging
import NIOCore

/// Answers a WebSocket upgrade carrying a bad key with 401 (a throttled key with 429), as
/// DashScope does. Hummingbird answers every refused upgrade with 400, so this reads the raw
/// request head before Hummingbird sees it, then steps out of the pipeline.
final class FakeUpgradeGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let keys: FakeKeyBook
    private var pending: ByteBuffer?

    init(keys: FakeKeyBook) {
        self.keys = keys
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        var buffer = pending ?? context.channel.allocator.buffer(capacity: incoming.readableBytes)
        buffer.writeBuffer(&incoming)
        let view = buffer.readableBytesView
        guard let headEnd = view.firstRange(of: Array("\r\n\r\n".utf8)) else {
            // Not a whole head yet; anything this large is not ours to judge.
            if buffer.readableBytes > 32_768 { forward(context, buffer) } else { pending = buffer }
            return
        }
        let head = String(decoding: view[view.startIndex..<headEnd.lowerBound], as: UTF8.self)
        var headers: [String: String] = [:]
        for line in head.split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        if headers["upgrade"]?.lowercased() == "websocket" {
            switch keys.status(of: FakeDashScopeServer.bearer(headers["authorization"])) {
            case .unknown, .revoked: return refuse(context, "401 Unauthorized")
            case .rateLimited: return refuse(context, "429 Too Many Requests")
            case .valid: break
            }
        }
        forward(context, buffer)
    }

    private func forward(_ context: ChannelHandlerContext, _ buffer: ByteBuffer) {
        pending = nil
        context.fireChannelRead(wrapInboundOut(buffer))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    private func refuse(_ context: ChannelHandlerContext, _ status: String) {
        pending = nil
        let response = "HTTP/1.1 \(status)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(string: response))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}

/// A server child channel with the gate in front of the inner (Hummingbird) pipeline.
struct GatedChildChannel<Inner: ServerChildChannel>: ServerChildChannel {
    typealias Value = Inner.Value
    let inner: Inner
    let keys: FakeKeyBook
    let enabled: Bool

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard enabled else { return inner.setup(channel: channel, logger: logger) }
        let keys = self.keys
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(FakeUpgradeGate(keys: keys), position: .first)
        }.flatMap {
            inner.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}
