/// How long central waits on an HTTP client, and how large a request head may be. A client
/// that is slower or bigger is answered (400, 431) or closed, so stalled and hostile sockets
/// cannot pile up. The defaults are in the README's configuration table and docs/security.md.
public struct HTTPConnectionLimits: Sendable, Equatable {
    /// From the connection's open, or from the first byte of a later request on a kept-alive
    /// connection, until the request head is complete (`HTTP_HEADER_TIMEOUT_SECONDS`).
    public var headerTimeout: Duration = .seconds(10)
    /// From the end of the request head until the end of its body (`HTTP_BODY_TIMEOUT_SECONDS`).
    /// A total, not an inactivity timer: a body dripped a byte at a time is cut too.
    public var bodyTimeout: Duration = .seconds(30)
    /// A kept-alive connection with no request in flight is closed after this long
    /// (`HTTP_IDLE_TIMEOUT_SECONDS`). Longer than the usual client pool idle time (60 s in
    /// AsyncHTTPClient, which the edge uses), so clients drop idle connections first and never
    /// send a request into one central is closing.
    public var idleTimeout: Duration = .seconds(75)
    /// The largest single piece of the head: the request URI, a header name or a header value.
    public var maxHeaderFieldBytes = 8 * 1024
    /// The whole head: URI plus every header name and value.
    public var maxHeaderBytes = 16 * 1024
    /// Header fields in one request.
    public var maxHeaderCount = 100

    public init() {}
}
