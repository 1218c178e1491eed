import AsyncHTTPClient
@testable import Central
import EdgeAgent
import Foundation
import Protocol
import Synchronization
import Testing

/// `edge-agent --check` against a live central.
@Suite(.bounded) struct EdgeCheckTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var text: String { lines.withLock { $0.joined(separator: "\n") } }
    }

    static func check(port: Int, key: String) async throws -> (Bool, String) {
        var configuration = EdgeConfiguration(licenseKey: key, centralURL: try #require(URL(string: "http://localhost:\(port)")))
        configuration.audioDevice = "default"
        let http = try CentralClient.makeHTTPClient(caFile: nil)
        let check = SupportCheck(
            configuration: configuration, audio: ALSAAudioSource(),
            central: CentralClient(baseURL: configuration.centralURL, licenseKey: key, client: http))
        let lines = Lines()
        let healthy = await check.run { lines.append($0) }
        try await http.shutdown()
        return (healthy, lines.text)
    }

    @Test func reportsALicenseThatCanStream() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, _) = try await fixture.createLicense { $0.minutes = 30 }
        try await fixture.withLiveServer { central in
            let (healthy, output) = try await Self.check(port: central.port, key: key)
            #expect(healthy, "\(output)")
            #expect(output.contains("reachable") && output.contains("status:        active"))
            #expect(output.contains("minutes left:  30.00 of 30.00"))
            #expect(!output.contains(key), "the full key must not be printed")
            #expect(output.hasSuffix("OK: this edge can stream."))
        }
    }

    @Test func explainsARevokedLicenseAndAnUnknownKey() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        _ = try await fixture.administration.perform(.revoke, id: id)
        try await fixture.withLiveServer { central in
            let (revokedHealthy, revoked) = try await Self.check(port: central.port, key: key)
            #expect(!revokedHealthy && revoked.contains("status:        revoked"))
            let (unknownHealthy, unknown) = try await Self.check(port: central.port, key: LicenseKey.generate(kind: .trial).value)
            #expect(!unknownHealthy && unknown.contains("license_not_found"))
        }
    }

    @Test func saysWhenCentralIsUnreachable() async throws {
        let (healthy, output) = try await Self.check(port: CentralProcess.freePort(), key: LicenseKey.generate(kind: .trial).value)
        #expect(!healthy && output.contains("NOT reachable") && output.contains("not checked"))
    }

    @Test func theBinaryExitsNonZeroOnAMissingOrMalformedKey() async throws {
        let missing = try await CommandRunner.run("edge-agent", ["--check"])
        #expect(missing.status == 2 && missing.stderr.contains("LICENSE_KEY is not set"))
        let malformed = try await CommandRunner.run("edge-agent", ["--check"], environment: ["LICENSE_KEY": "hello"])
        #expect(malformed.status == 2 && malformed.stderr.contains("does not look like a license key"))
    }
}
