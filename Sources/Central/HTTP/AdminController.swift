import Foundation
import Hummingbird
import Protocol

/// `/v1/admin/…`: licenses, usage, audit and plans, for the vendor's operators.
struct AdminController {
    let services: CentralServices
    let registry: StreamRegistry

    func addRoutes(to group: RouterGroup<CentralRequestContext>) {
        group.post("licenses", use: create)
        group.get("licenses", use: list)
        group.get("licenses/{id}", use: show)
        group.patch("licenses/{id}", use: update)
        group.delete("licenses/{id}", use: delete)
        group.post("licenses/{id}/{action}", use: act)
        group.get("licenses/{id}/ledger", use: ledger)
        group.get("usage", use: usage)
        group.get("usage/sessions", use: sessionAccounts)
        group.get("audit", use: audit)
        group.get("sessions", use: liveSessions)
        group.delete("sessions/{id}", use: stopSession)
        group.get("plans", use: plans)
        group.put("plans/{name}", use: savePlan)
        group.get("instances", use: instances)
    }

    struct InstanceView: Encodable {
        var instance: InstanceRecord
        /// Its heartbeat is older than the lapse: the others have settled (or will settle) its sessions.
        var lapsed: Bool
        /// The instance answering this request.
        var current: Bool

        func encode(to encoder: any Encoder) throws {
            try instance.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(lapsed, forKey: .lapsed)
            try container.encode(current, forKey: .current)
        }

        enum Keys: String, CodingKey { case lapsed, current }
    }

    struct InstancesBody: Encodable {
        var instances: [InstanceView]
    }

    /// The central instances sharing this database, with their heartbeats and live sessions.
    @Sendable func instances(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let now = services.clock.now()
        let configuration = services.configuration
        let views = try await services.store.instances().map { record in
            InstanceView(
                instance: record, lapsed: now.timeIntervalSince(record.heartbeatAt) > configuration.instanceLapse,
                current: record.id == configuration.resolvedInstanceID)
        }
        return try jsonResponse(InstancesBody(instances: views))
    }

    /// The administration service acting for this request's operator.
    func administration(_ request: Request, _ context: CentralRequestContext) -> StoreLicenseAdministration {
        StoreLicenseAdministration(
            store: services.store, clock: services.clock, actor: services.actor(request, context), observer: services.observer)
    }

    @Sendable func create(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let draft = try LicenseDraft(json: try await request.jsonObject(allowed: LicenseDraft.fields, context: context))
        return try jsonResponse(try await administration(request, context).createLicense(draft), status: .created)
    }

    @Sendable func list(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let query = QueryReader(request.uri.queryParameters)
        try query.allowOnly(["status", "plan", "q", "limit", "cursor"])
        let filter = LicenseFilter(
            status: try query.value("status") { LicenseStatus(rawValue: $0) },
            plan: query.string("plan"), query: query.string("q"),
            limit: try query.value("limit") { Int($0).flatMap { (1...500).contains($0) ? $0 : nil } } ?? 50,
            cursor: query.string("cursor"))
        return try jsonResponse(try await administration(request, context).listLicenses(filter))
    }

    @Sendable func show(_ request: Request, context: CentralRequestContext) async throws -> Response {
        try jsonResponse(try await administration(request, context).license(id: try context.parameters.require("id")))
    }

    @Sendable func update(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let patch = try LicensePatch(json: try await request.jsonObject(allowed: LicensePatch.fields, context: context))
        let id = try context.parameters.require("id")
        return try jsonResponse(try await administration(request, context).updateLicense(id: id, patch))
    }

    @Sendable func delete(_ request: Request, context: CentralRequestContext) async throws -> Response {
        try await administration(request, context).deleteLicense(id: try context.parameters.require("id"))
        return Response(status: .noContent)
    }

