import Foundation
import Protocol
import Testing

@Suite(.bounded) struct WireContractTests {
    @Test func errorBodyHasTheDocumentedShape() throws {
        let data = try WireCoding.encoder().encode(ErrorBody(code: .licenseExpired, message: "expired"))
        #expect(String(decoding: data, as: UTF8.self) == #"{"error":{"code":"license_expired","message":"expired"}}"#)
        let decoded = try WireCoding.decoder().decode(ErrorBody.self, from: data)
        #expect(decoded.error.code == .licenseExpired)
    }

    @Test func unknownErrorCodesStillDecode() throws {
        let body = #"{"error":{"code":"some_future_code","message":"m","field":"f"}}"#
        let decoded = try WireCoding.decoder().decode(ErrorBody.self, from: Data(body.utf8))
        #expect(decoded.error.code.rawValue == "some_future_code")
        #expect(decoded.error.field == "f")
    }

    @Test func admissionRefusalsAreInContractOrder() {
        #expect(ErrorCode.admissionRefusals.map(\.rawValue) == [
            "license_not_found", "license_revoked", "license_suspended", "license_not_started", "license_expired",
            "ip_not_allowed", "device_not_allowed", "minutes_exhausted", "daily_limit_reached", "sessions_exhausted",
            "concurrency_limit",
        ])
    }

    @Test func timestampsRoundTripWithMilliseconds() throws {
        let date = Date(timeIntervalSince1970: 1_795_000_000.123)
        let text = WireCoding.formatTimestamp(date)
        #expect(text == "2026-11-18T11:06:40.123Z")
        let parsed = try #require(WireCoding.parseTimestamp(text))
        #expect(abs(parsed.timeIntervalSince(date)) < 0.0005)
        #expect(WireCoding.parseTimestamp("2026-11-18T11:06:40Z") != nil)
        #expect(WireCoding.parseTimestamp("2026-11-18") == Date(timeIntervalSince1970: 1_794_960_000))
        #expect(WireCoding.parseTimestamp("yesterday") == nil)
    }

    @Test func quotaSnapshotGolden() throws {
        let quota = QuotaSnapshot(
            status: .active, startsAt: Date(timeIntervalSince1970: 0), expiresAt: nil, secondsUsed: 1.5,
            secondsLimit: 3600, secondsRemaining: 3598.5, sessionsUsed: 1, sessionsLimit: 10, sessionsRemaining: 9,
            dailyLimitSeconds: nil, dailyRemainingSeconds: nil, concurrentInUse: 0, concurrentLimit: 1)
        let text = String(decoding: try WireCoding.encoder().encode(quota), as: UTF8.self)
        #expect(text == #"{"can_stream":true,"concurrent_in_use":0,"concurrent_limit":1,"seconds_limit":3600,"seconds_remaining":3598.5,"seconds_used":1.5,"sessions_limit":10,"sessions_remaining":9,"sessions_used":1,"starts_at":"1970-01-01T00:00:00.000Z","status":"active"}"#)
        #expect(try WireCoding.decoder().decode(QuotaSnapshot.self, from: Data(text.utf8)) == quota)
    }

    /// "active" with nothing left says that it cannot stream, and why; an older central's
    /// quota without the fields still decodes.
    @Test func aBlockedQuotaSaysWhy() throws {
        let quota = QuotaSnapshot(
            status: .active, startsAt: nil, expiresAt: nil, secondsUsed: 60, secondsLimit: 60, secondsRemaining: 0,
            sessionsUsed: 1, sessionsLimit: nil, sessionsRemaining: nil, dailyLimitSeconds: nil,
            dailyRemainingSeconds: nil, concurrentInUse: 0, concurrentLimit: 1, blockedBy: .minutesExhausted)
        let text = String(decoding: try WireCoding.encoder().encode(quota), as: UTF8.self)
        #expect(text == #"{"blocked_by":"minutes_exhausted","can_stream":false,"concurrent_in_use":0,"concurrent_limit":1,"seconds_limit":60,"seconds_remaining":0,"seconds_used":60,"sessions_used":1,"status":"active"}"#)
        #expect(try WireCoding.decoder().decode(QuotaSnapshot.self, from: Data(text.utf8)) == quota)
        let older = #"{"concurrent_in_use":0,"concurrent_limit":1,"seconds_limit":60,"seconds_remaining":0,"seconds_used":60,"sessions_used":1,"status":"active"}"#
        #expect(try WireCoding.decoder().decode(QuotaSnapshot.self, from: Data(older.utf8)).blockedBy == nil)
    }
}
