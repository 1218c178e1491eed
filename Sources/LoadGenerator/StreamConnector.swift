import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// Opens stream WebSockets on raw NIO channels: TCP connect, the HTTP/1.1 upgrade with the stream
/// token (NIOWebSocket's client upgrader), then a `RawFrameWriter` and a `StreamChannelHandler`
/// bound to the pacer of the channel's event loop.
struct StreamConnector: Sendable {
    let host: String
    let port: Int
    let path: String

    /// Returns once the upgrade is answered; what the stream does next is counted by its pacer.
    func open(token: String, on pacer: LoopPacer) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(host):\(port)")
        headers.add(name: "Authorization", value: "Bearer \(token)")
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        let upgraded = try await ClientBootstrap(group: pacer.eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOTypedWebSocketClientUpgrader<Bool>(maxFrameSize: 1 << 16) { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            let writer = RawFrameWriter()
                            try channel.pipeline.syncOperations.addHandler(writer, position: .first)
                            try channel.pipeline.syncOperations.addHandler(StreamChannelHandler(pacer: pacer, writer: writer))
                            return true
                        }
                    }
                    let upgrade = NIOTypedHTTPClientUpgradeConfiguration<Bool>(
                        upgradeRequestHead: head, upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in
                            channel.close(promise: nil)
                            return channel.eventLoop.makeSucceededFuture(false)
                        })
                    var configuration = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: upgrade)
                    configuration.leftOverBytesStrategy = .forwardBytes
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: configuration)
                }
            }
            .get()
        guard upgraded else { throw LoadError("upgrade refused") }
    }
}
