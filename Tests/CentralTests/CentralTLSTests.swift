import AsyncHTTPClient
@testable import Central
import EdgeAgent
import Foundation
import Protocol
import Testing

/// Central serving TLS itself (TLS_CERT_FILE/TLS_KEY_FILE), the edge verifying it against a
/// pinned CA (CENTRAL_CA_FILE), and a renewed certificate taking effect on SIGHUP.
@Suite(.bounded, .serialized) struct CentralTLSTests {
    /// A self-signed certificate for localhost, as PEM files.
    static func certificate(in directory: URL, name: String) throws -> (cert: String, key: String) {
        let cert = directory.appendingPathComponent("\(name).crt").path
        let key = directory.appendingPathComponent("\(name).key").path
        _ = try CommandRunner.output("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ])
        return (cert, key)
    }

    static func quota(port: Int, key: String, caFile: String) async throws -> QuotaSnapshot {
        let client = try CentralClient.makeHTTPClient(caFile: caFile)
        let central = CentralClient(baseURL: try #require(URL(string: "https://localhost:\(port)")), licenseKey: key, client: client)
        do {
            let quota = try await central.quota()
            try await client.shutdown()
            return quota
        } catch {
            try await client.shutdown()
            throw error
        }
    }

    @Test func edgePinsCentralsCertificateAndARenewalLoadsOnSIGHUP() async throws {
        let fixture = try CentralFixture()
        let (key, _) = try await fixture.createLicense()
        let first = try Self.certificate(in: fixture.directory, name: "first")
        let second = try Self.certificate(in: fixture.directory, name: "second")
        let served = (cert: fixture.directory.appendingPathComponent("served.crt").path, key: fixture.directory.appendingPathComponent("served.key").path)
        try FileManager.default.copyItem(atPath: first.cert, toPath: served.cert)
        try FileManager.default.copyItem(atPath: first.key, toPath: served.key)

        let port = CentralProcess.freePort()
        let central = try CentralProcess(
            databasePath: fixture.databasePath, port: port, adminToken: CentralFixture.adminToken,
            environment: ["TLS_CERT_FILE": served.cert, "TLS_KEY_FILE": served.key])
        defer { central.stop() }
        try await Self.waitForTLS(port: port, caFile: first.cert)

        // The edge trusts the pinned CA and nothing else.
        #expect(try await Self.quota(port: port, key: key, caFile: first.cert).status == .active)
        await #expect(throws: CentralClient.Refusal.self) { _ = try await Self.quota(port: port, key: key, caFile: second.cert) }

        // Renewal: new files, SIGHUP, and new connections get the new certificate.
        try FileManager.default.removeItem(atPath: served.cert)
        try FileManager.default.removeItem(atPath: served.key)
        try FileManager.default.copyItem(atPath: second.cert, toPath: served.cert)
        try FileManager.default.copyItem(atPath: second.key, toPath: served.key)
        kill(central.process.processIdentifier, SIGHUP)
        var renewed = false
        for _ in 0..<50 where !renewed {
            renewed = (try? await Self.quota(port: port, key: key, caFile: second.cert)) != nil
            if !renewed { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(renewed)
        #expect(central.process.isRunning)
    }

    @Test func halfATLSConfigurationIsRefused() {
        #expect(throws: CentralConfiguration.ConfigurationError.self) {
            _ = try CentralConfiguration.fromEnvironment(["TLS_CERT_FILE": "/tmp/cert.pem"])
        }
        #expect(throws: CentralTLS.TLSError.self) {
            _ = try CentralTLS(files: .init(certificate: "/nonexistent.pem", key: "/nonexistent.key"), logger: .init(label: "t"))
        }
    }

    static func waitForTLS(port: Int, caFile: String) async throws {
        let client = try CentralClient.makeHTTPClient(caFile: caFile)
        for _ in 0..<150 {
            if let response = try? await client.execute(HTTPClientRequest(url: "https://localhost:\(port)/healthz"), timeout: .seconds(1)),
               response.status == .ok {
                try await client.shutdown()
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await client.shutdown()
        Issue.record("central did not serve TLS on \(port)")
    }
}
