@testable import Central
import Foundation
import Protocol
import Testing

/// Chat reservations and their settlement as every store must keep them: parallel requests
/// racing a license's last slots admit exactly the remainder, a settlement counts once, and the
/// usage report equals the ledger.
@Suite(.bounded, .postgresTestScope) struct ChatUsageConformanceTests {
    static func quota(requestsPerDay: Int? = nil, tokensPerDay: Int64? = nil) -> ChatQuota {
        ChatQuota(
            models: ["deepseek-chat": ChatModelRoute(upstream: "fake", model: "deepseek-chat")], requestsPerDay: requestsPerDay,
            tokensPerDay: tokensPerDay, timeZone: "Asia/Shanghai")
    }

    static func ask(_ licenseID: String, now: Date, input: Int64 = 10) -> ChatReservationRequest {
        ChatReservationRequest(
            id: ChatController.newRequestID(), licenseID: licenseID, model: "deepseek-chat", upstream: "fake", inputTokens: input,
            requestedOutputTokens: nil, defaultOutputTokens: 100, expiresAt: now.addingTimeInterval(900))
    }

    static func reserved(_ outcome: ChatReservationOutcome?) -> ChatReservation? {
        if case .reserved(let reservation)? = outcome { return reservation }
        return nil
    }

    @Test(arguments: StoreFactory.all)
    func parallelRequestsRacingTheLastSlotsAdmitExactlyTheRemainder(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (_, id) = try await s.createLicense { $0.chat = Self.quota(requestsPerDay: 5) }
        for _ in 0..<2 {
            let first = try #require(Self.reserved(try await s.store.reserveChatRequest(Self.ask(id, now: s.now), now: s.now)))
            #expect(try await s.store.settleChatRequest(id: first.id, usage: ChatTokenUsage(inputTokens: 5, outputTokens: 7, source: .upstream), now: s.now))
        }
        let store = s.store
        let now = s.now
        let outcomes = try await withThrowingTaskGroup(of: ChatReservationOutcome?.self) { group in
            for _ in 0..<10 { group.addTask { try await store.reserveChatRequest(Self.ask(id, now: now), now: now) } }
            var all: [ChatReservationOutcome?] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }
        #expect(outcomes.compactMap(Self.reserved).count == 3)
        let refusals = outcomes.compactMap { outcome -> ChatRefusal? in
            if case .refused(let refusal)? = outcome { return refusal }
            return nil
        }
        #expect(refusals.count == 7 && refusals.allSatisfy { $0.code == .chatDailyRequestsExhausted && $0.status == 429 })
        let usage = try await s.store.chatUsage(licenseID: id, quota: Self.quota(), now: s.now)
        #expect(usage.requestsToday == 5 && usage.tokensToday == 24 + 3 * 10, "no token limit: each holds its prompt only")
    }

    /// A license with minutes and chat: every quota a store hands out (admission, each
    /// checkpoint's push, the quota endpoint's) carries the chat part as it stands, so a
    /// streaming edge sees chat use made meanwhile; a speech-only license has none.
    @Test(arguments: StoreFactory.all)
    func everyQuotaOfAChatLicenseCarriesItsChatUsage(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense { $0.chat = Self.quota(requestsPerDay: 5, tokensPerDay: 1_000) }
        guard case .admitted(let lease, let admitted) = try await s.admit(key) else {
            Issue.record("the license is admitted")
            return
        }
        #expect(admitted.chat?.requestsToday == 0 && admitted.chat?.requestsPerDay == 5)
        let stream = try await MeteredStream.open(on: s.store, licenseID: id, leaseID: lease.id, device: "device-1", now: s.now)
        let request = try #require(Self.reserved(try await s.store.reserveChatRequest(Self.ask(id, now: s.now), now: s.now)))
        #expect(try await s.store.settleChatRequest(id: request.id, usage: ChatTokenUsage(inputTokens: 12, outputTokens: 30, source: .upstream), now: s.now))
        s.clock.advance(by: 1)
        let pushed = try #require(try await stream.checkpoint(acceptedMs: 1_000, reserveMs: 2_000, now: s.now).quota)
        #expect(pushed.chat?.requestsToday == 1 && pushed.chat?.tokensToday == 42 && pushed.chat?.tokensPerDay == 1_000)
        #expect(pushed.chat?.timeZone == "Asia/Shanghai" && pushed.chat?.models == ["deepseek-chat"])
        #expect(pushed.secondsUsed == 1, "the speech minutes are billed beside it")
        let read = try await s.store.quota(for: try s.license(id), now: s.now)
        #expect(read.chat == pushed.chat)

        let (speechKey, speechID) = try await s.createLicense()
        guard case .admitted(_, let speechOnly) = try await s.admit(speechKey) else {
            Issue.record("a speech-only license is admitted")
            return
        }
        #expect(speechOnly.chat == nil)
        #expect(try await s.store.quota(for: try s.license(speechID), now: s.now).chat == nil)
    }

