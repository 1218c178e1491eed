import FakeProviders
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// OpenAI's Realtime endpoint (`/v1/realtime`) for transcription sessions, for tests and
/// development: `Authorization: Bearer` (401 at the upgrade, 429 when throttled), the query
/// (`intent=transcription`; with a `model` it is a conversation session, which refuses the
/// transcription update, as OpenAI's does), then `FakeRealtimeSession`.
enum FakeOpenAIRealtimeServer {
    static let path = "/v1/realtime"

    struct Options: Sendable {
        var host = "127.0.0.1"
        var port = 0
        var keys: Set<String> = []
    }

    static func buildApplication(options: Options, logger: Logger, onServerRunning: @escaping @Sendable (any Channel) async -> Void)
        -> some ApplicationProtocol
    {
        let state = FakeRealtimeState(validKeys: options.keys)
        let router = Router()
        addControlRoutes(to: router, state: state)
        router.get(RouterPath(path)) { request, _ -> Response in
            switch state.keys.status(of: FakeCredential.bearer(request.headers[.authorization])) {
            case .unknown, .revoked: return Response(status: .unauthorized)
            case .rateLimited: return Response(status: .tooManyRequests)
            case .valid: break
            }
            let query = request.uri.queryParameters
            guard query["intent"] == "transcription" || query["model"] != nil else { return Response(status: .badRequest) }
            return Response(status: .init(code: 426, reasonPhrase: "Upgrade Required"))
        }
        let upgrade = HTTP1WebSocketUpgradeChannel.Configuration(ws: .init(maxFrameSize: 16 << 20))
        let server = HTTPServerBuilder { responder in
            let channel = HTTP1WebSocketUpgradeChannel(responder: responder, configuration: upgrade) { head, _, _ in
                let uri = URI(head.path ?? "")
                guard uri.path == path else { return .dontUpgrade }
                let query = uri.queryParameters
                // Neither a transcription intent nor a model: OpenAI refuses the upgrade (400).
                guard query["intent"] == "transcription" || query["model"] != nil else { return .dontUpgrade }
                let key = FakeCredential.bearer(head.headerFields[.authorization]) ?? ""
                let conversation = query["model"] != nil
                return .upgrade([:]) { inbound, outbound, _ in
                    let session = FakeRealtimeSession(
                        outbound: outbound, state: state, keyHint: String(key.suffix(4)), conversationSession: conversation)
                    await session.run(inbound: inbound)
                }
            }
            return GatedChildChannel(inner: channel, keys: state.keys, credential: FakeCredential.bearer, enabled: true)
        }
        return Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "fake-openai-realtime"),
            onServerRunning: onServerRunning,
            logger: logger)
    }

    static func addControlRoutes(to router: Router<BasicRequestContext>, state: FakeRealtimeState) {
        FakeControlRoutes.add(
            to: router, keys: state.keys, injection: FakeRealtimeState.Injection.self, inject: { await state.inject($0) },
            reset: { await state.reset() }, reportsName: "sessions", reports: { await state.allReports() })
    }
}
