import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import Protocol

/// The edge's local API and page on EDGE_BIND:EDGE_PORT (127.0.0.1:3000 by default).
public enum LocalAPI {
    public static func buildApplication(
        configuration: EdgeConfiguration, controller: TranslationController, logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router(context: LocalRequestContext.self)
        let policy = LocalOriginPolicy(port: configuration.port, hostName: configuration.hostName)
        let web = Bundle.module.resourceURL?.appendingPathComponent("Web").path
        router.add(middleware: LocalRequestGate(policy: policy, staticAssets: web.map(LocalRequestPath.staticAssets(under:)) ?? []))
        if let web {
            router.add(middleware: FileMiddleware(web, searchForIndexHtml: true, logger: logger))
        }
        addRoutes(to: router, controller: controller)
        router.ws("/ws") { request, _ in
            // The gate already refused foreign hosts, origins and other spellings; checked again
            // here so the upgrade never depends on middleware order alone.
            policy.check(host: request.head.authority, origins: request.headers[values: .origin]) == .allowed
                && LocalRequestPath.isCanonical(request.uri.path)
                ? .upgrade([:]) : .dontUpgrade
        } onUpgrade: { inbound, outbound, _ in
            let (id, events) = await controller.subscribe()
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    // Binary messages are the page's microphone (browser-microphone mode); text is ignored.
                    do {
                        for try await message in inbound.messages(maxSize: BrowserMicrophone.messageMaxBytes) {
                            guard case .binary(let buffer) = message else { continue }
                            // Straight into the capture's hand-off: no hop onto the controller.
                            if let problem = controller.browserMicrophone.receive(Array(buffer: buffer), from: id) {
                                controller.pages.send(.error(code: problem.code, message: problem.message), to: id)
                            }
                        }
                    } catch {}
                    await controller.unsubscribe(id)
                }
                let encoder = WireCoding.encoder()
                for await event in events {
                    guard let data = try? encoder.encode(event) else { continue }
                    do { try await outbound.write(.text(String(decoding: data, as: UTF8.self))) } catch { break }
                }
                await controller.unsubscribe(id)
                group.cancelAll()
            }
        }
        return Application(
            router: router,
            server: .http1WebSocketUpgrade(webSocketRouter: router),
            configuration: .init(address: .hostname(configuration.bindAddress, port: configuration.port), serverName: "edge-agent"),
            onServerRunning: { channel in
                if let bound = channel.localAddress?.port { policy.serving(on: bound) }
                await onServerRunning(channel)
            },
            logger: logger)
    }

    static func addRoutes(to router: Router<LocalRequestContext>, controller: TranslationController) {
        router.get("/api/status") { _, _ in try json(await controller.currentStatus()) }
        router.get("/api/license/quota") { _, _ in
            do {
                return try json(try await controller.quota())
            } catch let failure as CentralClient.Refusal {
                return refusal(failure)
            }
        }
        router.get("/api/license/minutes-request") { _, _ in
            do {
                return try json(try await controller.latestMinutesRequest())
            } catch let failure as CentralClient.Refusal {
                return refusal(failure)
            }
        }
        router.post("/api/license/minutes-request") { request, context in
            let body = try await request.body.collect(upTo: context.maxUploadSize)
            guard let asked = MinutesRequestBody.parse(Data(buffer: body)) else {
                return error(
                    .badRequest, .invalidMessage,
                    "Send {\"minutes\": 1-100000, \"note\": optional text of at most 500 characters}.")
            }
            do {
                return try json(try await controller.requestMinutes(asked.minutes, note: asked.note ?? ""), status: .created)
            } catch let failure as CentralClient.Refusal {
                return refusal(failure)
            }
        }
        router.get("/api/devices") { _, _ in try json(["devices": await controller.devices()]) }
        router.get("/api/languages") { _, _ in
            do {
                return try json(try await controller.languages())
            } catch let failure as CentralClient.Refusal {
                return refusal(failure)
            }
        }
        router.post("/api/translation/start") { request, context in
            let body = try await request.body.collect(upTo: context.maxUploadSize)
            guard let start = TranslationStartRequest.parse(Data(buffer: body)) else {
                return error(.badRequest, .invalidMessage, "Send {\"source_language\": \"zh\", \"target_language\": \"en\", \"device\": optional}.")
            }
            do {
                try await controller.start(sourceLanguage: start.sourceLanguage, targetLanguage: start.targetLanguage, device: start.device)
                return try json(await controller.currentStatus(), status: .accepted)
            } catch let failure as CentralClient.Refusal {
                return refusal(failure)
            } catch TranslationController.ControlError.alreadyStreaming {
                return error(.conflict, .alreadyStreaming, "A translation is already running; stop it first.")
            } catch TranslationController.ControlError.invalidDevice {
                return error(.badRequest, .invalidDevice, "Choose a device from GET /api/devices, \"default\", the configured AUDIO_DEVICE, or \"browser\".")
            } catch {
                return LocalAPI.error(.internalServerError, .internalError, "\(error)")
            }
        }
        router.post("/api/translation/stop") { _, _ in
            do {
                try await controller.stop()
                return try json(await controller.currentStatus())
            } catch {
                return LocalAPI.error(.conflict, .notStreaming, "No translation is running.")
            }
        }
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: try WireCoding.encoder().encode(value))))
    }

    static func error(_ status: HTTPResponse.Status, _ code: ErrorCode, _ message: String) -> Response {
        let data = (try? WireCoding.encoder().encode(ErrorBody(code: code, message: message))) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Central's refusal, passed on with its code; unreachable central is a 502.
    static func refusal(_ refusal: CentralClient.Refusal) -> Response {
        let status: HTTPResponse.Status = refusal.status == 0 ? .badGateway : .init(code: refusal.status)
        return error(status, refusal.code, refusal.message)
    }
}