    @Sendable func act(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let action: LicenseAction
        switch try context.parameters.require("action") {
        case "suspend": action = .suspend
        case "resume": action = .resume
        case "revoke": action = .revoke
        case "reset-devices": action = .resetDevices
        case "extend":
            let body = try await request.jsonObject(allowed: ["days"], context: context)
            guard let days = try body.int("days", max: LicenseLimits.maxDays, required: true), days > 0 else {
                throw RequestValidationError(.invalidValue, field: "days", "Field 'days' must be at least 1.")
            }
            action = .extend(days: days)
        case "topup":
            let body = try await request.jsonObject(allowed: ["minutes"], context: context)
            guard let minutes = try body.number("minutes", max: LicenseLimits.maxMinutes, required: true), minutes > 0 else {
                throw RequestValidationError(.invalidValue, field: "minutes", "Field 'minutes' must be more than 0.")
            }
            action = .topup(minutes: minutes)
        default:
            throw APIError(.notFound, .notFound, "No such license action.")
        }
        return try jsonResponse(try await administration(request, context).perform(action, id: id))
    }

    struct LedgerBody: Encodable {
        var entries: [LedgerEntry]
    }

    /// A license's ledger, oldest first: every debit, credit, session start and chat usage row.
    @Sendable func ledger(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard try await services.store.license(id: id) != nil else {
            throw AdministrationError.licenseNotFound(id)
        }
        return try jsonResponse(LedgerBody(entries: try await services.store.ledger(licenseID: id)))
    }

    @Sendable func usage(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let query = QueryReader(request.uri.queryParameters)
        try query.allowOnly(["day", "from", "to", "license_id", "format"])
        let report = try await administration(request, context).usage(try Self.usageQuery(query))
        return try Self.report(report, csv: report.csv, named: "usage.csv", format: query)
    }

    /// `day`, or `from`/`to` (UTC days), and `license_id`: the range both usage reports take.
    static func usageQuery(_ query: QueryReader) throws -> UsageQuery {
        let day = try query.value("day") { UTCDay($0)?.description }
        let from = try query.value("from") { UTCDay($0)?.description }
        let to = try query.value("to") { UTCDay($0)?.description }
        if day != nil && (from != nil || to != nil) {
            throw RequestValidationError(.invalidQuery, field: "day", "Give either 'day' or 'from'/'to', not both.")
        }
        return UsageQuery(from: day ?? from, to: day ?? to, licenseID: query.string("license_id"))
    }

