@testable import Central
import Foundation
import Protocol
import Testing

/// The chat proxy's rules without a database: quota days in the plan's time zone, the order
/// of refusals and their Retry-After, and reservations cut to what a license has left.
@Suite(.bounded) struct ChatQuotaPolicyTests {
    static let shanghai = TimeZone(identifier: "Asia/Shanghai") ?? .gmt
    /// 2026-12-01 15:59:59 UTC = 23:59:59 in Shanghai.
    static let beforeMidnightInShanghai = Date(timeIntervalSince1970: 1_796_140_799)

    static func license(_ chat: ChatQuota?, status: LicenseStatus = .active, now: Date = beforeMidnightInShanghai) -> License {
        License(
            id: "lic_chat", keyPrefix: "LIC-CHAT", customerName: "c", customerEmail: nil, plan: "p", status: status,
            createdAt: now.addingTimeInterval(-86_400), updatedAt: now, startsAt: now.addingTimeInterval(-86_400),
            expiresAt: now.addingTimeInterval(86_400 * 30), validityDays: 30, expiryFromFirstUse: false, limitMs: 60_000,
            usedMs: 0, sessionLimit: nil, sessionsUsed: 0, dailyCapMs: nil, maxConcurrent: 1, maxDevices: 1,
            ipAllowlist: IPAllowlist(blocks: []), notes: "", lastUsedAt: nil, chat: chat)
    }

    static func quota(
        requestsPerDay: Int? = nil, tokensPerDay: Int64? = nil, tokensTotal: Int64? = nil, perMinute: Int? = nil,
        zone: String = "Asia/Shanghai"
    ) -> ChatQuota {
        ChatQuota(
            models: ["deepseek-chat": ChatModelRoute(upstream: "deepseek", model: "deepseek-chat")], requestsPerDay: requestsPerDay,
            tokensPerDay: tokensPerDay, tokensTotal: tokensTotal, requestsPerMinute: perMinute, timeZone: zone)
    }

    static func ask(input: Int64 = 100, maxTokens: Int64? = nil, model: String = "deepseek-chat", now: Date = beforeMidnightInShanghai)
        -> ChatReservationRequest
    {
        ChatReservationRequest(
            id: "chatreq_1", licenseID: "lic_chat", model: model, upstream: "deepseek", inputTokens: input,
            requestedOutputTokens: maxTokens, defaultOutputTokens: 1000, expiresAt: now.addingTimeInterval(900))
    }

    static func refusal(_ outcome: ChatReservationOutcome) -> ChatRefusal? {
        if case .refused(let refusal) = outcome { return refusal }
        return nil
    }

    static func reservation(_ outcome: ChatReservationOutcome) -> ChatReservation? {
        if case .reserved(let reservation) = outcome { return reservation }
        return nil
    }

    @Test func theQuotaDayTurnsAtMidnightInThePlansTimeZone() {
        let now = Self.beforeMidnightInShanghai
        #expect(ChatQuotaPolicy.day(of: now, in: Self.shanghai) == "2026-12-01")
        #expect(ChatQuotaPolicy.day(of: now.addingTimeInterval(1), in: Self.shanghai) == "2026-12-02")
        // The same instant is still mid-afternoon of 2026-12-01 in UTC.
        #expect(ChatQuotaPolicy.day(of: now.addingTimeInterval(1), in: .gmt) == "2026-12-01")
        #expect(ChatQuotaPolicy.nextDayStart(after: now, in: Self.shanghai) == now.addingTimeInterval(1))
        // A zone with daylight saving: 2026-03-08 in New York has 23 hours.
        let newYork = TimeZone(identifier: "America/New_York") ?? .gmt
        let morning = Date(timeIntervalSince1970: 1_772_960_400)  // 2026-03-08 09:00 UTC = 05:00 EDT
        #expect(ChatQuotaPolicy.day(of: morning, in: newYork) == "2026-03-08")
        #expect(ChatQuotaPolicy.nextDayStart(after: morning, in: newYork) == Date(timeIntervalSince1970: 1_773_028_800))
    }