    @Test(arguments: StoreFactory.all)
    func aSettlementCountsOnceOnItsQuotaDayAndTheReportEqualsTheLedger(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (_, id) = try await s.createLicense { $0.chat = Self.quota(tokensPerDay: 10_000) }
        let one = try #require(Self.reserved(try await s.store.reserveChatRequest(Self.ask(id, now: s.now), now: s.now)))
        let two = try #require(Self.reserved(try await s.store.reserveChatRequest(Self.ask(id, now: s.now), now: s.now)))
        let three = try #require(Self.reserved(try await s.store.reserveChatRequest(Self.ask(id, now: s.now), now: s.now)))
        #expect(one.reservedTokens == 110 && one.maxOutputTokens == 100)
        #expect(try await s.store.settleChatRequest(id: one.id, usage: ChatTokenUsage(inputTokens: 12, outputTokens: 30, source: .upstream), now: s.now))
        // A repeat (a retried call, another instance) changes nothing.
        #expect(try await !s.store.settleChatRequest(id: one.id, usage: ChatTokenUsage(inputTokens: 99, outputTokens: 99, source: .upstream), now: s.now))
        #expect(try await s.store.settleChatRequest(id: two.id, usage: ChatTokenUsage(inputTokens: 8, outputTokens: 2, source: .delivered), now: s.now))
        // Released: neither its request nor its tokens count, and it cannot be settled after.
        try await s.store.releaseChatRequest(id: three.id, now: s.now)
        #expect(try await !s.store.settleChatRequest(id: three.id, usage: ChatTokenUsage(inputTokens: 1, outputTokens: 1, source: .upstream), now: s.now))
        let usage = try await s.store.chatUsage(licenseID: id, quota: Self.quota(), now: s.now)
        #expect(usage.requestsToday == 2 && usage.tokensToday == 52 && usage.tokensUsed == 52)

        let ledger = try await s.store.ledger(licenseID: id).filter { LedgerEntry.Kind.chat.contains($0.kind) }
        #expect(ledger.count == 6)
        let day = ChatQuotaPolicy.day(of: s.now, in: Self.quota().zone)
        #expect(ledger.allSatisfy { $0.day == day && $0.amountMs == 0 })
        func sum(_ kind: LedgerEntry.Kind) -> Int64 { ledger.filter { $0.kind == kind }.reduce(0) { $0 + ($1.quantity ?? 0) } }
        #expect(sum(.chatRequest) == 2 && sum(.chatInputTokens) == 20 && sum(.chatOutputTokens) == 32)
        let report = try await s.store.usage(UsageQuery(licenseID: id))
        #expect(report.rows.map(\.chatRequests).reduce(0, +) == sum(.chatRequest))
        #expect(report.rows.map(\.chatInputTokens).reduce(0, +) == sum(.chatInputTokens))
        #expect(report.rows.map(\.chatOutputTokens).reduce(0, +) == sum(.chatOutputTokens))
        // Chat does not touch the speech minutes.
        #expect(try await s.license(id).usedMs == 0)
        let quota = try await s.store.quota(for: try await s.license(id), now: s.now)
        #expect(quota.secondsUsed == 0 && quota.chat?.requestsToday == 2 && quota.chat?.tokensToday == 52 && quota.chat?.tokensPerDay == 10_000)
    }

    @Test(arguments: StoreFactory.all)
    func aChatQuotaIsStoredOnPlansAndLicenses(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        var plan = try #require(try await s.store.plan(named: "trial-basic"))
        plan.chat = Self.quota(requestsPerDay: 7)
        try await s.store.savePlan(plan, actor: AdminOperator(name: "t", ip: nil), now: s.now)
        #expect(try await s.store.plan(named: "trial-basic")?.chat == Self.quota(requestsPerDay: 7))
        let (_, id) = try await s.createLicense()
        #expect(try await s.license(id).chat == Self.quota(requestsPerDay: 7))
    }
}
