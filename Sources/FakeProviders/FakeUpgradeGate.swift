import HummingbirdCore
import Logging
import NIOCore

/// Answers a WebSocket upgrade carrying a bad key with 401 (a throttled key with 429), as
/// DashScope and Deepgram do. Hummingbird answers every refused upgrade with 400, so this reads the raw
/// request head before Hummingbird sees it, then steps out of the pipeline.
final class FakeUpgradeGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let keys: FakeKeyBook
    private let credential: @Sendable (String?) -> String?
    private var pending: ByteBuffer?

    /// `credential` takes the key out of the `Authorization` header (each provider has its scheme).
    init(keys: FakeKeyBook, credential: @escaping @Sendable (String?) -> String?) {
        self.keys = keys
        self.credential = credential
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
            switch keys.status(of: credential(headers["authorization"])) {
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
public struct GatedChildChannel<Inner: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Inner.Value
    let inner: Inner
    let keys: FakeKeyBook
    let credential: @Sendable (String?) -> String?
    let enabled: Bool

    public init(inner: Inner, keys: FakeKeyBook, credential: @escaping @Sendable (String?) -> String?, enabled: Bool) {
        self.inner = inner
        self.keys = keys
        self.credential = credential
        self.enabled = enabled
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard enabled else { return inner.setup(channel: channel, logger: logger) }
        let keys = self.keys, credential = self.credential
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(FakeUpgradeGate(keys: keys, credential: credential), position: .first)
        }.flatMap {
            inner.setup(channel: channel, logger: logger)
        }
    }

    public func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}