    /// A report as JSON, or as a CSV download with `format=csv`.
    static func report(_ report: some Encodable, csv: @autoclosure () -> String, named file: String, format query: QueryReader) throws -> Response {
        let format = try query.value("format") { ["json", "csv"].contains($0) ? $0 : nil } ?? "json"
        guard format == "csv" else { return try jsonResponse(report) }
        return Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(file)\""],
            body: .init(byteBuffer: ByteBuffer(string: csv())))
    }

    /// `GET /v1/admin/usage/sessions`: the three counts per session (docs/api.md).
    @Sendable func sessionAccounts(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let query = QueryReader(request.uri.queryParameters)
        try query.allowOnly(["day", "from", "to", "license_id", "format", "flagged", "threshold_ms"])
        let flagged = try query.value("flagged") { ["true": true, "false": false][$0] } ?? false
        let threshold = try query.value("threshold_ms") { Int64($0).flatMap { (0...3_600_000).contains($0) ? $0 : nil } }
            ?? SessionAccountReport.defaultThresholdMs
        let report = try await administration(request, context).sessionAccounts(
            try Self.usageQuery(query), thresholdMs: threshold, flaggedOnly: flagged)
        return try Self.report(report, csv: report.csv, named: "sessions.csv", format: query)
    }

    struct AuditBody: Encodable {
        var entries: [AuditEntry]
    }

    @Sendable func audit(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let query = QueryReader(request.uri.queryParameters)
        try query.allowOnly(["license_id", "limit", "before"])
        let entries = try await administration(request, context).audit(
            AuditQuery(
                licenseID: query.string("license_id"),
                limit: try query.value("limit") { Int($0).flatMap { (1...1000).contains($0) ? $0 : nil } } ?? 100,
                before: try query.value("before") { Int64($0) }))
        return try jsonResponse(AuditBody(entries: entries))
    }

    struct SessionsBody: Encodable {
        var sessions: [LiveSessionView]
    }

    /// Every live session on every instance sharing the store: this instance's as it sees them
    /// now, the others' as of their last checkpoint.
    @Sendable func liveSessions(_ request: Request, context: CentralRequestContext) async throws -> Response {
        var views: [LiveSessionView] = []
        var local = Set<String>()
        for session in registry.all {
            views.append(await session.snapshot())
            local.insert(session.id)
        }
        // This instance's own come from its registry only: a record it owns but does not hold is
        // one being opened or closed right now (a refused open, a final bill), not a live stream.
        let me = services.configuration.resolvedInstanceID
        for record in try await services.store.liveStreamSessions() where !local.contains(record.id) && record.owner != me {
            views.append(LiveSessionView(record: record))
        }
        return try jsonResponse(SessionsBody(sessions: views.sorted { $0.startedAt < $1.startedAt }))
    }

    /// Stops a live session here at once, or, when another instance serves it, asks that one
    /// through the store (it stops at its next checkpoint, within a second): 202.
    @Sendable func stopSession(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let administration = administration(request, context)
        let now = services.clock.now()
        if let session = registry.session(id: id) {
            await session.stop(.stoppedByAdmin, StreamStopSentence.requested(.stoppedByAdmin))
            try await services.store.appendAudit(
                action: "session.stop", licenseID: session.licenseID, detail: id, actor: administration.actor, now: now)
            return try jsonResponse(await session.snapshot())
        }
        guard let record = try await services.store.requestStreamSessionStop(id: id, reason: .stoppedByAdmin, now: now) else {
            throw APIError(.notFound, .notFound, "No live session '\(id)'.")
        }
        try await services.store.appendAudit(
            action: "session.stop", licenseID: record.licenseID, detail: id, actor: administration.actor, now: now)
        return try jsonResponse(LiveSessionView(record: record), status: .accepted)
    }

    struct PlansBody: Encodable {
        var plans: [Plan]
    }

    @Sendable func plans(_ request: Request, context: CentralRequestContext) async throws -> Response {
        try jsonResponse(PlansBody(plans: try await administration(request, context).plans()))
    }

    static let planFields: Set<String> = [
        "validity_days", "minutes", "session_limit", "max_concurrent", "max_devices", "daily_minutes", "description",
        "provider", "chat",
    ]

    @Sendable func savePlan(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        guard name.count <= LicenseLimits.planLength, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw RequestValidationError(.invalidValue, field: "name", "A plan name uses letters, digits, '-' and '_' only.")
        }
        let body = try await request.jsonObject(allowed: Self.planFields, context: context)
        let plan = Plan(
            name: name,
            validityDays: try body.int("validity_days", max: LicenseLimits.maxDays, required: true) ?? 0,
            minutes: try body.number("minutes", max: LicenseLimits.maxMinutes, required: true) ?? 0,
            sessionLimit: try body.int("session_limit", max: LicenseLimits.maxCount),
            maxConcurrent: try body.int("max_concurrent", max: LicenseLimits.maxConcurrent, required: true) ?? 0,
            maxDevices: try body.int("max_devices", max: LicenseLimits.maxCount, required: true) ?? 0,
            dailyMinutes: try body.number("daily_minutes", max: LicenseLimits.maxMinutes),
            description: try body.string("description", maxLength: 500, text: .multiline) ?? "",
            provider: try LicenseLimits.provider(body),
            chat: try LicenseLimits.chat(body))
        return try jsonResponse(try await administration(request, context).savePlan(plan))
    }
}

/// Query-string access with the same error shape as bodies.
struct QueryReader {
    let parameters: Parameters

    init(_ parameters: Parameters) {
        self.parameters = parameters
    }

    func allowOnly(_ names: Set<String>) throws {
        for (key, _) in parameters where !names.contains(String(key)) {
            throw RequestValidationError(.invalidQuery, field: String(key), "Unknown query parameter '\(key)'.")
        }
    }

    func string(_ name: String) -> String? {
        parameters.get(name).flatMap { $0.isEmpty ? nil : String($0.prefix(200)) }
    }

    /// Parses a parameter, refusing values `parse` rejects.
    func value<T>(_ name: String, _ parse: (String) -> T?) throws -> T? {
        guard let text = string(name) else { return nil }
        guard let value = parse(text) else {
            throw RequestValidationError(.invalidQuery, field: name, "Query parameter '\(name)' has an invalid value.")
        }
        return value
    }
}
