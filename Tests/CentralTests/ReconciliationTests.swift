@testable import Central
import Foundation
import Protocol
import Testing

/// The three counts per session: the edge's (its `stop`), the bill, the provider's.
@Suite(.bounded) struct SessionReconciliationTests {
    static func record(billed: Int64, edge: Int64?, providerAudio: Int64?, reportedSeconds: Int64?) -> StreamSessionRecord {
        StreamSessionRecord(
            id: "sess", licenseID: "lic", leaseID: "lease", deviceFingerprint: "d", clientIP: "127.0.0.1", provider: "deepgram",
            sourceLanguage: "en", targetLanguage: nil, status: .closed, startedAt: Date(timeIntervalSince1970: 0), firstAudioAt: nil,
            lastCheckpointAt: nil, billedMs: billed, lastSequence: 0, endedAt: nil, stopReason: .clientStop, owner: nil,
            providerAudioMs: providerAudio, providerReportedSeconds: reportedSeconds, edgeSentMs: edge)
    }

    @Test func countsWithinTheThresholdRaiseNothingAndMissingCountsNeither() {
        let close = SessionAccount.account(Self.record(billed: 10_000, edge: 10_020, providerAudio: 10_000, reportedSeconds: 11), thresholdMs: 2_000)
        #expect(close.flags.isEmpty && close.providerReportedMs == 11_000)
        let unknown = SessionAccount.account(Self.record(billed: 10_000, edge: nil, providerAudio: nil, reportedSeconds: nil), thresholdMs: 2_000)
        #expect(unknown.flags.isEmpty)
    }

    @Test func eachCountBeyondTheThresholdIsFlaggedByName() {
        let account = SessionAccount.account(Self.record(billed: 10_000, edge: 14_500, providerAudio: 7_000, reportedSeconds: 15), thresholdMs: 2_000)
        #expect(account.flags == [.edgeVersusBilled, .providerSentVersusBilled, .providerReportedVersusBilled])
        let report = SessionAccountReport(
            records: [Self.record(billed: 10_000, edge: 10_000, providerAudio: 10_000, reportedSeconds: 10),
                      Self.record(billed: 5_000, edge: 9_000, providerAudio: 5_000, reportedSeconds: 5)],
            thresholdMs: 2_000, flaggedOnly: false)
        #expect(report.totals["deepgram"] == .init(
            sessions: 2, flagged: 1, billedMs: 15_000, edgeSentMs: 19_000, providerAudioMs: 15_000, providerReportedMs: 15_000))
        let flaggedOnly = SessionAccountReport(
            records: [Self.record(billed: 5_000, edge: 5_000, providerAudio: nil, reportedSeconds: nil),
                      Self.record(billed: 5_000, edge: 9_000, providerAudio: nil, reportedSeconds: nil)],
            thresholdMs: 2_000, flaggedOnly: true)
        #expect(flaggedOnly.sessions.map(\.flags) == [[.edgeVersusBilled]])
        let csv = report.csv.components(separatedBy: "\r\n")
        #expect(csv[0].hasPrefix("session_id,license_id,provider,started_at"))
        #expect(csv[2].hasSuffix(",edge_vs_billed"))
    }
}

extension DeepgramProviderTests {
    /// Through a real central and the fake: the edge's count from its `stop`, the bill and
    /// Deepgram's figure land on the session, the report shows them, flags the one that is off,
    /// and `/metrics` adds them up per provider.
    @Test func theThreeCountsAreRecordedReportedAndFlagged() async throws {
        let rig = try await Self.rig()
        defer { rig.fake.stop() }
        let (frames, _) = try DashScopeProviderTests.speechFrames("Three counts for one session.")
        let sentMs = Int64(frames.count * 20)
        let (key, licenseID) = try await rig.fixture.createLicense()
        try await rig.fixture.withLiveServer(provider: rig.provider, keyVault: rig.vault) { central in
            var sessions: [String] = []
            // The first edge counts right; the second claims 5 s more than it sent.
            for claimed in [sentMs, sentMs + 5_000] {
                let (client, started) = try await central.openStream(key: key, source: "en", target: nil)
                await client.stream(frames, interval: .milliseconds(2))
                client.send(.stop(StopMessage(sentMs: claimed)))
                #expect(try #require(await client.stopped(timeout: .seconds(20))).billedMs == sentMs)
                sessions.append(started.sessionID)
            }
            #expect(try await eventually { try await rig.fixture.store.streamSession(id: sessions[1])?.edgeSentMs == sentMs + 5_000 })
            let reply = try await central.admin(.get, "/v1/admin/usage/sessions?license_id=\(licenseID)")
            #expect(reply.status == .ok, "\(reply.text)")
            let report = try reply.decode(SessionAccountReport.self)
            #expect(report.sessions.map(\.sessionID) == sessions)
            let (right, off) = (report.sessions[0], report.sessions[1])
            #expect(right.billedMs == sentMs && right.edgeSentMs == sentMs && right.providerAudioMs == sentMs)
            #expect(right.providerReportedMs == Int64((Double(sentMs) / 1000).rounded()) * 1000)
            #expect(right.flags.isEmpty)
            #expect(off.flags == [.edgeVersusBilled])
            let flagged = try await central.admin(.get, "/v1/admin/usage/sessions?license_id=\(licenseID)&flagged=true")
            #expect(try flagged.decode(SessionAccountReport.self).sessions.map(\.sessionID) == [sessions[1]])
            let csv = try await central.admin(.get, "/v1/admin/usage/sessions?license_id=\(licenseID)&format=csv")
            #expect(csv.text.components(separatedBy: "\r\n").count == 4 && csv.text.contains(",edge_vs_billed"))
            let refused = try await central.admin(.get, "/v1/admin/usage/sessions?threshold_ms=-1")
            #expect(refused.status == .badRequest)
            let metrics = try await central.request(.get, "/metrics").text.split(separator: "\n")
            func total(_ count: String) -> String? {
                metrics.first { $0.hasPrefix(#"central_stream_audio_milliseconds_total{count="\#(count)",provider="deepgram""#) }?
                    .split(separator: " ").last.map(String.init)
            }
            #expect(total("billed") == String(2 * sentMs))
            #expect(total("edge_sent") == String(2 * sentMs + 5_000))
            #expect(total("provider_sent") == String(2 * sentMs))
        }
    }
}
