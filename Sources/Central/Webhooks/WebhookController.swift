import Foundation
import Hummingbird
import Protocol

/// `/v1/admin/webhooks`: endpoints, the delivery log and redelivery (admin only).
struct WebhookController {
    let services: CentralServices
    let seal: WebhookSecretSeal

    func addRoutes(to group: RouterGroup<CentralRequestContext>) {
        group.get("webhooks", use: list)
        group.post("webhooks", use: create)
        group.patch("webhooks/{id}", use: update)
        group.delete("webhooks/{id}", use: delete)
        group.get("webhooks/deliveries", use: deliveries)
        group.post("webhooks/deliveries/{id}/redeliver", use: redeliver)
    }

    /// An endpoint as the API shows it: never its secret, except once in `CreatedBody`.
    struct EndpointView: Encodable {
        var id: String
        var url: String
        var events: [WebhookEventType]
        var enabled: Bool
        var description: String
        var createdAt: Date

        init(_ endpoint: WebhookEndpoint) {
            id = endpoint.id
            url = endpoint.url
            events = endpoint.events.sorted { $0.rawValue < $1.rawValue }
            enabled = endpoint.enabled
            description = endpoint.description
            createdAt = endpoint.createdAt
        }

        enum CodingKeys: String, CodingKey {
            case id, url, events, enabled, description
            case createdAt = "created_at"
        }
    }

    struct ListBody: Encodable {
        var endpoints: [EndpointView]
        var eventTypes: [WebhookEventType]

        enum CodingKeys: String, CodingKey {
            case endpoints
            case eventTypes = "event_types"
        }
    }

    struct CreatedBody: Encodable {
        var endpoint: EndpointView
        var secret: String
    }

    @Sendable func list(_ request: Request, context: CentralRequestContext) async throws -> Response {
        try jsonResponse(ListBody(
            endpoints: try await services.store.webhookEndpoints().map(EndpointView.init), eventTypes: WebhookEventType.allCases))
    }

    static func events(_ body: JSONObjectReader, required: Bool) throws -> Set<WebhookEventType>? {
        guard let names = try body.stringArray("events", maxCount: WebhookEventType.allCases.count, maxLength: 64) else {
            if required { throw RequestValidationError(.missingField, field: "events", "Field 'events' is required.") }
            return nil
        }
        let types = try names.map { name in
            guard let type = WebhookEventType(rawValue: name) else {
                throw RequestValidationError(.invalidValue, field: "events", "Unknown event type '\(name)'.")
            }
            return type
        }
        guard !types.isEmpty else {
            throw RequestValidationError(.invalidValue, field: "events", "Subscribe to at least one event type.")
        }
        return Set(types)
    }

    @Sendable func create(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let body = try await request.jsonObject(allowed: ["url", "events", "description", "secret"], context: context)
        guard let url = try body.string("url", maxLength: 2000, required: true), WebhookEndpoint.validURL(url) else {
            throw RequestValidationError(.invalidValue, field: "url", "Field 'url' must be an http or https URL without credentials.")
        }
        let events = try Self.events(body, required: true) ?? []
        let secret = try body.string("secret", maxLength: 200) ?? WebhookEndpoint.newSecret()
        guard WebhookEndpoint.validSecret(secret) else {
            throw RequestValidationError(
                .invalidValue, field: "secret", "A webhook secret has at least 16 printable ASCII characters without spaces.")
        }
        let id = WebhookEndpoint.newID()
        let endpoint = WebhookEndpoint(
            id: id, url: url, storedSecret: try seal.stored(secret, endpointID: id), events: events, enabled: true,
            description: try body.string("description", maxLength: 200) ?? "",
            createdAt: Milliseconds.date(Milliseconds.from(services.clock.now())))
        try await services.store.insertWebhookEndpoint(endpoint, actor: services.actor(request, context))
        return try jsonResponse(CreatedBody(endpoint: EndpointView(endpoint), secret: secret), status: .created)
    }

    @Sendable func update(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let body = try await request.jsonObject(allowed: ["enabled", "events", "description"], context: context)
        guard let endpoint = try await services.store.updateWebhookEndpoint(
            id: id, enabled: try body.bool("enabled"), events: try Self.events(body, required: false),
            description: try body.string("description", maxLength: 200), actor: services.actor(request, context),
            now: services.clock.now())
        else { throw APIError(.notFound, .notFound, "No webhook endpoint '\(id)'.") }
        return try jsonResponse(EndpointView(endpoint))
    }

    @Sendable func delete(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard try await services.store.deleteWebhookEndpoint(id: id, actor: services.actor(request, context), now: services.clock.now())
        else { throw APIError(.notFound, .notFound, "No webhook endpoint '\(id)'.") }
        return Response(status: .noContent)
    }

    struct DeliveriesBody: Encodable {
        var deliveries: [WebhookDelivery]
    }

    @Sendable func deliveries(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let query = QueryReader(request.uri.queryParameters)
        try query.allowOnly(["endpoint_id", "limit"])
        let limit = try query.value("limit") { Int($0).flatMap { (1...1000).contains($0) ? $0 : nil } } ?? 100
        return try jsonResponse(DeliveriesBody(
            deliveries: try await services.store.webhookDeliveries(endpointID: query.string("endpoint_id"), limit: limit)))
    }

    @Sendable func redeliver(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let delivery = try await services.store.redeliverWebhook(
            id: id, actor: services.actor(request, context), now: services.clock.now())
        else { throw APIError(.notFound, .notFound, "No webhook delivery '\(id)' to an enabled endpoint.") }
        return try jsonResponse(delivery, status: .accepted)
    }
}
