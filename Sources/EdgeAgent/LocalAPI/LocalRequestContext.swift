import Hummingbird
import HummingbirdWebSocket

/// Context of requests to the edge's local API and page.
public struct LocalRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
    }

    public var maxUploadSize: Int { 16 * 1024 }
}
