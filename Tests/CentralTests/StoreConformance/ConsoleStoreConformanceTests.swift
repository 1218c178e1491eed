@testable import Central
import Foundation
import Protocol
import Testing

/// `OperatorStore`, `ConsoleSessionStore`, `MinutesRequestStore` and `WebhookStore` as every store must keep them,
/// with parallel callers on several connections where a rule must hold across instances.
@Suite(.bounded, .postgresTestScope) struct ConsoleStoreConformanceTests {
    let admin = AdminOperator(name: "alice", ip: "192.0.2.1")

    @Test(arguments: StoreFactory.all)
    func operatorsAreFoundByTokenHashUntilDisabled(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let account = OperatorAccount(name: "reader", role: .viewer, createdAt: s.now, createdBy: "alice")
        try await s.store.insertOperator(account, tokenHash: LicenseKey.hash("op_one"), actor: admin)
        await #expect(throws: StoreError.duplicateKey) {
            try await s.store.insertOperator(account, tokenHash: LicenseKey.hash("op_two"), actor: admin)
        }
        #expect(try await s.store.operatorAccount(tokenHash: LicenseKey.hash("op_one")) == account)
        #expect(try await s.store.operatorAccount(tokenHash: LicenseKey.hash("op_nope")) == nil)
        #expect(try await s.store.disableOperator(name: "reader", actor: admin, now: s.now))
        #expect(try await s.store.disableOperator(name: "reader", actor: admin, now: s.now) == false)
        #expect(try await s.store.operatorAccount(tokenHash: LicenseKey.hash("op_one")) == nil)
        #expect(try await s.store.operators().map(\.disabledAt) == [s.now])
        #expect(try await s.store.audit(AuditQuery()).map(\.action) == ["operator.disable", "operator.create"])
    }

    func consoleSession(_ name: String, shared: Bool = false, role: OperatorRole = .viewer, at date: Date) -> ConsoleSession {
        ConsoleSession(
            tokenHash: LicenseKey.hash("cs_\(name)_\(shared)_\(date.timeIntervalSince1970)"),
            signedIn: AuthenticatedOperator(name: name, role: role, sharedToken: shared), createdAt: date, lastSeenAt: date)
    }

    /// A session written through one connection is found, touched and ended through another,
    /// as instances behind a load balancer share them.
    @Test(arguments: StoreFactory.all)
    func consoleSessionsAreSharedByConnectionsAndEndWithTheirOperator(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let connections = try await s.connections(2)
        let account = OperatorAccount(name: "olga", role: .operator, createdAt: s.now, createdBy: "alice")
        try await s.store.insertOperator(account, tokenHash: LicenseKey.hash("op_olga"), actor: admin)
        let olga = consoleSession("olga", role: .operator, at: s.now)
        // The shared token's holder may have typed the same name: disabling olga leaves it.
        let shared = consoleSession("olga", shared: true, role: .admin, at: s.now)
        let old = s.now.addingTimeInterval(-3600)
        for session in [olga, shared] {
            #expect(try await connections[0].insertConsoleSession(session, capacity: 10, perOperator: 5, idleBefore: old, createdBefore: old))
        }
        #expect(try await connections[1].consoleSession(tokenHash: olga.tokenHash) == olga)
        #expect(try await connections[1].consoleSession(tokenHash: LicenseKey.hash("cs_forged")) == nil)

        let later = s.now.addingTimeInterval(90)
        try await connections[1].touchConsoleSession(tokenHash: olga.tokenHash, at: later)
        try await connections[0].touchConsoleSession(tokenHash: olga.tokenHash, at: s.now.addingTimeInterval(30))
        #expect(try await connections[0].consoleSession(tokenHash: olga.tokenHash)?.lastSeenAt == later, "a late touch never moves it back")

        #expect(try await connections[1].disableOperator(name: "olga", actor: admin, now: later))
        #expect(try await connections[0].consoleSession(tokenHash: olga.tokenHash) == nil)
        #expect(try await connections[0].consoleSession(tokenHash: shared.tokenHash) == shared)
        try await connections[0].deleteConsoleSession(tokenHash: shared.tokenHash)
        #expect(try await connections[1].consoleSession(tokenHash: shared.tokenHash) == nil)

        // A disabled or unknown operator cannot open one (checked in the insert's transaction).
        for name in ["olga", "nobody"] {
            let late = consoleSession(name, role: .operator, at: later)
            #expect(try await connections[0].insertConsoleSession(late, capacity: 10, perOperator: 5, idleBefore: old, createdBefore: old) == false)
            #expect(try await connections[1].consoleSession(tokenHash: late.tokenHash) == nil)
        }
    }

    /// Signing in while an admin disables the operator: whichever commits first, no session of
    /// the disabled operator survives.
    @Test(arguments: StoreFactory.all)
    func aSignInRacingTheDisableLeavesNoSession(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let connections = try await s.connections(4)
        for round in 0..<5 {
            let name = "racer\(round)"
            try await s.store.insertOperator(
                OperatorAccount(name: name, role: .viewer, createdAt: s.now, createdBy: "alice"),
                tokenHash: LicenseKey.hash("op_\(name)"), actor: admin)
            let old = s.now.addingTimeInterval(-3600)
            let sessions = (0..<3).map { index in
                ConsoleSession(
                    tokenHash: LicenseKey.hash("cs_\(name)_\(index)"),
                    signedIn: AuthenticatedOperator(name: name, role: .viewer, sharedToken: false), createdAt: s.now, lastSeenAt: s.now)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, session) in sessions.enumerated() {
                    let connection = connections[index]
                    group.addTask {
                        _ = try await connection.insertConsoleSession(session, capacity: 100, perOperator: 5, idleBefore: old, createdBefore: old)
                    }
                }
                let disabler = connections[3]
                group.addTask { _ = try await disabler.disableOperator(name: name, actor: admin, now: s.now) }
                try await group.waitForAll()
            }
            for session in sessions {
                #expect(try await s.store.consoleSession(tokenHash: session.tokenHash) == nil, "round \(round)")
            }
        }
    }

    /// Signing in drops lapsed sessions and keeps at most `capacity`, the most recently used.
    @Test(arguments: StoreFactory.all)
    func signingInDropsLapsedSessionsAndStaysWithinCapacity(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let policy = ConsoleSessionPolicy(idleTimeout: 60, maxAge: 300, capacity: 3)
        let idle = consoleSession("idle", shared: true, at: s.now.addingTimeInterval(-61))
        var aged = consoleSession("aged", shared: true, at: s.now.addingTimeInterval(-301))
        aged.lastSeenAt = s.now
        let early = s.now.addingTimeInterval(-3600)
        for session in [idle, aged] {
            #expect(try await s.store.insertConsoleSession(session, capacity: 10, perOperator: 5, idleBefore: early, createdBefore: early))
        }
        var recent: [ConsoleSession] = []
        for index in 0..<5 {
            let session = consoleSession("op\(index)", shared: true, at: s.now.addingTimeInterval(Double(index)))
            #expect(try await s.store.insertConsoleSession(
                session, capacity: policy.capacity, perOperator: policy.perOperator, idleBefore: policy.idleCutoff(now: s.now),
                createdBefore: policy.ageCutoff(now: s.now)))
            recent.append(session)
        }
        #expect(try await s.store.consoleSession(tokenHash: idle.tokenHash) == nil)
        #expect(try await s.store.consoleSession(tokenHash: aged.tokenHash) == nil)
        var kept: [String] = []
        for session in recent where try await s.store.consoleSession(tokenHash: session.tokenHash) != nil {
            kept.append(session.signedIn.name)
        }
        #expect(kept == ["op2", "op3", "op4"])

        // One name signing in again and again ends only its own oldest sessions.
        let other = consoleSession("other", shared: true, at: s.now)
        #expect(try await s.store.insertConsoleSession(other, capacity: 100, perOperator: 5, idleBefore: early, createdBefore: early))
        var mine: [ConsoleSession] = []
        for index in 0..<7 {
            var session = consoleSession("greedy", shared: true, at: s.now.addingTimeInterval(Double(index) / 10))
            session.tokenHash = LicenseKey.hash("cs_greedy_\(index)")
            #expect(try await s.store.insertConsoleSession(session, capacity: 100, perOperator: 5, idleBefore: early, createdBefore: early))
            mine.append(session)
        }
        var left: [Int] = []
        for (index, session) in mine.enumerated() where try await s.store.consoleSession(tokenHash: session.tokenHash) != nil {
            left.append(index)
        }
        #expect(left == [2, 3, 4, 5, 6])
        #expect(try await s.store.consoleSession(tokenHash: other.tokenHash) == other)
    }

    func request(_ licenseID: String, _ s: StoreUnderTest, minutes: Double = 30) -> MinutesRequest {
        MinutesRequest(
            id: MinutesRequest.newID(), licenseID: licenseID, minutes: minutes, note: "for the demo", status: .pending,
            createdAt: s.now)
    }

    @Test(arguments: StoreFactory.all)
    func parallelRequestsOfOneLicenseLeaveExactlyOnePending(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (_, id) = try await s.createLicense()
        let connections = try await s.connections(4)
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<12 {
                let connection = connections[index % connections.count]
                let draft = request(id, s)
                group.addTask {
                    do {
                        _ = try await connection.createMinutesRequest(draft, limits: MinutesRequestLimits(), now: s.now)
                        return true
                    } catch MinutesRequestRefusal.pending {
                        return false
                    }
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 1)
        #expect(try await s.store.minutesRequests(status: .pending, licenseID: id, limit: 10).count == 1)
    }

    @Test(arguments: StoreFactory.all)
    func aLicenseAsksAtMostPerDayTimesAUTCDay(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (_, id) = try await s.createLicense()
        let limits = MinutesRequestLimits(perDay: 2)
        for _ in 0..<2 {
            let made = try await s.store.createMinutesRequest(request(id, s), limits: limits, now: s.now)
            _ = try await s.store.decideMinutesRequest(id: made.id, .decline(answer: nil), actor: admin, now: s.now)
            s.clock.advance(by: 1)
        }
        do {
            _ = try await s.store.createMinutesRequest(request(id, s), limits: limits, now: s.now)
            Issue.record("a third request the same day was accepted")
        } catch MinutesRequestRefusal.dailyLimit(let retry) {
            #expect(retry > 0 && retry <= 86_400)
        }
        s.clock.advance(by: 86_400)
        _ = try await s.store.createMinutesRequest(request(id, s), limits: limits, now: s.now)
    }

    @Test(arguments: StoreFactory.all)
    func anApprovalTopsUpOnceEvenWhenOperatorsRace(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (_, id) = try await s.createLicense { $0.minutes = 10 }
        let made = try await s.store.createMinutesRequest(request(id, s, minutes: 30), limits: MinutesRequestLimits(), now: s.now)
        let connections = try await s.connections(3)
        let decided = try await withThrowingTaskGroup(of: MinutesRequest?.self) { group in
            for index in 0..<6 {
                let connection = connections[index % connections.count]
                group.addTask {
                    try await connection.decideMinutesRequest(
                        id: made.id, .approve(minutes: 45, answer: "enjoy"), actor: admin, now: s.now)
                }
            }
            return try await group.reduce(into: [MinutesRequest]()) { if let decided = $1 { $0.append(decided) } }
        }
        #expect(decided.count == 1)
        #expect(decided.first?.status == .approved && decided.first?.grantedMinutes == 45 && decided.first?.decidedBy == "alice")
        let license = try #require(try await s.store.license(id: id))
        #expect(license.limitMs == Milliseconds.fromMinutes(55))
        let credits = try await s.store.ledger(licenseID: id).filter { $0.kind == .credit }
        #expect(credits.map(\.amountMs) == [Milliseconds.fromMinutes(45)])
        #expect(try await s.store.minutesRequest(id: made.id)?.answer == "enjoy")
        #expect(try await s.store.audit(AuditQuery(licenseID: id)).prefix(2).map(\.action) == ["minutes_request.approved", "license.topup"])
        // Answered: neither approvable nor declinable again.
        #expect(try await s.store.decideMinutesRequest(id: made.id, .decline(answer: nil), actor: admin, now: s.now) == nil)
    }

    func endpoint(_ s: StoreUnderTest, events: Set<WebhookEventType>) -> WebhookEndpoint {
        WebhookEndpoint(
            id: WebhookEndpoint.newID(), url: "http://127.0.0.1:9/hook", storedSecret: "whsec_0123456789abcdef", events: events,
            enabled: true, description: "", createdAt: s.now)
    }

    @Test(arguments: StoreFactory.all)
    func anEventIsRecordedOnceAndDeliveredToItsSubscribers(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (_, id) = try await s.createLicense()
        let license = try #require(try await s.store.license(id: id))
        let suspensions = endpoint(s, events: [.suspended, .revoked])
        let usage = endpoint(s, events: [.usage80])
        try await s.store.insertWebhookEndpoint(suspensions, actor: admin)
        try await s.store.insertWebhookEndpoint(usage, actor: admin)
        let event = WebhookEventFactory.event(.suspended, license: license, discriminator: "1", now: s.now)
        let connections = try await s.connections(3)
        let inserted = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<9 {
                let connection = connections[index % connections.count]
                group.addTask { try await connection.enqueueWebhookEvent(event) }
            }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(inserted == 1)
        let deliveries = try await s.store.webhookDeliveries(endpointID: nil, limit: 10)
        #expect(deliveries.map(\.endpointID) == [suspensions.id])
        #expect(deliveries.first?.eventID == event.id && deliveries.first?.eventType == .suspended)

        // A disabled endpoint gets nothing new.
        _ = try await s.store.updateWebhookEndpoint(
            id: suspensions.id, enabled: false, events: nil, description: nil, actor: admin, now: s.now)
        let revoked = WebhookEventFactory.event(.revoked, license: license, discriminator: "2", now: s.now)
        #expect(try await s.store.enqueueWebhookEvent(revoked))
        #expect(try await s.store.webhookDeliveries(endpointID: nil, limit: 10).count == 1)
    }

    @Test(arguments: StoreFactory.all)
    func claimsAreExclusiveAndAttemptsAreLogged(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (_, id) = try await s.createLicense()
        let license = try #require(try await s.store.license(id: id))
        let hook = endpoint(s, events: [.suspended])
        try await s.store.insertWebhookEndpoint(hook, actor: admin)
        for index in 0..<10 {
            try await s.store.enqueueWebhookEvent(
                WebhookEventFactory.event(.suspended, license: license, discriminator: "\(index)", now: s.now))
        }
        let connections = try await s.connections(3)
        let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
            for connection in connections {
                group.addTask {
                    try await connection.claimDueWebhookDeliveries(now: s.now, claimUntil: s.now.addingTimeInterval(60), limit: 4)
                        .map(\.delivery.id)
                }
            }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(claimed.count == 10 && Set(claimed).count == 10)
        #expect(try await s.store.claimDueWebhookDeliveries(now: s.now, claimUntil: s.now, limit: 50).isEmpty)

        let first = claimed[0]
        let retryAt = s.now.addingTimeInterval(10)
        try await s.store.recordWebhookAttempt(
            id: first, at: s.now, delivered: false, status: 500, error: "receiver answered 500", nextAttemptAt: retryAt)
        s.clock.advance(by: 10)
        let due = try await s.store.claimDueWebhookDeliveries(now: s.now, claimUntil: s.now.addingTimeInterval(60), limit: 50)
        #expect(due.map(\.delivery.id) == [first])
        #expect(due.first?.delivery.attempts == 1 && due.first?.delivery.lastStatus == 500)
        #expect(due.first?.storedSecret == hook.storedSecret && due.first?.url == hook.url)
        try await s.store.recordWebhookAttempt(id: first, at: s.now, delivered: true, status: 204, error: nil, nextAttemptAt: nil)
        let logged = try #require(try await s.store.webhookDeliveries(endpointID: hook.id, limit: 50).first { $0.id == first })
        #expect(logged.status == .delivered && logged.attempts == 2 && logged.deliveredAt == s.now && logged.lastError == nil)

        // Redelivery by hand: due now again, same event.
        let again = try await s.store.redeliverWebhook(id: first, actor: admin, now: s.now)
        #expect(again?.status == .pending && again?.eventID == logged.eventID)
        #expect(try await s.store.claimDueWebhookDeliveries(now: s.now, claimUntil: s.now.addingTimeInterval(60), limit: 50)
            .map(\.delivery.id) == [first])
        #expect(try await s.store.redeliverWebhook(id: "whd_none", actor: admin, now: s.now) == nil)

        // A disabled endpoint gets nothing: its pending deliveries wait, and none is redelivered.
        try await s.store.recordWebhookAttempt(
            id: first, at: s.now, delivered: false, status: 500, error: "receiver answered 500", nextAttemptAt: s.now)
        _ = try await s.store.updateWebhookEndpoint(id: hook.id, enabled: false, events: nil, description: nil, actor: admin, now: s.now)
        s.clock.advance(by: 120)
        #expect(try await s.store.claimDueWebhookDeliveries(now: s.now, claimUntil: s.now.addingTimeInterval(60), limit: 50).isEmpty)
        #expect(try await s.store.redeliverWebhook(id: claimed[1], actor: admin, now: s.now) == nil)
        _ = try await s.store.updateWebhookEndpoint(id: hook.id, enabled: true, events: nil, description: nil, actor: admin, now: s.now)
        #expect(try await s.store.claimDueWebhookDeliveries(now: s.now, claimUntil: s.now.addingTimeInterval(60), limit: 50)
            .map(\.delivery.id).contains(first))
    }
}
