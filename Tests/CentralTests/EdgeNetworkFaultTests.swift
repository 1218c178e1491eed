@testable import Central
import Foundation
import Protocol
import Testing

/// A real `edge-agent` in a network namespace of the test's own (ALSA `file` capture of a long
/// tone), streaming through a real nginx to two central instances on one PostgreSQL database.
/// Its traffic to the load balancer is degraded with nftables: 5 % random loss, then a 10 s
/// partition. It keeps its session, and nothing is billed twice.
@Suite(.bounded, 
    .postgresTestScope, .enabled(if: !PostgresTestServer.optedOut, "CENTRAL_TEST_SKIP_POSTGRES=1"),
    .enabled(if: NetworkLab.available, "needs root, ip and nft (CI runs as root; scripts/install-deps.sh installs nftables)"))
struct EdgeNetworkFaultTests {
    /// The edge's status, asked from inside the namespace (its API answers on its own loopback).
    static func status(_ lab: NetworkLab, port: Int) -> [String: Any] {
        guard let text = try? lab.inside("/usr/bin/curl", ["-s", "-m", "5", "http://127.0.0.1:\(port)/api/status"]) else { return [:] }
        return (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    static func control(_ lab: NetworkLab, port: Int, _ action: String) throws -> String {
        try lab.inside("/usr/bin/curl", [
            "-s", "-m", "10", "-X", "POST", "-H", "Origin: http://127.0.0.1:\(port)", "-H", "Content-Type: application/json",
            "-d", #"{"source_language":"en","target_language":"zh"}"#, "http://127.0.0.1:\(port)/api/translation/\(action)",
        ])
    }

    @Test func anEdgeKeepsItsSessionThroughLossAndAPartition() async throws {
        let lab = try NetworkLab()
        defer { lab.remove() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("netfault-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("alsa"), withIntermediateDirectories: true)
        let raw = directory.appendingPathComponent("tone.raw").path
        try SpeechTestAudio.run("sox", ["-n", "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", raw, "synth", "120", "sine", "440"])
        try """
            pcm.testmic { type file slave.pcm "null" file "/dev/null" infile "\(raw)" format "raw" }
            """.write(toFile: directory.appendingPathComponent("alsa/asoundrc").path, atomically: true, encoding: .utf8)

        try await CentralCluster.with(instances: 2, balancerAlsoOn: lab.hostAddress) { cluster in
            let (key, id) = try await cluster.createLicense()
            let edgePort = CentralProcess.freePort()
            let edge = lab.process(
                CommandRunner.productsDirectory.appendingPathComponent("edge-agent").path, [],
                environment: [
                    "PATH": "/usr/bin:/bin", "HOME": directory.path, "XDG_CONFIG_HOME": directory.path,
                    "LICENSE_KEY": key, "CENTRAL_URL": "http://\(lab.hostAddress):\(cluster.balancer.port)",
                    "EDGE_PORT": String(edgePort), "AUDIO_DEVICE": "testmic",
                    "EDGE_DATA_DIR": directory.appendingPathComponent("edge").path, "LOG_LEVEL": "error",
                ])
            try edge.run()
            defer { edge.terminateAndWait() }
            #expect(await eventually { !Self.status(lab, port: edgePort).isEmpty }, "the edge did not come up")
            let started = try Self.control(lab, port: edgePort, "start")
            #expect(started.contains("start"), "\(started)")
            var sessionID: String?
            #expect(await eventually {
                let status = Self.status(lab, port: edgePort)
                sessionID = status["session_id"] as? String
                return status["link"] as? String == "streaming" && sessionID != nil
            })
            let session = try #require(sessionID)

            try await Task.sleep(for: .seconds(4))
            try lab.loss(percent: 5)
            try await Task.sleep(for: .seconds(10))
            try lab.partition()
            try await Task.sleep(for: .seconds(10))
            try lab.clear()
            // Back: the link streams again, the same session.
            #expect(await eventually(within: .seconds(30)) {
                let status = Self.status(lab, port: edgePort)
                return status["link"] as? String == "streaming" && status["session_id"] as? String == session
            }, "\(Self.status(lab, port: edgePort))")
            try await Task.sleep(for: .seconds(4))
            _ = try Self.control(lab, port: edgePort, "stop")
            #expect(try await eventually { try await cluster.store.liveStreamSessions().isEmpty })
            let final = Self.status(lab, port: edgePort)
            #expect(final["session_id"] as? String == session, "\(final)")

            // One session, billed once: no more than the edge sent, and the ledger, the license
            // and the session agree.
            let license = try #require(try await cluster.store.license(id: id))
            let record = try #require(try await cluster.store.streamSession(id: session))
            let sent = Int64(final["audio_sent_ms"] as? Int ?? -1)
            #expect(license.sessionsUsed == 1)
            #expect(record.billedMs == license.usedMs)
            // Never more than the frames the session numbered (20 ms each): no frame twice. The
            // edge's own counter is refreshed with its capture state, so it can trail the last
            // few frames it sent before the stop by a moment.
            #expect(license.usedMs <= (record.lastSequence + 1) * 20, "billed \(license.usedMs) ms for \(record.lastSequence + 1) frames")
            #expect(license.usedMs <= sent + 500, "billed \(license.usedMs) ms of \(sent) ms sent")
            #expect(license.usedMs >= 15_000, "billed only \(license.usedMs) ms of \(sent) ms sent")
            let debits = try await cluster.store.ledger(licenseID: id).filter { $0.kind == .debit }
            #expect(debits.reduce(0) { $0 + $1.amountMs } == license.usedMs)
            #expect(Set(debits.map(\.idempotencyKey)).count == debits.count)
            #expect(try await cluster.store.activeLeaseCount(now: Date()) == 0)
        }
    }
}
