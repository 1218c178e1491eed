import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Protocol

/// The OpenAI-compatible chat proxy: `POST /v1/chat/completions` and `GET /v1/models`, with a
/// license key as the bearer. Each request is reserved against the license's chat quota before
/// it goes upstream (`ChatQuotaPolicy`, atomically in the store), streamed through event by
/// event, and settled once with what the upstream reported (or what was delivered).
struct ChatController {
    let services: CentralServices
    let settings: ChatSettings
    /// nil when no upstream is configured.
    let client: ChatUpstreamClient?

    func addRoutes(to router: Router<CentralRequestContext>) {
        let group = router.group("/v1").add(middleware: OpenAIErrorMiddleware())
        group.post("chat/completions", use: complete)
        group.get("models", use: models)
    }

    /// The license behind the bearer key, from an address it allows.
    private func license(_ request: Request, _ context: CentralRequestContext) async throws -> License {
        let license = try await services.authenticatedLicense(request, context)
        guard license.ipAllowlist.allows(services.clientIP(request, context)) else {
            throw ChatRefusal(.ipNotAllowed, status: 403, "This address is not allowed to use the license.")
        }
        return license
    }

    struct ModelList: Encodable {
        struct Model: Encodable {
            var id: String
            var object = "model"
            var created: Int
            var ownedBy: String

            enum CodingKeys: String, CodingKey {
                case id, object, created
                case ownedBy = "owned_by"
            }
        }

        var object = "list"
        var data: [Model]
    }

    /// The models the license may ask for, by the names it asks with.
    @Sendable func models(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let license = try await license(request, context)
        let now = services.clock.now()
        if let code = AdmissionPolicy.stateRefusal(license, now: now) {
            throw ChatRefusal(code, status: 403, StreamStopSentence.licenseState(code))
        }
        guard let quota = license.chat else { throw ChatRefusal(.chatNotEnabled, status: 403, "This license has no chat quota.") }
        let created = Int(license.createdAt.timeIntervalSince1970)
        return try jsonResponse(ModelList(data: quota.models.keys.sorted().map { name in
            ModelList.Model(id: name, created: created, ownedBy: quota.models[name]?.upstream ?? "central")
        }))
    }

