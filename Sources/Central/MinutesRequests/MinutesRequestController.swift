import Foundation
import Hummingbird
import Protocol

/// Requests for more minutes: the edge sends one with its license key; operators see them in
/// the console and approve (a top-up, in the same transaction) or decline; the edge reads the
/// answer back.
struct MinutesRequestController {
    let services: CentralServices
    let limits = MinutesRequestLimits()

    func addLicenseRoutes(to router: Router<CentralRequestContext>) {
        router.post("/v1/license/minutes-requests", use: create)
        router.get("/v1/license/minutes-requests/latest", use: latest)
    }

    func addAdminRoutes(to group: RouterGroup<CentralRequestContext>) {
        group.get("minutes-requests", use: list)
        group.post("minutes-requests/{id}/approve", use: approve)
        group.post("minutes-requests/{id}/decline", use: decline)
    }

    struct RequestBody: Encodable {
        var request: MinutesRequest?
    }

    /// The license must be one that can still be helped: not revoked or suspended, and used
    /// from an address its allowlist admits.
    func requestingLicense(_ request: Request, _ context: CentralRequestContext) async throws -> License {
        let license = try await services.authenticatedLicense(request, context)
        let now = services.clock.now()
        switch license.status {
        case .revoked: throw AdmissionRefusal.error(for: .licenseRevoked, now: now)
        case .suspended: throw AdmissionRefusal.error(for: .licenseSuspended, now: now)
        default: break
        }
        guard license.ipAllowlist.allows(services.clientIP(request, context)) else {
            throw AdmissionRefusal.error(for: .ipNotAllowed, now: now)
        }
        return license
    }

    @Sendable func create(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let license = try await requestingLicense(request, context)
        let body = try await request.jsonObject(allowed: ["minutes", "note"], context: context)
        guard let minutes = try body.number("minutes", max: limits.maxMinutes, required: true), minutes >= 1 else {
            throw RequestValidationError(.invalidValue, field: "minutes", "Field 'minutes' must be at least 1.")
        }
        let note = try body.string("note", maxLength: limits.noteLength, text: .multiline) ?? ""
        let now = Milliseconds.date(Milliseconds.from(services.clock.now()))
        let draft = MinutesRequest(
            id: MinutesRequest.newID(), licenseID: license.id, minutes: minutes.rounded(), note: note, status: .pending,
            createdAt: now)
        let created: MinutesRequest
        do {
            created = try await services.store.createMinutesRequest(draft, limits: limits, now: now)
        } catch MinutesRequestRefusal.pending {
            throw APIError(
                .conflict, .minutesRequestPending, "A request for more minutes is already waiting for the vendor's answer.")
        } catch MinutesRequestRefusal.dailyLimit(let retry) {
            throw APIError(
                .tooManyRequests, .minutesRequestLimit,
                "This license has asked for more minutes \(limits.perDay) times today; try again tomorrow.",
                retryAfterSeconds: retry)
        }
        let event = WebhookEventFactory.event(
            .minutesRequested, license: license, discriminator: created.id, now: now, minutesRequest: created)
        _ = try? await services.store.enqueueWebhookEvent(event)
        return try jsonResponse(MinutesRequestReply(request: created.notice), status: .created)
    }

    /// The license's most recent request, answered or not (no `request` when there is none).
    @Sendable func latest(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let license = try await services.authenticatedLicense(request, context)
        let last = try await services.store.minutesRequests(status: nil, licenseID: license.id, limit: 1).first
        return try jsonResponse(MinutesRequestReply(request: last?.notice))
    }

    struct ListBody: Encodable {
        var requests: [MinutesRequest]
    }

    @Sendable func list(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let query = QueryReader(request.uri.queryParameters)
        try query.allowOnly(["status", "license_id", "limit"])
        let requests = try await services.store.minutesRequests(
            status: try query.value("status") { MinutesRequest.Status(rawValue: $0) },
            licenseID: query.string("license_id"),
            limit: try query.value("limit") { Int($0).flatMap { (1...1000).contains($0) ? $0 : nil } } ?? 100)
        return try jsonResponse(ListBody(requests: requests))
    }

    @Sendable func approve(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let body = try await request.jsonObject(allowed: ["minutes", "answer"], context: context)
        let minutes = try body.number("minutes", max: LicenseLimits.maxMinutes)
        if let minutes, minutes <= 0 {
            throw RequestValidationError(.invalidValue, field: "minutes", "Field 'minutes' must be more than 0.")
        }
        let answer = try body.string("answer", maxLength: limits.noteLength, text: .multiline)
        guard let pending = try await services.store.minutesRequest(id: id) else {
            throw APIError(.notFound, .notFound, "No minutes request '\(id)'.")
        }
        return try await decide(id, .approve(minutes: minutes ?? pending.minutes, answer: answer), request, context)
    }

    @Sendable func decline(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let body = try await request.jsonObject(allowed: ["answer"], context: context)
        let answer = try body.string("answer", maxLength: limits.noteLength, text: .multiline)
        return try await decide(id, .decline(answer: answer), request, context)
    }

    private func decide(
        _ id: String, _ decision: MinutesRequestDecision, _ request: Request, _ context: CentralRequestContext
    ) async throws -> Response {
        guard let decided = try await services.store.decideMinutesRequest(
            id: id, decision, actor: services.actor(request, context), now: services.clock.now())
        else {
            if try await services.store.minutesRequest(id: id) != nil {
                throw APIError(.conflict, .invalidTransition, "This request has already been answered.")
            }
            throw APIError(.notFound, .notFound, "No minutes request '\(id)'.")
        }
        // Connected edges see the new quota at once (the stream pushes it).
        await services.observer?.licenseChanged(id: decided.licenseID)
        return try jsonResponse(RequestBody(request: decided))
    }
}
