import AsyncHTTPClient
@testable import Central
import Foundation
import Logging
import Protocol
import Testing

/// Central relaying to OpenAI's Realtime API in transcription sessions, proved against the
/// `fake-openai-realtime` process: the edge's Opus decoded at 24 kHz on central, base64 PCM16
/// appends, server VAD or central's own commits.
@Suite(.bounded, .serialized) struct OpenAIRealtimeProviderTests {
    static let goodKey = "sk-openai-good-0123456789"
    static let secondKey = "sk-openai-second-987654321"

    typealias Rig = FakeProviderRig<OpenAIRealtimeSpeechProvider>

    static func rig(keys: [String] = [goodKey], adjust: (inout OpenAIRealtimeSettings) -> Void = { _ in }) async throws -> Rig {
        try await Rig.start(
            "fake-openai-realtime", providerName: OpenAIRealtimeSpeechProvider.name, keys: keys, fakeKeys: [goodKey, secondKey]
        ) { url, vault, logger in
            var settings = OpenAIRealtimeSettings()
            settings.url = url
            settings.finishTimeout = .seconds(5)
            adjust(&settings)
            return OpenAIRealtimeSpeechProvider(settings: settings, keys: vault, logger: logger)
        }
    }

    @Test(arguments: [("gpt-4o-transcribe", "server_vad"), ("gpt-live-transcribe", "none")])
    func transcribesSpeechAndBillsWhatWasSent(model: String, turnDetection: String) async throws {
        let rig = try await Self.rig { $0.model = model }
        defer { rig.fake.stop() }
        let (frames, _) = try DashScopeProviderTests.speechFrames(
            "Hello there. This is an OpenAI relay test. It has three sentences.", trailingSilenceMs: 200)
        let (key, _) = try await rig.fixture.createLicense()
        try await rig.fixture.withLiveServer(logger: rig.logs.logger(label: "central"), provider: rig.provider, keyVault: rig.vault) { central in
            let (client, started) = try await central.openStream(key: key, source: "en", target: nil)
            #expect(started.provider == ProviderInfo(name: "openai", model: model, demo: false))
            await client.stream(frames, interval: .milliseconds(2))
            client.send(.stop(StopMessage()))
            let stopped = try #require(await client.stopped(timeout: .seconds(20)))
            #expect(stopped.reason == .clientStop)
            #expect(stopped.billedMs == Int64(frames.count * 20))
            let transcripts = DashScopeProviderTests.texts(client).transcripts
            let finals = transcripts.filter(\.final)
            #expect(finals.count >= 2, "\(client.messages)")
            #expect(transcripts.contains { !$0.final }, "no interim (delta) transcript")
            #expect(finals.allSatisfy { $0.text.hasPrefix("[fake] segment") })
            #expect(Set(finals.map(\.sentenceID)).count == finals.count)

            let sessions = try await rig.fake.reports("sessions")
            let session = try #require(sessions.first)
            #expect(sessions.count == 1)
            #expect((session["errors"] as? [String]) == [], "\(session)")
            #expect(session["turn_detection"] as? String == turnDetection)
            #expect(session["language"] as? String == "en")
            // Every frame decoded at 24 kHz reached OpenAI: 20 ms each.
            #expect(session["audio_ms"] as? Int == frames.count * 20)
            // The last words came back: every committed item completed before the close.
            #expect(session["completed"] as? Int == session["items"] as? Int)
            if turnDetection == "none" { #expect((session["commits"] as? Int ?? 0) >= 2) }

            let (providerMs, reported) = try await DashScopeProviderTests.providerUsage(rig.fixture.store, session: started.sessionID)
            #expect(providerMs == Int64(frames.count * 20))
            // Duration-billed models report seconds; token-billed ones report none.
            if model == "gpt-live-transcribe" {
                #expect(reported == Int((Double(frames.count * 20) / 1000).rounded()), "\(String(describing: reported))")
            } else {
                // Token-billed: no seconds, but OpenAI's tokens are the provider's figure.
                #expect(reported == nil)
                let record = try await rig.fixture.store.streamSession(id: started.sessionID)
                #expect((record?.providerReportedTokens ?? 0) > 0, "\(String(describing: record))")
            }
            #expect(try await rig.fixture.store.activeLeases(licenseID: nil, now: Date()).isEmpty)
        }
    }

    @Test(arguments: [
        (#"{"failure":"server-error","after_ms":400,"count":10}"#, ErrorCode.providerUnavailable),
        (#"{"failure":"disconnect","after_ms":400,"count":10}"#, ErrorCode.providerUnavailable),
    ])
    func injectedFailuresEndWithTheirCodeAndCompleteBilling(injection: String, code: ErrorCode) async throws {
        let rig = try await Self.rig { $0.retries = 2 }
        defer { rig.fake.stop() }
        let (frames, _) = try DashScopeProviderTests.speechFrames("A short test sentence for failures.")
        let (key, licenseID) = try await rig.fixture.createLicense()
        try await rig.fake.control("inject", injection)
        try await rig.fixture.withLiveServer(provider: rig.provider, keyVault: rig.vault) { central in
            let (client, _) = try await central.openStream(key: key, source: "en", target: nil)
            let sent = Task { await client.stream(frames, interval: .milliseconds(20)) }
            let stopped = try #require(await client.stopped(timeout: .seconds(30)), "\(client.messages)")
            sent.cancel()
            #expect(stopped.reason == code, "\(stopped)")
            let ledger = try await rig.fixture.store.ledger(licenseID: licenseID)
            #expect(ledger.reduce(0) { $0 + $1.amountMs } == stopped.billedMs)
            #expect(stopped.billedMs > 0)
            #expect(try await rig.fixture.store.activeLeases(licenseID: nil, now: Date()).isEmpty)
        }
    }

    /// OpenAI's 60-minute limit (`session_expired`) or a dropped socket mid-session: the session
    /// goes on in a fresh OpenAI session, here on the next key, and the edge notices nothing.
    @Test(arguments: ["session-expired", "disconnect"])
    func aLostSessionGoesOnInAFreshOne(failure: String) async throws {
        let rig = try await Self.rig(keys: [Self.goodKey, Self.secondKey])
        defer { rig.fake.stop() }
        let (frames, _) = try DashScopeProviderTests.speechFrames("First sentence before the loss. Second sentence after it. Third one.")
        let (key, _) = try await rig.fixture.createLicense()
        try await rig.fake.control("inject", #"{"failure":"\#(failure)","after_ms":1500}"#)
        try await rig.fixture.withLiveServer(provider: rig.provider, keyVault: rig.vault) { central in
            let (client, _) = try await central.openStream(key: key, source: "en", target: nil)
            await client.stream(frames, interval: .milliseconds(5))
            client.send(.stop(StopMessage()))
            let stopped = try #require(await client.stopped(timeout: .seconds(20)))
            #expect(stopped.reason == .clientStop)
            #expect(stopped.billedMs == Int64(frames.count * 20))
            #expect(!client.messages.contains { if case .error = $0 { true } else { false } })
            let finals = DashScopeProviderTests.texts(client).transcripts.filter(\.final)
            #expect(finals.count >= 2, "\(client.messages)")
            #expect(Set(finals.map(\.sentenceID)).count == finals.count)
            let sessions = try await rig.fake.reports("sessions")
            #expect(sessions.count >= 2, "\(sessions)")
            #expect(sessions.last?["state"] as? String == "closed", "\(sessions)")
        }
    }

    @Test func aKeyRefusedAtTheUpgradeFailsOverAndATranslationIsRefused() async throws {
        let rig = try await Self.rig(keys: [Self.goodKey, Self.secondKey])
        defer { rig.fake.stop() }
        try await rig.fake.control("revoke", #"{"key":"\#(Self.goodKey)"}"#)
        let (frames, _) = try DashScopeProviderTests.speechFrames("The first key is refused.")
        let (key, _) = try await rig.fixture.createLicense()
        try await rig.fixture.withLiveServer(provider: rig.provider, keyVault: rig.vault) { central in
            let (code, _) = try await central.openStreamExpectingError(key: key, source: "en", target: "zh")
            #expect(code == .unsupportedLanguagePair)
            let (client, _) = try await central.openStream(key: key, device: "device-2", source: "en", target: nil)
            await client.stream(frames, interval: .milliseconds(2))
            client.send(.stop(StopMessage()))
            let stopped = try #require(await client.stopped(timeout: .seconds(20)))
            #expect(stopped.reason == .clientStop && stopped.billedMs == Int64(frames.count * 20))
            let sessions = try await rig.fake.reports("sessions")
            #expect(sessions.map { $0["key_hint"] as? String } == [String(Self.secondKey.suffix(4))])
            let refused = try #require(try await rig.vault.list().first { $0.masked.hasSuffix(String(Self.goodKey.suffix(4))) })
            #expect(refused.usage.authFailures == 1)
        }
    }
}