    @Sendable func complete(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let license = try await license(request, context)
        let body = try await request.body.collect(upTo: settings.maxBodyBytes)
        let chat = try ChatCompletionRequest(data: Data(buffer: body))
        let now = services.clock.now()
        let (_, route) = try ChatQuotaPolicy.route(model: chat.model, license: license, now: now)
        let metrics = services.metrics.chat(upstream: route.upstream)
        guard let upstream = settings.upstream(named: route.upstream), let client else {
            metrics.recordRequest(outcome: "upstream_not_configured")
            throw ChatRefusal(
                .upstreamUnavailable, status: 503, "The model '\(chat.model)' is served by an upstream this central does not run.")
        }
        let id = Self.newRequestID()
        let estimatedInput = chat.estimatedInputTokens
        let asked = ChatReservationRequest(
            id: id, licenseID: license.id, model: chat.model, upstream: upstream.name, inputTokens: estimatedInput,
            requestedOutputTokens: chat.maxTokens, defaultOutputTokens: settings.maxOutputTokens,
            expiresAt: now.addingTimeInterval(settings.reservationLifetime))
        guard let outcome = try await services.store.reserveChatRequest(asked, now: now) else {
            throw APIError(.unauthorized, .licenseNotFound, "The license no longer exists.")
        }
        let reservation: ChatReservation
        switch outcome {
        case .refused(let refusal):
            metrics.recordRequest(outcome: "refused_\(refusal.code.rawValue)")
            throw refusal
        case .reserved(let granted):
            reservation = granted
        }
        let upstreamBody = chat.upstreamBody(model: route.model, maxOutputTokens: reservation.maxOutputTokens)
        let opened: ChatUpstreamClient.Opened
        do {
            opened = try await client.open(upstream, body: ByteBuffer(bytes: upstreamBody), stream: chat.stream, metrics: metrics)
        } catch {
            await ChatSettlement.release(id, services: services)
            metrics.recordRequest(outcome: "upstream_failed")
            throw Self.refusal(for: error)
        }
        let settlement = ChatSettlement(services: services, keys: client.keys, keyID: opened.keyID, requestID: id, metrics: metrics)
        guard chat.stream else {
            return try await answer(opened, settlement: settlement, estimatedInput: estimatedInput)
        }
        var headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"]
        // nginx in front of central must not hold the events back either.
        if let name = HTTPField.Name("X-Accel-Buffering") { headers[name] = "no" }
        let clientWantsUsage = chat.clientWantsUsage
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                let result = await Self.relay(opened.response, clientWantsUsage: clientWantsUsage, to: &writer)
                switch result.end {
                case .clientGone: break
                case .complete: try? await writer.finish(nil)
                case .upstreamBrokeOff:
                    _ = try? await writer.write(ChatStreamRelay.errorEvent(
                        ErrorCode.upstreamUnavailable.rawValue, "The upstream ended the answer early; what arrived is billed."))
                    try? await writer.finish(nil)
                }
                await settlement.finish(result.relay.tokenUsage(estimatedInput: estimatedInput), end: result.end)
            })
    }

    /// A whole (not streamed) answer, passed on as the upstream sent it.
    private func answer(_ opened: ChatUpstreamClient.Opened, settlement: ChatSettlement, estimatedInput: Int64) async throws -> Response {
        let buffer: ByteBuffer
        do {
            buffer = try await opened.response.body.collect(upTo: 32 << 20)
        } catch {
            await settlement.abandon()
            throw ChatRefusal(.upstreamUnavailable, status: 502, "The upstream broke off its answer; nothing is billed. Try again.")
        }
        struct Answer: Decodable {
            struct Choice: Decodable {
                struct Message: Decodable { var content: String? }
                var message: Message?
            }
            var choices: [Choice]?
            var usage: ChatCompletionUsage?
        }
        let decoded = try? JSONDecoder().decode(Answer.self, from: Data(buffer: buffer))
        let contentBytes = decoded?.choices?.reduce(0) { $0 + ($1.message?.content?.utf8.count ?? 0) } ?? buffer.readableBytes
        let usage = decoded?.usage?.tokenUsage
            ?? ChatTokenUsage(inputTokens: estimatedInput, outputTokens: Int64((contentBytes + 2) / 3), source: .delivered)
        await settlement.finish(usage, end: .complete)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    enum StreamEnd: Sendable, Equatable {
        case complete
        case clientGone
        case upstreamBrokeOff
    }

    /// Relays the upstream's events until the answer ends, the upstream breaks off or the
    /// client goes away. The upstream's body iterator lives only in here: when this returns
    /// early it is dropped, which cancels the upstream request.
    static func relay(
        _ response: HTTPClientResponse, clientWantsUsage: Bool, to writer: inout any ResponseBodyWriter
    ) async -> (relay: ChatStreamRelay, end: StreamEnd) {
        var relay = ChatStreamRelay(clientWantsUsage: clientWantsUsage)
        var iterator = response.body.makeAsyncIterator()
        while true {
            let part: ByteBuffer?
            do {
                part = try await iterator.next()
            } catch {
                return (relay, .upstreamBrokeOff)
            }
            guard let part else { return (relay, relay.brokeOff ? .upstreamBrokeOff : .complete) }
            for event in relay.feed(part) {
                do {
                    try await writer.write(event)
                } catch {
                    return (relay, .clientGone)
                }
            }
            if relay.brokeOff { return (relay, .upstreamBrokeOff) }
            if relay.finished { return (relay, .complete) }
        }
    }

    static func refusal(for error: any Error) -> ChatRefusal {
        switch error as? ChatUpstreamClient.Failure {
        case .noKey?:
            ChatRefusal(.upstreamUnavailable, status: 503, "No key for this model's upstream is usable right now; nothing is billed. Try again later.")
        case .timeout?:
            ChatRefusal(.upstreamTimeout, status: 504, "The upstream did not answer in time; nothing is billed. Try again.")
        case .rejected(let status)?:
            ChatRefusal(.invalidValue, status: 400, "The upstream refused the request as invalid (HTTP \(status)); nothing is billed.")
        case .unavailable?, nil:
            ChatRefusal(.upstreamUnavailable, status: 502, "The upstream is unavailable right now; nothing is billed. Try again.")
        }
    }

    static func newRequestID() -> String {
        var generator = SystemRandomNumberGenerator()
        return "chatreq_" + String(format: "%016llx%08x", generator.next() as UInt64, generator.next() as UInt32)
    }
}
