import AsyncHTTPClient
@testable import Central
import Foundation
import HTTPTypes
import NIOCore
import Protocol
import Testing

/// The edge-facing API on a live server with a real SQLite file.
@Suite(.bounded) struct EdgeAPITests {
    @Test func everyRefusalCodeHasItsStatusAndBody() async throws {
        let fixture = try CentralFixture()
        let clock = fixture.clock
        let administration = fixture.administration
        // One license per refusal, each broken in exactly the way its code names.
        func license(_ adjust: @escaping (inout LicenseDraft) -> Void = { _ in }) async throws -> (key: String, id: String) {
            try await fixture.createLicense(adjust)
        }
        let revoked = try await license()
        _ = try await administration.perform(.revoke, id: revoked.id)
        let suspended = try await license()
        _ = try await administration.perform(.suspend, id: suspended.id)
        let notStarted = try await license { $0.startsAt = clock.now().addingTimeInterval(86_400) }
        let expired = try await license { $0.startsAt = clock.now().addingTimeInterval(-10 * 86_400); $0.days = 1 }
        let ipLimited = try await license { $0.ipAllowlist = try? IPAllowlist.parse(["10.0.0.0/8", "2001:db8::/32"]).get() }
        let oneDevice = try await license { $0.devices = 1 }
        let noMinutes = try await license { $0.minutes = 0 }
        let daily = try await license { $0.dailyMinutes = 0.01 }
        try await fixture.store.meter(licenseID: daily.id, ms: 600, now: clock.now())
        let noSessions = try await license { $0.sessions = 0 }
        let busy = try await license { $0.concurrent = 1 }

        try await fixture.withLiveServer { central in
            func expectRefusal(_ reply: LiveCentral.Reply, _ status: HTTPResponse.Status, _ code: ErrorCode) {
                #expect(reply.status == status, "\(code): \(reply.text)")
                #expect(reply.error?.code == code, "\(reply.text)")
                #expect(reply.error?.message.isEmpty == false)
            }
            expectRefusal(try await central.admit(key: LicenseKey.generate(kind: .trial).value), .unauthorized, .licenseNotFound)
            expectRefusal(try await central.admit(key: revoked.key), .forbidden, .licenseRevoked)
            expectRefusal(try await central.admit(key: suspended.key), .forbidden, .licenseSuspended)
            expectRefusal(try await central.admit(key: notStarted.key), .forbidden, .licenseNotStarted)
            expectRefusal(try await central.admit(key: expired.key), .forbidden, .licenseExpired)
            expectRefusal(try await central.admit(key: ipLimited.key, from: "198.51.100.9"), .forbidden, .ipNotAllowed)
            expectRefusal(try await central.admit(key: ipLimited.key, from: "2001:db9::1"), .forbidden, .ipNotAllowed)
            #expect(try await central.admit(key: ipLimited.key, device: "v4", from: "10.9.8.7").status == .created)
            _ = try await fixture.store.releaseLease(id: try #require(fixture.store.activeLeases(licenseID: ipLimited.id, now: clock.now()).first).id, licenseID: ipLimited.id)
            #expect(try await central.admit(key: ipLimited.key, device: "v4", from: "2001:db8::42").status == .created)
            #expect(try await central.admit(key: oneDevice.key, device: "first").status == .created)
            expectRefusal(try await central.admit(key: oneDevice.key, device: "second"), .forbidden, .deviceNotAllowed)
            expectRefusal(try await central.admit(key: noMinutes.key), .forbidden, .minutesExhausted)
            let dailyReply = try await central.admit(key: daily.key)
            expectRefusal(dailyReply, .tooManyRequests, .dailyLimitReached)
            #expect(Int(dailyReply.headers[.retryAfter] ?? "") ?? 0 > 0)
            expectRefusal(try await central.admit(key: noSessions.key), .forbidden, .sessionsExhausted)
            #expect(try await central.admit(key: busy.key, device: "a").status == .created)
            let busyReply = try await central.admit(key: busy.key, device: "a")
            expectRefusal(busyReply, .tooManyRequests, .concurrencyLimit)
            #expect(busyReply.headers[.retryAfter] != nil)
        }
    }

    @Test func admissionReturnsALeaseThatHeartbeatsRenewAndDeleteReleases() async throws {
        let fixture = try CentralFixture()
        let (key, _) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let admitted = try await central.admit(key: key)
            #expect(admitted.status == .created)
            let body = try admitted.json()
            let sessionID = try #require(body["session_id"] as? String)
            let quota = try #require(body["quota"] as? [String: Any])
            #expect(quota["concurrent_in_use"] as? Int == 1)
            #expect(body["lease_ttl_seconds"] as? Double == 30)

            fixture.clock.advance(by: 20)
            let renewed = try await central.edge(.post, "/v1/sessions/\(sessionID)/heartbeat", key: key)
            #expect(renewed.status == .ok)
            fixture.clock.advance(by: 20)
            #expect(try await central.admit(key: key).error?.code == .concurrencyLimit)
            #expect(try await central.edge(.delete, "/v1/sessions/\(sessionID)", key: key).status == .noContent)
            let gone = try await central.edge(.post, "/v1/sessions/\(sessionID)/heartbeat", key: key)
            #expect(gone.status == .notFound && gone.error?.code == .leaseNotFound)
            #expect(try await central.admit(key: key).status == .created)
        }
    }

