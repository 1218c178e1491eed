import Central
import FakeProviders
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import Synchronization

/// A DashScope "inference" endpoint for tests and development: it checks the auth header,
/// validates what it is sent (command order and fields, Ogg pages and CRCs, decodable Opus,
/// granules, sample counts) and answers in DashScope's shapes. `/control/…` injects failures
/// and reports what each task received.
enum FakeDashScopeServer {
    static let path = "/api-ws/v1/inference"
    static let models: Set<String> = ["gummy-realtime-v1", "gummy-chat-v1", "paraformer-realtime-v2", "paraformer-realtime-8k-v2", "fun-asr-realtime"]
    static let formats: Set<String> = ["pcm", "wav", "mp3", "opus", "speex", "aac", "amr"]

    struct Options: Sendable {
        var host = "127.0.0.1"
        var port = 0
        var keys: Set<String> = []
        /// `upgrade`: a bad key is refused at the WebSocket upgrade; `task-failed`: at run-task.
        var badKeyMode = "upgrade"
        var resultDelayMs = 0
        var silenceTimeout: Duration = .seconds(23)
    }

    static func buildApplication(options: Options, logger: Logger, onServerRunning: @escaping @Sendable (any Channel) async -> Void)
        -> some ApplicationProtocol
    {
        let state = FakeDashScopeState(validKeys: options.keys, resultDelayMs: options.resultDelayMs)
        let router = Router()
        addControlRoutes(to: router, state: state)
        // Without an upgrade, the endpoint answers with the status a real refusal would carry.
        router.get(RouterPath(path)) { request, _ -> Response in
            switch state.keys.status(of: FakeCredential.bearer(request.headers[.authorization])) {
            case .unknown, .revoked: return Response(status: .unauthorized)
            case .rateLimited: return Response(status: .tooManyRequests)
            case .valid: return Response(status: .init(code: 426, reasonPhrase: "Upgrade Required"))
            }
        }
        let upgrade = HTTP1WebSocketUpgradeChannel.Configuration(ws: .init(maxFrameSize: 1 << 20))
        let server = HTTPServerBuilder { responder in
            let channel = HTTP1WebSocketUpgradeChannel(responder: responder, configuration: upgrade) { head, _, _ in
                guard head.path == path else { return .dontUpgrade }
                let key = FakeCredential.bearer(head.headerFields[.authorization])
                return .upgrade([:]) { inbound, outbound, context in
                    let connection = FakeConnection(options: options, state: state, outbound: outbound, key: key, logger: context.logger)
                    await connection.run(inbound: inbound)
                }
            }
            // In `task-failed` mode a bad key is let through and refused at run-task instead.
            return GatedChildChannel(inner: channel, keys: state.keys, credential: FakeCredential.bearer, enabled: options.badKeyMode == "upgrade")
        }
        return Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "fake-dashscope"),
            onServerRunning: onServerRunning,
            logger: logger)
    }

    static func addControlRoutes(to router: Router<BasicRequestContext>, state: FakeDashScopeState) {
        FakeControlRoutes.add(
            to: router, keys: state.keys, injection: FakeDashScopeState.Injection.self, inject: { await state.inject($0) },
            reset: { await state.reset() }, reportsName: "tasks", reports: { await state.allReports() })
    }
}
