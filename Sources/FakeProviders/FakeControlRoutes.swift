import Foundation
import Hummingbird
import NIOCore

/// The control API every fake serves on its own port, for tests: keys revoked, throttled or
/// restored live, failures queued for what comes next, a reset, and the reports of what each
/// task, connection or request received.
public enum FakeControlRoutes {
    struct KeyBody: Decodable { var key: String }

    /// `POST /control/revoke|throttle|restore {"key":…}`, `POST /control/inject <Injection>`,
    /// `POST /control/reset`, `GET /control/<reportsName>` → `{"<reportsName>": [...]}`, on a
    /// router with any request context (fake-llm's carries the connection).
    public static func add<Context: RequestContext, Injection: Decodable & Sendable, Report: Encodable & Sendable>(
        to router: Router<Context>, keys: FakeKeyBook, injection: Injection.Type,
        inject: @escaping @Sendable (Injection) async -> Void, reset: @escaping @Sendable () async -> Void,
        reportsName: String, reports: @escaping @Sendable () async -> [Report]
    ) {
        let keyActions: [(String, @Sendable (String) -> Void)] = [
            ("revoke", keys.revoke), ("throttle", keys.throttle), ("restore", keys.restore),
        ]
        for (name, action) in keyActions {
            router.post("/control/\(name)") { request, context -> HTTPResponse.Status in
                action(try await request.decode(as: KeyBody.self, context: context).key)
                return .noContent
            }
        }
        router.post("/control/inject") { request, context -> HTTPResponse.Status in
            await inject(try await request.decode(as: Injection.self, context: context))
            return .noContent
        }
        router.post("/control/reset") { _, _ -> HTTPResponse.Status in
            await reset()
            return .noContent
        }
        router.get("/control/\(reportsName)") { _, _ -> Response in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = try encoder.encode([reportsName: await reports()])
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }
}
