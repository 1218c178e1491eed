import Foundation
import Hummingbird
import Protocol

/// The edge-facing endpoints: quota, and admission with its concurrency lease.
struct LicenseController {
    let services: CentralServices
    let registry: StreamRegistry
    let tickets: StreamTicketBook
    let providers: ProviderRegistry

    func addRoutes(to router: Router<CentralRequestContext>) {
        router.get("/v1/license/quota", use: quota)
        router.get("/v1/providers", use: providers)
        router.post("/v1/sessions", use: admit)
        router.post("/v1/sessions/{id}/heartbeat", use: heartbeat)
        router.delete("/v1/sessions/{id}", use: release)
    }

    @Sendable func quota(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let license = try await services.authenticatedLicense(request, context)
        return try jsonResponse(try await services.store.quota(for: license, now: services.clock.now()))
    }

    /// The language pairs this license can stream, each naming its provider, for the page's selectors.
    @Sendable func providers(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let license = try await services.authenticatedLicense(request, context)
        return try jsonResponse(providers.catalog(for: license.provider))
    }

    /// The wire's `SessionGrant`, plus the lease admission took (absent on a resume).
    struct AdmittedBody: Encodable {
        var grant: SessionGrant
        var lease: Lease?

        enum LeaseKey: String, CodingKey {
            case lease
        }

        func encode(to encoder: any Encoder) throws {
            try grant.encode(to: encoder)
            var container = encoder.container(keyedBy: LeaseKey.self)
            try container.encodeIfPresent(lease, forKey: .lease)
        }
    }

    static let admissionFields: Set<String> = ["device_id", "holder", "resume_session_id"]

    /// One admission: every check and the lease in a single store transaction.
    @Sendable func admit(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let ip = services.clientIP(request, context)
        let key = try services.presentedLicenseKey(request, ip: ip)
        let body = try await request.jsonObject(allowed: Self.admissionFields, context: context)
        guard let device = try body.string("device_id", maxLength: 128, required: true) else {
            throw RequestValidationError(.missingField, field: "device_id", "Field 'device_id' is required.")
        }
        let holder = try body.string("holder", maxLength: 200)
        let now = services.clock.now()
        let ttl = services.configuration.leaseTTL
        if let resumeID = try body.string("resume_session_id", maxLength: 100) {
            return try await resume(resumeID, key: key, device: device, ip: ip, now: now)
        }
        let decision = try await services.store.admit(
            AdmissionRequest(licenseKey: key.value, deviceFingerprint: device, clientIP: ip, holder: holder),
            keyHash: key.hash, leaseTTL: ttl, now: now)
        switch decision {
        case .admitted(let lease, let quota):
            services.metrics.recordAdmission(result: "admitted")
            let token: String
            do {
                token = try await tickets.issue(StreamTicket(
                    sessionID: lease.id, licenseID: lease.licenseID, leaseID: lease.id, deviceFingerprint: device,
                    clientIP: ip, resume: false, expiresAt: now.addingTimeInterval(tickets.lifetime)), now: now)
            } catch {
                // No ticket, no stream: the slot goes back at once rather than at the lease's TTL.
                _ = try? await services.store.releaseLease(id: lease.id, licenseID: lease.licenseID)
                throw error
            }
            return try jsonResponse(
                AdmittedBody(
                    grant: SessionGrant(
                        sessionID: lease.id, resumed: false, streamToken: token, streamTokenTTLSeconds: tickets.lifetime,
                        leaseTTLSeconds: ttl, quota: quota),
                    lease: lease),
                status: .created)
        case .refused(let code, _):
            services.metrics.recordAdmission(result: code.rawValue)
            let error = AdmissionRefusal.error(for: code, now: now, leaseTTL: ttl)
            throw code == .licenseNotFound ? services.licenseAuthFailure(ip: ip, error) : error
        }
    }

    /// A dropped edge continues its session: same session, same lease, no new session charge.
    private func resume(_ sessionID: String, key: LicenseKey, device: String, ip: String, now: Date) async throws -> Response {
        guard let license = try await services.store.license(keyHash: key.hash) else {
            throw services.licenseAuthFailure(ip: ip, AdmissionRefusal.error(for: .licenseNotFound, now: now))
        }
        // The license's own state answers first: a revoked license says so, not "not resumable".
        if let (code, _) = MeteringPolicy.licenseStateStop(license, now: now) {
            throw AdmissionRefusal.error(for: code, now: now, leaseTTL: services.configuration.leaseTTL)
        }
        guard license.ipAllowlist.allows(ip) else {
            throw AdmissionRefusal.error(for: .ipNotAllowed, now: now, leaseTTL: services.configuration.leaseTTL)
        }
        // Here or on any instance sharing the store: a live session of this license and device.
        let resumable: Bool
        if let session = registry.session(id: sessionID) {
            let live = await session.isResumable
            resumable = live && session.licenseID == license.id && session.deviceFingerprint == device
        } else if let record = try await services.store.streamSession(id: sessionID) {
            resumable = record.status == .live && record.licenseID == license.id && record.deviceFingerprint == device
        } else {
            resumable = false
        }
        guard resumable else {
            throw APIError(.conflict, .sessionNotResumable, "Session '\(sessionID)' cannot be resumed: it ended or belongs to another device. Start a new session.")
        }
        let token = try await tickets.issue(StreamTicket(
            sessionID: sessionID, licenseID: license.id, leaseID: sessionID, deviceFingerprint: device, clientIP: ip,
            resume: true, expiresAt: now.addingTimeInterval(tickets.lifetime)), now: now)
        services.metrics.recordAdmission(result: "resumed")
        return try jsonResponse(AdmittedBody(
            grant: SessionGrant(
                sessionID: sessionID, resumed: true, streamToken: token, streamTokenTTLSeconds: tickets.lifetime,
                leaseTTLSeconds: services.configuration.leaseTTL,
                quota: try await services.store.quota(for: license, now: now)),
            lease: nil))
    }

    struct LeaseBody: Encodable {
        var lease: Lease
    }

    @Sendable func heartbeat(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let license = try await services.authenticatedLicense(request, context)
        let id = try context.parameters.require("id")
        guard let lease = try await services.store.renewLease(
            id: id, licenseID: license.id, leaseTTL: services.configuration.leaseTTL, now: services.clock.now())
        else {
            throw APIError(.notFound, .leaseNotFound, "No live lease '\(id)' for this license; it was released or it lapsed. Ask for admission again.")
        }
        return try jsonResponse(LeaseBody(lease: lease))
    }

    /// Gives a lease back. A lease whose stream is live is never released from under it: the
    /// stream is stopped first (billed, and told `client_stop`), so concurrency is the life of
    /// the stream. A live stream this process does not serve is refused.
    @Sendable func release(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let license = try await services.authenticatedLicense(request, context)
        let id = try context.parameters.require("id")
        if let session = registry.session(id: id), session.licenseID == license.id {
            await session.stop(.clientStop, "The session was released by DELETE /v1/sessions.")
            return Response(status: .noContent)
        }
        if let live = try await services.store.liveStreamSession(leaseID: id), live.licenseID == license.id {
            throw APIError(.conflict, .sessionStreaming, "Session '\(id)' is streaming; stop the stream to release it.")
        }
        guard try await services.store.releaseLease(id: id, licenseID: license.id) else {
            throw APIError(.notFound, .leaseNotFound, "No lease '\(id)' for this license.")
        }
        return Response(status: .noContent)
    }
}
