import Foundation
import Protocol

/// The administration operations, applied to the store directly, on behalf of one actor.
public struct StoreLicenseAdministration: LicenseAdministration {
    let store: any CentralStore
    let clock: any WallClock
    let actor: AdminOperator
    let observer: (any LicenseChangeObserver)?

    public init(store: any CentralStore, clock: any WallClock, actor: AdminOperator, observer: (any LicenseChangeObserver)? = nil) {
        self.store = store
        self.clock = clock
        self.actor = actor
        self.observer = observer
    }

    public func createLicense(_ draft: LicenseDraft) async throws -> CreatedLicense {
        guard let plan = try await store.plan(named: draft.plan) else {
            throw AdministrationError.planNotFound(draft.plan)
        }
        // Whole milliseconds, the store's resolution, so starts + days is exact.
        let now = Milliseconds.date(Milliseconds.from(clock.now()))
        let key = LicenseKey.generate(kind: plan.keyKind)
        let validityDays = draft.days ?? plan.validityDays
        let startsAt = draft.startsAt ?? now
        let fromFirstUse = draft.expiryFromFirstUse ?? false
        let license = License(
            id: License.newID(), keyPrefix: key.visiblePrefix, customerName: draft.customerName,
            customerEmail: draft.customerEmail, plan: plan.name, status: .active, createdAt: now, updatedAt: now,
            startsAt: startsAt,
            expiresAt: fromFirstUse ? nil : startsAt.addingTimeInterval(TimeInterval(validityDays) * 86_400),
            validityDays: validityDays, expiryFromFirstUse: fromFirstUse,
            limitMs: Milliseconds.fromMinutes(draft.minutes ?? plan.minutes), usedMs: 0,
            sessionLimit: draft.sessions ?? plan.sessionLimit, sessionsUsed: 0,
            dailyCapMs: (draft.dailyMinutes ?? plan.dailyMinutes).map(Milliseconds.fromMinutes),
            maxConcurrent: draft.concurrent ?? plan.maxConcurrent, maxDevices: draft.devices ?? plan.maxDevices,
            ipAllowlist: draft.ipAllowlist ?? IPAllowlist(blocks: []), notes: draft.notes ?? "", lastUsedAt: nil,
            provider: draft.provider ?? plan.provider, chat: draft.chat ?? plan.chat)
        try await store.insertLicense(license, keyHash: key.hash, actor: actor)
        return CreatedLicense(key: key.value, license: try await view(license, now: now))
    }

    public func listLicenses(_ filter: LicenseFilter) async throws -> LicenseListing {
        let page = try await store.listLicenses(filter)
        return LicenseListing(licenses: page.licenses.map { LicenseView($0) }, nextCursor: page.nextCursor)
    }

    public func license(id: String) async throws -> LicenseView {
        guard let license = try await store.license(id: id) else { throw AdministrationError.licenseNotFound(id) }
        return try await view(license, now: clock.now())
    }

    public func updateLicense(id: String, _ patch: LicensePatch) async throws -> LicenseView {
        if let plan = patch.plan, try await store.plan(named: plan) == nil {
            throw AdministrationError.planNotFound(plan)
        }
        return try await modify(id: id, action: "license.update", detail: patch.changedFields.joined(separator: ",")) {
            patch.apply(to: &$0)
        }
    }

    public func deleteLicense(id: String) async throws {
        guard try await store.deleteLicense(id: id, actor: actor, now: clock.now()) else {
            throw AdministrationError.licenseNotFound(id)
        }
        await observer?.licenseChanged(id: id)
    }

    public func perform(_ action: LicenseAction, id: String) async throws -> LicenseView {
        let now = clock.now()
        switch action {
        case .suspend:
            let view = try await modify(id: id, action: "license.suspend", detail: nil) { license in
                guard license.status != .revoked else {
                    throw AdministrationError.invalidTransition("A revoked license cannot be suspended.")
                }
                license.status = .suspended
            }
            await announce(.suspended, licenseID: id, now: now)
            return view
        case .resume:
            return try await modify(id: id, action: "license.resume", detail: nil) { license in
                guard license.status != .revoked else {
                    throw AdministrationError.invalidTransition("A revoked license cannot be resumed.")
                }
                license.status = .active
            }
        case .revoke:
            let view = try await modify(id: id, action: "license.revoke", detail: nil) { $0.status = .revoked }
            await announce(.revoked, licenseID: id, now: now)
            return view
        case .extend(let days):
            return try await modify(id: id, action: "license.extend", detail: "days=\(days)") { license in
                let seconds = TimeInterval(days) * 86_400
                if let expiresAt = license.expiresAt {
                    // An already expired license gets the days from now, not from its past expiry.
                    license.expiresAt = max(expiresAt, now).addingTimeInterval(seconds)
                } else {
                    license.validityDays += days
                }
            }
        case .topup(let minutes):
            return try await modify(id: id, action: "license.topup", detail: "minutes=\(minutes.formatted())") {
                $0.limitMs += Milliseconds.fromMinutes(minutes)
            }
        case .resetDevices:
            guard try await store.resetDevices(licenseID: id, actor: actor, now: now) != nil else {
                throw AdministrationError.licenseNotFound(id)
            }
            await observer?.licenseChanged(id: id)
            return try await license(id: id)
        }
    }

    public func usage(_ query: UsageQuery) async throws -> UsageReport {
        try await store.usage(query)
    }

    /// At most this many sessions per report: narrow the days or the license for more.
    public static let sessionReportLimit = 10_000

    public func sessionAccounts(_ query: UsageQuery, thresholdMs: Int64, flaggedOnly: Bool) async throws -> SessionAccountReport {
        SessionAccountReport(
            records: try await store.streamSessions(query, limit: Self.sessionReportLimit), thresholdMs: thresholdMs,
            flaggedOnly: flaggedOnly)
    }

    public func audit(_ query: AuditQuery) async throws -> [AuditEntry] {
        try await store.audit(query)
    }

    public func plans() async throws -> [Plan] {
        try await store.plans()
    }

    public func savePlan(_ plan: Plan) async throws -> Plan {
        try await store.savePlan(plan, actor: actor, now: clock.now())
        return plan
    }

    private func modify(
        id: String, action: String, detail: String?, _ change: @escaping @Sendable (inout License) throws -> Void
    ) async throws -> LicenseView {
        let now = clock.now()
        guard let license = try await store.modifyLicense(
            id: id, action: action, detail: detail, actor: actor, now: now, change)
        else { throw AdministrationError.licenseNotFound(id) }
        await observer?.licenseChanged(id: id)
        return try await view(license, now: now)
    }

    /// Enqueues a webhook event for a change just made. Best effort: the change stands even when
    /// the event cannot be recorded, and the sending happens later, elsewhere (WebhookDispatcher).
    private func announce(_ type: WebhookEventType, licenseID: String, now: Date) async {
        guard let license = try? await store.license(id: licenseID) else { return }
        let event = WebhookEventFactory.event(
            type, license: license, discriminator: String(Milliseconds.from(license.updatedAt)), now: now)
        _ = try? await store.enqueueWebhookEvent(event)
    }

    private func view(_ license: License, now: Date) async throws -> LicenseView {
        LicenseView(
            license, devices: try await store.devices(licenseID: license.id),
            activeLeases: try await store.activeLeases(licenseID: license.id, now: now),
            quota: try await store.quota(for: license, now: now))
    }
}
