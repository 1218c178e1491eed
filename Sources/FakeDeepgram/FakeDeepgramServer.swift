import FakeProviders
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// Deepgram's live endpoint (`/v1/listen`) for tests and development: it checks the
/// `Authorization: Token` header (401 at the upgrade, 429 when throttled), the query (400 at the
/// upgrade), the audio (Ogg pages and CRCs, decodable Opus, granules; or raw linear16), and
/// answers in Deepgram's shapes. `/control/…` injects failures and reports each connection.
enum FakeDeepgramServer {
    static let path = "/v1/listen"

    struct Options: Sendable {
        var host = "127.0.0.1"
        var port = 0
        var keys: Set<String> = []
        var silenceTimeout: Duration = .seconds(10)
    }

    static func buildApplication(options: Options, logger: Logger, onServerRunning: @escaping @Sendable (any Channel) async -> Void)
        -> some ApplicationProtocol
    {
        let state = FakeDeepgramState(validKeys: options.keys)
        let router = Router()
        addControlRoutes(to: router, state: state)
        // Without an upgrade the endpoint answers with the status a refused upgrade carries.
        router.get(RouterPath(path)) { request, _ -> Response in
            switch state.keys.status(of: FakeCredential.token(request.headers[.authorization])) {
            case .unknown, .revoked: return Response(status: .unauthorized)
            case .rateLimited: return Response(status: .tooManyRequests)
            case .valid: break
            }
            if case .failure = FakeListenQuery.parse(FakeListenQuery.items(request.uri.query ?? "")) {
                return Response(status: .badRequest)
            }
            return Response(status: .init(code: 426, reasonPhrase: "Upgrade Required"))
        }
        let upgrade = HTTP1WebSocketUpgradeChannel.Configuration(ws: .init(maxFrameSize: 1 << 20))
        let server = HTTPServerBuilder { responder in
            let channel = HTTP1WebSocketUpgradeChannel(responder: responder, configuration: upgrade) { head, _, _ in
                let target = head.path ?? ""
                let parts = target.split(separator: "?", maxSplits: 1)
                guard parts.first.map(String.init) == path else { return .dontUpgrade }
                // A query Deepgram refuses is a 400 at the upgrade (Hummingbird's answer to a refused upgrade).
                guard case .success(let query) = FakeListenQuery.parse(FakeListenQuery.items(parts.count > 1 ? String(parts[1]) : "")) else {
                    return .dontUpgrade
                }
                let key = FakeCredential.token(head.headerFields[.authorization]) ?? ""
                return .upgrade([:]) { inbound, outbound, _ in
                    let stream = FakeListenStream(query: query, keyHint: String(key.suffix(4)))
                    let connection = FakeListenConnection(
                        stream: stream, state: state, outbound: outbound, silenceTimeout: options.silenceTimeout)
                    await connection.run(inbound: inbound)
                }
            }
            return GatedChildChannel(inner: channel, keys: state.keys, credential: FakeCredential.token, enabled: true)
        }
        return Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "fake-deepgram"),
            onServerRunning: onServerRunning,
            logger: logger)
    }

    static func addControlRoutes(to router: Router<BasicRequestContext>, state: FakeDeepgramState) {
        FakeControlRoutes.add(
            to: router, keys: state.keys, injection: FakeDeepgramState.Injection.self, inject: { await state.inject($0) },
            reset: { await state.reset() }, reportsName: "connections", reports: { await state.allReports() })
    }
}