    @Test func fiftyRacingHTTPAdmissionsAdmitExactlyOne() async throws {
        let fixture = try CentralFixture()
        let (key, _) = try await fixture.createLicense { $0.concurrent = 1; $0.devices = 1_000 }
        try await fixture.withLiveServer { central in
            let client = HTTPClient(configuration: .init(connectionPool: .init(idleTimeout: .seconds(5), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)))
            let statuses = try await withThrowingTaskGroup(of: UInt.self) { group in
                for index in 0..<64 {
                    group.addTask {
                        var request = HTTPClientRequest(url: "http://localhost:\(central.port)/v1/sessions")
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer \(key)")
                        request.body = .bytes(ByteBuffer(string: #"{"device_id":"racer-\#(index)"}"#))
                        let response = try await client.execute(request, timeout: .seconds(30))
                        _ = try await response.body.collect(upTo: 1 << 16)
                        return response.status.code
                    }
                }
                return try await group.reduce(into: [UInt]()) { $0.append($1) }
            }
            try await client.shutdown()
            #expect(statuses.filter { $0 == 201 }.count == 1)
            #expect(statuses.filter { $0 == 429 }.count == 63)
        }
    }

    @Test func quotaAcceptsBearerOrXLicenseKey() async throws {
        let fixture = try CentralFixture()
        let (key, id) = try await fixture.createLicense { $0.minutes = 2; $0.dailyMinutes = 1 }
        try await fixture.store.meter(licenseID: id, ms: 1_500, now: fixture.clock.now())
        try await fixture.withLiveServer { central in
            let bearer = try await central.edge(.get, "/v1/license/quota", key: key)
            #expect(bearer.status == .ok)
            let quota: QuotaSnapshot = try bearer.decode()
            #expect(quota.status == .active)
            #expect(quota.secondsUsed == 1.5 && quota.secondsLimit == 120 && quota.secondsRemaining == 118.5)
            #expect(quota.sessionsUsed == 1 && quota.sessionsLimit == 10 && quota.sessionsRemaining == 9)
            #expect(quota.dailyLimitSeconds == 60 && quota.dailyRemainingSeconds == 58.5)
            #expect(quota.concurrentInUse == 0 && quota.concurrentLimit == 1)
            #expect(quota.expiresAt != nil)

            let retyped = try await central.request(.get, "/v1/license/quota", headers: [.authorization: "Bearer  \(key.lowercased()) "])
            #expect(retyped.status == .ok, "\(retyped.text)")
            let header = try await central.request(.get, "/v1/license/quota", headers: [xLicenseKey: key])
            #expect(try header.decode(QuotaSnapshot.self) == quota)

            let missing = try await central.request(.get, "/v1/license/quota")
            #expect(missing.status == .unauthorized && missing.error?.code == .licenseKeyMissing)
            let malformed = try await central.request(.get, "/v1/license/quota", headers: [.authorization: "Bearer nonsense"])
            #expect(malformed.status == .unauthorized && malformed.error?.code == .licenseKeyMalformed)
            let unknown = try await central.edge(.get, "/v1/license/quota", key: LicenseKey.generate(kind: .license).value)
            #expect(unknown.status == .unauthorized && unknown.error?.code == .licenseNotFound)
        }
    }

    @Test func badAdmissionBodiesAreRefusedWithTheField() async throws {
        let fixture = try CentralFixture()
        let (key, _) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let cases: [(String, ErrorCode, String?)] = [
                ("{", .malformedJSON, nil),
                ("[]", .invalidType, nil),
                ("{}", .missingField, "device_id"),
                (#"{"device_id":7}"#, .invalidType, "device_id"),
                (#"{"device_id":"a","extra":true}"#, .unknownField, "extra"),
                (#"{"device_id":"\#(String(repeating: "x", count: 129))"}"#, .stringTooLong, "device_id"),
            ]
            for (body, code, field) in cases {
                let reply = try await central.edge(.post, "/v1/sessions", key: key, body: body)
                #expect(reply.status == .badRequest, "\(body)")
                #expect(reply.error?.code == code, "\(body): \(reply.text)")
                #expect(reply.error?.field == field, "\(body)")
            }
            let huge = try await central.edge(.post, "/v1/sessions", key: key, body: String(repeating: " ", count: 100_000))
            #expect(huge.status == .contentTooLarge && huge.error?.code == .payloadTooLarge)
            // Nothing was admitted by any of it.
            #expect(try await central.admit(key: key).status == .created)
        }
    }

    @Test func failedLicenseAuthenticationsAreRateLimitedPerAddress() async throws {
        let fixture = try CentralFixture { $0.authFailuresPerMinute = 5 }
        let (key, _) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let attacker = "203.0.113.66"
            for _ in 0..<5 {
                let reply = try await central.edge(.get, "/v1/license/quota", key: LicenseKey.generate(kind: .trial).value, from: attacker)
                #expect(reply.status == .unauthorized)
            }
            let limited = try await central.edge(.get, "/v1/license/quota", key: key, from: attacker)
            #expect(limited.status == .tooManyRequests && limited.error?.code == .rateLimited)
            let retryAfter = try #require(Int(limited.headers[.retryAfter] ?? ""))
            #expect(retryAfter > 0 && retryAfter <= 60)
            #expect(try await central.admit(key: key, from: attacker).status == .tooManyRequests)
            // Another address is unaffected; the attacker's window passes with the clock.
            #expect(try await central.edge(.get, "/v1/license/quota", key: key, from: "203.0.113.67").status == .ok)
            fixture.clock.advance(by: 61)
            #expect(try await central.edge(.get, "/v1/license/quota", key: key, from: attacker).status == .ok)
        }
    }

    @Test func keysAndTheAdminTokenNeverReachTheLog() async throws {
        let fixture = try CentralFixture()
        let (key, _) = try await fixture.createLicense { $0.concurrent = 1 }
        let recorder = LogRecorder()
        let wrongKey = LicenseKey.generate(kind: .trial).value
        try await fixture.withLiveServer(logger: recorder.logger(label: "central")) { central in
            _ = try await central.admit(key: key)
            _ = try await central.admit(key: key)
            _ = try await central.admit(key: wrongKey)
            _ = try await central.edge(.get, "/v1/license/quota", key: key)
            _ = try await central.edge(.post, "/v1/sessions", key: key, body: "{broken")
            let created = try await central.admin(.post, "/v1/admin/licenses", body: #"{"customer_name":"Log Test"}"#).decode(CreatedLicense.self)
            _ = try await central.edge(.get, "/v1/license/quota", key: created.key)
            _ = try await central.request(.get, "/v1/admin/licenses", headers: [.authorization: "Bearer wrong-admin"])
            _ = try await central.request(.get, "/nope")
            let lines = recorder.all
            #expect(!lines.isEmpty)
            for secret in [key, wrongKey, created.key, CentralFixture.adminToken] {
                #expect(!lines.contains { $0.contains(secret) }, "a secret reached the log")
            }
        }
    }
}
