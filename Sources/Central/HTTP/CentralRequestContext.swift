import Hummingbird
import NIOCore

/// The per-request context: Hummingbird's core storage plus the peer address, which the
/// IP allowlist and the authentication rate limit need.
public struct CentralRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// Set by `AdminAuthMiddleware` for `/v1/admin` requests: who is acting, with what role.
    public var adminOperator: AuthenticatedOperator?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// Admin and edge request bodies are small JSON documents.
    public var maxUploadSize: Int { 64 * 1024 }
}
