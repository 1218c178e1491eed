import Hummingbird
import NIOCore

/// Decides which IP address a request came from. `X-Forwarded-For` is believed only when the
/// direct peer is a configured trusted proxy; then the right-most untrusted hop is the client.
struct ClientAddressResolver: Sendable {
    let trustedProxies: [CIDRBlock]

    func clientIP(request: Request, context: CentralRequestContext) -> String {
        clientIP(peer: context.remoteAddress, forwardedFor: request.header("x-forwarded-for"))
    }

    /// The same rule for any connection (the stream upgrade has a context of its own).
    func clientIP(peer address: SocketAddress?, forwardedFor: String?) -> String {
        let peer = address?.ipAddress ?? "0.0.0.0"
        guard trustedProxies.contains(where: { $0.contains(peer) }), let forwarded = forwardedFor else { return peer }
        let hops = forwarded.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() where IPAddressParser.parse(hop) != nil {
            if !trustedProxies.contains(where: { $0.contains(hop) }) { return hop }
        }
        return peer
    }
}
