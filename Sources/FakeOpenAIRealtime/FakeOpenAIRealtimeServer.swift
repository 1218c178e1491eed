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
            switch state.keys.status(of: bearer(request.headers[.authorization])) {
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
                let key = bearer(head.headerFields[.authorization]) ?? ""
                let conversation = query["model"] != nil
                return .upgrade([:]) { inbound, outbound, _ in
                    let session = FakeRealtimeSession(
                        outbound: outbound, state: state, keyHint: String(key.suffix(4)), conversationSession: conversation)
                    await session.run(inbound: inbound)
                }
            }
            return GatedChildChannel(inner: channel, keys: state.keys, credential: bearer, enabled: true)
        }
        return Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "fake-openai-realtime"),
            onServerRunning: onServerRunning,
            logger: logger)
    }

    @Sendable static func bearer(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1])
    }

    static func addControlRoutes(to router: Router<BasicRequestContext>, state: FakeRealtimeState) {
        struct KeyBody: Decodable { var key: String }
        router.post("/control/revoke") { request, context -> HTTPResponse.Status in
            state.keys.revoke(try await request.decode(as: KeyBody.self, context: context).key)
            return .noContent
        }
        router.post("/control/throttle") { request, context -> HTTPResponse.Status in
            state.keys.throttle(try await request.decode(as: KeyBody.self, context: context).key)
            return .noContent
        }
        router.post("/control/restore") { request, context -> HTTPResponse.Status in
            state.keys.restore(try await request.decode(as: KeyBody.self, context: context).key)
            return .noContent
        }
        router.post("/control/inject") { request, context -> HTTPResponse.Status in
            await state.inject(try await request.decode(as: FakeRealtimeState.Injection.self, context: context))
            return .noContent
        }
        router.post("/control/reset") { _, _ -> HTTPResponse.Status in
            await state.reset()
            return .noContent
        }
        router.get("/control/sessions") { _, _ -> Response in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = try encoder.encode(["sessions": await state.allReports()])
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }
}