    @Test func aDailyRequestLimitRefusesTheNextRequestUntilLocalMidnight() throws {
        let license = Self.license(Self.quota(requestsPerDay: 3))
        let now = Self.beforeMidnightInShanghai.addingTimeInterval(-3_600)
        #expect(Self.reservation(ChatQuotaPolicy.reserve(Self.ask(), license: license, usage: ChatUsageCounts(requestsToday: 2), now: now)) != nil)
        let refused = try #require(Self.refusal(
            ChatQuotaPolicy.reserve(Self.ask(), license: license, usage: ChatUsageCounts(requestsToday: 3), now: now)))
        #expect(refused.code == .chatDailyRequestsExhausted && refused.status == 429)
        #expect(refused.retryAfterSeconds == 3_601)
    }

    @Test func requestsPerMinuteWaitForTheOldestToAgeOut() throws {
        let license = Self.license(Self.quota(perMinute: 2))
        let now = Self.beforeMidnightInShanghai
        let usage = ChatUsageCounts(requestsToday: 5, requestsLastMinute: 2, oldestInLastMinute: now.addingTimeInterval(-45))
        let refused = try #require(Self.refusal(ChatQuotaPolicy.reserve(Self.ask(), license: license, usage: usage, now: now)))
        #expect(refused.code == .chatRateLimited && refused.status == 429 && refused.retryAfterSeconds == 15)
    }

    @Test func aReservationHoldsWhatTheRequestCouldUseCutToWhatIsLeft() throws {
        let license = Self.license(Self.quota(tokensPerDay: 5_000, tokensTotal: 100_000))
        let now = Self.beforeMidnightInShanghai
        // Enough left: the prompt plus the default answer allowance, and the upstream is capped there.
        let roomy = try #require(Self.reservation(ChatQuotaPolicy.reserve(Self.ask(), license: license, usage: ChatUsageCounts(), now: now)))
        #expect(roomy.reservedTokens == 1_100 && roomy.maxOutputTokens == 1_000 && roomy.day == "2026-12-01")
        // The client's own max_tokens is the allowance when it names one.
        let asked = try #require(Self.reservation(ChatQuotaPolicy.reserve(Self.ask(maxTokens: 50), license: license, usage: ChatUsageCounts(), now: now)))
        #expect(asked.reservedTokens == 150 && asked.maxOutputTokens == 50)
        // Little left today: the answer is capped at what remains.
        let tight = try #require(Self.reservation(
            ChatQuotaPolicy.reserve(Self.ask(), license: license, usage: ChatUsageCounts(tokensToday: 4_700, tokensUsed: 4_700), now: now)))
        #expect(tight.reservedTokens == 300 && tight.maxOutputTokens == 200)
        // Not even the prompt fits today: refused until midnight.
        let daily = try #require(Self.refusal(
            ChatQuotaPolicy.reserve(Self.ask(), license: license, usage: ChatUsageCounts(tokensToday: 4_950, tokensUsed: 4_950), now: now)))
        #expect(daily.code == .chatDailyTokensExhausted && daily.status == 429 && daily.retryAfterSeconds == 1)
        // The lifetime allowance used up is final (403, no Retry-After).
        let total = try #require(Self.refusal(
            ChatQuotaPolicy.reserve(Self.ask(), license: license, usage: ChatUsageCounts(tokensToday: 0, tokensUsed: 100_000), now: now)))
        #expect(total.code == .chatTokensExhausted && total.status == 403 && total.retryAfterSeconds == nil)
    }

    @Test func withoutATokenLimitNothingIsCapped() throws {
        let license = Self.license(Self.quota(requestsPerDay: 10))
        let reserved = try #require(Self.reservation(
            ChatQuotaPolicy.reserve(Self.ask(), license: license, usage: ChatUsageCounts(), now: Self.beforeMidnightInShanghai)))
        #expect(reserved.maxOutputTokens == nil && reserved.reservedTokens == 100)
    }

    @Test func theLicenseStateTheChatQuotaAndTheModelAnswerFirst() throws {
        let now = Self.beforeMidnightInShanghai
        let revoked = try #require(Self.refusal(
            ChatQuotaPolicy.reserve(Self.ask(), license: Self.license(Self.quota(), status: .revoked), usage: ChatUsageCounts(), now: now)))
        #expect(revoked.code == .licenseRevoked && revoked.status == 403)
        var expired = Self.license(Self.quota())
        expired.expiresAt = now.addingTimeInterval(-1)
        #expect(Self.refusal(ChatQuotaPolicy.reserve(Self.ask(), license: expired, usage: ChatUsageCounts(), now: now))?.code == .licenseExpired)
        let noChat = try #require(Self.refusal(ChatQuotaPolicy.reserve(Self.ask(), license: Self.license(nil), usage: ChatUsageCounts(), now: now)))
        #expect(noChat.code == .chatNotEnabled && noChat.status == 403)
        let model = try #require(Self.refusal(
            ChatQuotaPolicy.reserve(Self.ask(model: "gpt-4o"), license: Self.license(Self.quota()), usage: ChatUsageCounts(), now: now)))
        #expect(model.code == .modelNotAllowed && model.status == 404)
    }

    @Test func theAdminAPIsChatObjectIsCheckedFieldByField() throws {
        func parse(_ json: String) throws(RequestValidationError) -> ChatQuota {
            let value = (try? JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))) ?? .null
            return try ChatQuota(json: value, field: "chat")
        }
        let quota = try parse(#"{"models":{"qwen-plus":"qwen/Qwen/Qwen2.5-7B"},"requests_per_day":5,"time_zone":"Asia/Shanghai"}"#)
        #expect(quota.models["qwen-plus"] == ChatModelRoute(upstream: "qwen", model: "Qwen/Qwen2.5-7B"))
        #expect(quota.requestsPerDay == 5 && quota.tokensPerDay == nil && quota.timeZone == "Asia/Shanghai")
        // Stored and read back unchanged.
        #expect(try ChatQuota.stored(quota.storedJSON, owner: "x") == quota)
        let cases: [(String, String?)] = [
            (#"{"models":{}}"#, "chat.models"),
            (#"{"models":{"a":"no-slash"}}"#, "chat.models"),
            (#"{"models":{"a":"UP/x"}}"#, "chat.models"),
            (#"{"models":{"a b":"up/x"}}"#, "chat.models"),
            (#"{"models":{"a":"up/x"},"time_zone":"Mars/Olympus"}"#, "chat.time_zone"),
            (#"{"models":{"a":"up/x"},"requests_per_day":-1}"#, "chat.requests_per_day"),
            (#"{"models":{"a":"up/x"},"tokens_per_day":1.5}"#, "chat.tokens_per_day"),
            (#"{"models":{"a":"up/x"},"surprise":1}"#, "chat.surprise"),
        ]
        for (json, field) in cases {
            #expect(throws: RequestValidationError.self, "\(json)") { _ = try parse(json) }
            do {
                _ = try parse(json)
            } catch {
                #expect(error.field == field, "\(json): \(error)")
            }
        }
    }
}
