import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// Wraps Hummingbird's HTTP/1.1 (+ WebSocket upgrade) child channel with central's connection
/// hygiene: `HTTPConnectionGuard` right after the request decoder, `InboundActivityHandler` at the
/// front. Under TLS it is wrapped in turn, so the TLS handler stays first and a socket that never
/// finishes its handshake runs out of header time like any other.
struct GuardedServerChannel<Base: ServerChildChannel>: ServerChildChannel {
    struct Value: ServerChildChannelValue {
        let base: Base.Value
        let verdict: ConnectionVerdict
        var channel: any Channel { base.channel }
    }

    let base: Base
    let limits: HTTPConnectionLimits
    let metrics: CentralMetrics?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let verdict = ConnectionVerdict()
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            let connectionGuard = HTTPConnectionGuard(limits: limits, verdict: verdict, metrics: metrics)
            let activity = InboundActivityHandler(notifying: connectionGuard)
            connectionGuard.activity = activity
            try pipeline.addHandler(connectionGuard, position: .after(decoder))
            try pipeline.addHandler(activity, position: .first)
            return Value(base: value, verdict: verdict)
        }
    }

    func handle(value: Value, logger: Logger) async {
        var quiet = logger
        quiet.handler = NoiseFilteringLogHandler(base: logger.handler, verdict: value.verdict)
        await base.handle(value: value.base, logger: quiet)
    }
}

extension HTTPServerBuilder {
    /// Hummingbird's HTTP/1.1 server with a WebSocket upgrade, guarded by `limits`: NIO's decoder
    /// gets the size limits, `GuardedServerChannel` the timeouts and checks.
    static func guardedHTTP1WebSocketUpgrade<WSResponder: HTTPResponderBuilder>(
        webSocketRouter: WSResponder, webSocket: WebSocketServerConfiguration, limits: HTTPConnectionLimits,
        metrics: CentralMetrics?
    ) -> HTTPServerBuilder where WSResponder.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        let http1 = HTTP1Channel.Configuration(
            idleTimeout: nil,
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: limits.maxHeaderFieldBytes, maxHeaderListSize: limits.maxHeaderBytes,
                maxHeaderFieldCount: limits.maxHeaderCount))
        return HTTPServerBuilder { responder in
            GuardedServerChannel(
                base: HTTP1WebSocketUpgradeChannel(
                    responder: responder, webSocketResponder: webSocketResponder,
                    configuration: .init(http1: http1, ws: webSocket)),
                limits: limits, metrics: metrics)
        }
    }
}

/// Passes log lines on, except those about a connection whose `ConnectionVerdict` says noise.
struct NoiseFilteringLogHandler: LogHandler {
    var base: any LogHandler
    let verdict: ConnectionVerdict

    func log(event: LogEvent) {
        guard !verdict.isNoise else { return }
        base.log(event: event)
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue }
    }

    var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = newValue }
    }

    var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { base.metadataProvider }
        set { base.metadataProvider = newValue }
    }
}
