@testable import Central
import Foundation
import HTTPTypes
import Protocol
import Testing

/// The request log, at every level down to trace, carries neither query strings nor header
/// values: a client may put a license key or the admin token in either.
struct RequestLogTests {
    @Test func queryStringsAndHeaderValuesNeverReachTheLogAtTrace() async throws {
        let fixture = try CentralFixture()
        let (key, _) = try await fixture.createLicense()
        let recorder = LogRecorder()
        let queryKey = LicenseKey.generate(kind: .trial).value
        let streamToken = "st_" + String(repeating: "7", count: 40)
        let cookie = "session=cookie-secret-0123456789"
        try await fixture.withLiveServer(logger: recorder.logger(label: "central")) { central in
            _ = try await central.edge(.get, "/v1/license/quota?key=\(queryKey)&license_key=\(queryKey)", key: key)
            _ = try await central.request(.get, "/v1/admin/licenses?access_token=\(CentralFixture.adminToken)")
            _ = try await central.admin(.get, "/v1/admin/usage?format=csv&token=\(CentralFixture.adminToken)")
            _ = try await central.request(.get, "/v1/stream?token=\(streamToken)")
            _ = try await central.request(.get, "/healthz?api_key=\(queryKey)", headers: [.cookie: cookie])
            _ = try await central.request(.get, "/nope?password=\(queryKey)")
            let lines = recorder.all
            // The log is not empty: requests are logged, by method, path and status.
            #expect(lines.contains { $0.contains("/v1/license/quota") && $0.contains("GET") }, "\(lines.prefix(5))")
            #expect(lines.contains { $0.contains("/healthz") && $0.contains("200") }, "\(lines.prefix(5))")
            for secret in [key, queryKey, CentralFixture.adminToken, streamToken, "cookie-secret-0123456789"] {
                #expect(!lines.contains { $0.contains(secret) }, "a secret reached the log: \(lines.first { $0.contains(secret) } ?? "")")
            }
            // Which parameters came is kept (their names), what they said is not.
            #expect(lines.contains { $0.contains("/v1/admin/usage") && $0.contains("format,token") })
        }
    }
}
