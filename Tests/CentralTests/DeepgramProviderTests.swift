import AsyncHTTPClient
@testable import Central
import Foundation
import Logging
import Protocol
import Testing

/// Central relaying to Deepgram's live transcription, proved against the `fake-deepgram`
/// process: real espeak-ng speech, the edge's libopus packets in a fresh Ogg stream per
/// connection, the real `/v1/listen` protocol.
@Suite(.bounded, .serialized) struct DeepgramProviderTests {
    static let goodKey = "dg-good-0123456789abcdef"
    static let secondKey = "dg-second-fedcba9876543210"

    typealias Rig = FakeProviderRig<DeepgramSpeechProvider>

    static func rig(
        keys: [String] = [goodKey], fakeArguments: [String] = [], adjust: (inout DeepgramSettings) -> Void = { _ in }
    ) async throws -> Rig {
        try await Rig.start(
            "fake-deepgram", providerName: DeepgramSpeechProvider.name, keys: keys, fakeKeys: [goodKey, secondKey],
            fakeArguments: fakeArguments
        ) { url, vault, logger in
            var settings = DeepgramSettings()
            settings.url = url
            settings.finishTimeout = .seconds(5)
            adjust(&settings)
            return DeepgramSpeechProvider(settings: settings, keys: vault, logger: logger)
        }
    }

    @Test func transcribesSpeechBillsWhatWasSentAndRecordsDeepgramsDuration() async throws {
        let rig = try await Self.rig()
        defer { rig.fake.stop() }
        let (frames, preSkip) = try DashScopeProviderTests.speechFrames("Hello there. This is a Deepgram relay test. It has three sentences.")
        let (key, _) = try await rig.fixture.createLicense()
        try await rig.fixture.withLiveServer(logger: rig.logs.logger(label: "central"), provider: rig.provider, keyVault: rig.vault) { central in
            let (client, started) = try await central.openStream(key: key, source: "en", target: nil)
            #expect(started.provider == ProviderInfo(name: "deepgram", model: "nova-3", demo: false))
            await client.stream(frames, interval: .milliseconds(2))
            client.send(.stop(StopMessage()))
            let stopped = try #require(await client.stopped(timeout: .seconds(20)))
            #expect(stopped.reason == .clientStop)
            #expect(stopped.billedMs == Int64(frames.count * 20))

            let transcripts = DashScopeProviderTests.texts(client).transcripts
            let finals = transcripts.filter(\.final)
            #expect(finals.count >= 2, "\(client.messages)")
            #expect(transcripts.contains { !$0.final }, "no interim transcript")
            #expect(finals.allSatisfy { $0.text.hasPrefix("[fake] segment") && $0.language == "en" })
            #expect(Set(finals.map(\.sentenceID)).count == finals.count)

            // The fake decoded exactly what was sent, from a valid Ogg stream with the edge's
            // pre-skip, and got the session id as Deepgram's tag, and no encoding.
            let connections = try await rig.fake.reports("connections")
            let connection = try #require(connections.first)
            #expect(connections.count == 1)
            #expect(connection["state"] as? String == "closed", "\(connection)")
            #expect((connection["errors"] as? [String]) == [], "\(connection)")
            #expect(connection["encoding"] == nil || connection["encoding"] is NSNull)
            #expect(connection["tag"] as? String == started.sessionID)
            #expect(connection["model"] as? String == "nova-3")
            #expect(connection["interim_results"] as? Bool == true)
            #expect(connection["pre_skip"] as? Int == preSkip)
            #expect(connection["end_of_stream"] as? Bool == true)
            #expect(connection["close_stream"] as? Bool == true)
            // Each UtteranceEnd was answered with Finalize.
            #expect((connection["finalizes"] as? Int ?? 0) >= 1, "\(connection)")
            #expect(connection["decoded_samples_48k"] as? Int == frames.count * 960)

            let (providerMs, reported) = try await DashScopeProviderTests.providerUsage(rig.fixture.store, session: started.sessionID)
            #expect(providerMs == Int64(frames.count * 20))
            #expect(reported == Int((Double(frames.count * 20) / 1000).rounded()))
            #expect(try await rig.fixture.store.activeLeases(licenseID: nil, now: Date()).isEmpty)
        }
    }

    /// The connection drops mid-session and its key has been revoked meanwhile: the session goes
    /// on with the next key, the unconfirmed audio replayed, every frame billed once.
    @Test func aDroppedConnectionGoesOnWithTheNextKeyWithoutTheEdgeNoticing() async throws {
        let rig = try await Self.rig(keys: [Self.goodKey, Self.secondKey])
        defer { rig.fake.stop() }
        let (frames, _) = try DashScopeProviderTests.speechFrames("First sentence before the drop. Second sentence after it. Third one to finish.")
        let (key, _) = try await rig.fixture.createLicense()
        try await rig.fake.control("inject", #"{"failure":"disconnect","after_ms":1500}"#)
        try await rig.fixture.withLiveServer(logger: rig.logs.logger(label: "central"), provider: rig.provider, keyVault: rig.vault) { central in
            let (client, _) = try await central.openStream(key: key, source: "en", target: nil)
            try await rig.fake.control("revoke", #"{"key":"\#(Self.goodKey)"}"#)
            await client.stream(frames, interval: .milliseconds(5))
            client.send(.stop(StopMessage()))
            let stopped = try #require(await client.stopped(timeout: .seconds(20)))
            #expect(stopped.reason == .clientStop)
            #expect(stopped.billedMs == Int64(frames.count * 20))
            #expect(!client.messages.contains { if case .error = $0 { true } else { false } })
            let finals = DashScopeProviderTests.texts(client).transcripts.filter(\.final)
            #expect(finals.count >= 2, "\(client.messages)")
            #expect(Set(finals.map(\.sentenceID)).count == finals.count)

            let connections = try await rig.fake.reports("connections")
            #expect(connections.first?["state"] as? String == "disconnected", "\(connections)")
            #expect(connections.last?["state"] as? String == "closed", "\(connections)")
            #expect(connections.first?["key_hint"] as? String == String(Self.goodKey.suffix(4)))
            #expect(connections.last?["key_hint"] as? String == String(Self.secondKey.suffix(4)))
            // Every frame reached Deepgram; the replay may repeat what the dropped one had not confirmed.
            let decoded = connections.reduce(0) { $0 + (($1["decoded_samples_48k"] as? Int) ?? 0) }
            #expect(decoded >= frames.count * 960)
            #expect(try await rig.fixture.store.activeLeases(licenseID: nil, now: Date()).isEmpty)
        }
    }

    @Test(arguments: [
        (#"{"failure":"error","after_ms":400,"count":10}"#, ErrorCode.providerUnavailable),
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

    /// A 4xx at the upgrade (here a model Deepgram does not have) is final: one attempt, no
    /// retries, the session ends with provider_failed.
    @Test func aRefusedUpgradeIsFinal() async throws {
        let rig = try await Self.rig { $0.model = "nova-unknown" }
        defer { rig.fake.stop() }
        let (frames, _) = try DashScopeProviderTests.speechFrames("Refused.")
        let (key, _) = try await rig.fixture.createLicense()
        try await rig.fixture.withLiveServer(logger: rig.logs.logger(label: "central"), provider: rig.provider, keyVault: rig.vault) { central in
            let (client, _) = try await central.openStream(key: key, source: "en", target: nil)
            await client.stream(frames, interval: .milliseconds(2))
            let stopped = try #require(await client.stopped(timeout: .seconds(20)), "\(client.messages)")
            #expect(stopped.reason == .providerFailed, "\(stopped)")
            #expect(try await rig.fake.reports("connections").isEmpty)
            #expect(rig.logs.all.contains { $0.contains("Deepgram refused the request (HTTP 400)") })
            #expect(try await rig.fixture.store.activeLeases(licenseID: nil, now: Date()).isEmpty)
        }
    }

    /// A short gap is held with KeepAlive; a longer one closes the connection (no paying for
    /// silence) and the next audio opens a fresh one with new Ogg headers.
    @Test func gapsAreHeldBrieflyThenTheConnectionClosesAndReopens() async throws {
        let rig = try await Self.rig {
            $0.keepAliveAfter = .milliseconds(500)
            $0.idleFinishAfter = .seconds(2)
        }
        defer { rig.fake.stop() }
        let (frames, _) = try DashScopeProviderTests.speechFrames("One sentence here. Another sentence after the pause.")
        let (key, _) = try await rig.fixture.createLicense()
        try await rig.fixture.withLiveServer(provider: rig.provider, keyVault: rig.vault) { central in
            let (client, _) = try await central.openStream(key: key, source: "en", target: nil)
            let half = frames.count / 2
            await client.stream(Array(frames[..<half]), interval: .milliseconds(5))
            try await Task.sleep(for: .seconds(3.5))
            await client.stream(Array(frames[half...]), interval: .milliseconds(5))
            client.send(.stop(StopMessage()))
            let stopped = try #require(await client.stopped(timeout: .seconds(20)))
            #expect(stopped.reason == .clientStop)
            #expect(stopped.billedMs == Int64(frames.count * 20))
            let connections = try await rig.fake.reports("connections")
            #expect(connections.count == 2, "\(connections)")
            #expect(connections.allSatisfy { $0["state"] as? String == "closed" && ($0["errors"] as? [String]) == [] }, "\(connections)")
            #expect((connections.first?["keep_alives"] as? Int ?? 0) >= 1, "\(connections)")
            let decoded = connections.reduce(0) { $0 + (($1["decoded_samples_48k"] as? Int) ?? 0) }
            #expect(decoded == frames.count * 960)
        }
    }

    /// Two plans, two providers, at the same time: each license streams to its plan's provider.
    @Test func aDashScopePlanAndADeepgramPlanStreamSideBySide() async throws {
        let rig = try await Self.rig()
        defer { rig.fake.stop() }
        let dashScope = try FakeProviderProcess(keys: [DashScopeProviderTests.goodKey])
        defer { dashScope.stop() }
        try await rig.vault.importKeys([DashScopeProviderTests.goodKey], provider: DashScopeSpeechProvider.name, source: .environment)
        var dashScopeSettings = DashScopeSettings()
        dashScopeSettings.url = dashScope.url
        let logger = rig.logs.logger(label: "central")
        let registry = try ProviderRegistry(
            DashScopeSpeechProvider(settings: dashScopeSettings, keys: rig.vault, logger: logger), [rig.provider])
        let (frames, _) = try DashScopeProviderTests.speechFrames("Two providers at once. Each plan has its own.")
        let (gummyKey, _) = try await rig.fixture.createLicense { $0.provider = "dashscope" }
        let (deepgramKey, _) = try await rig.fixture.createLicense { $0.provider = "deepgram" }
        try await rig.fixture.withLiveServer(logger: logger, providers: registry, keyVault: rig.vault) { central in
            let (a, startedA) = try await central.openStream(key: gummyKey, device: "device-a", source: "en", target: "zh")
            let (b, startedB) = try await central.openStream(key: deepgramKey, device: "device-b", source: "en", target: nil)
            #expect(startedA.provider.name == "dashscope" && startedB.provider.name == "deepgram")
            async let sentA: Void = a.stream(frames, interval: .milliseconds(5))
            async let sentB: Void = b.stream(frames, interval: .milliseconds(5))
            _ = await (sentA, sentB)
            a.send(.stop(StopMessage()))
            b.send(.stop(StopMessage()))
            #expect(await a.stopped(timeout: .seconds(20))?.billedMs == Int64(frames.count * 20))
            #expect(await b.stopped(timeout: .seconds(20))?.billedMs == Int64(frames.count * 20))
            #expect(DashScopeProviderTests.texts(a).translations.contains { $0.final && $0.language == "zh" })
            #expect(DashScopeProviderTests.texts(b).transcripts.contains { $0.final })
            #expect(try await dashScope.tasks().count == 1)
            #expect(try await rig.fake.reports("connections").count == 1)
            // A Deepgram license cannot ask for a translation Deepgram does not offer.
            let (code, _) = try await central.openStreamExpectingError(key: deepgramKey, device: "device-b", source: "en", target: "zh")
            #expect(code == .unsupportedLanguagePair)
        }
    }
}

extension DeepgramProviderTests {
    /// A key Deepgram refuses at the upgrade (401) cools down and the next key serves the start.
    @Test func aKeyRefusedAtTheUpgradeFailsOverToTheNextKey() async throws {
        let rig = try await Self.rig(keys: [Self.goodKey, Self.secondKey])
        defer { rig.fake.stop() }
        try await rig.fake.control("revoke", #"{"key":"\#(Self.goodKey)"}"#)
        let (frames, _) = try DashScopeProviderTests.speechFrames("The first key is refused.")
        let (key, _) = try await rig.fixture.createLicense()
        try await rig.fixture.withLiveServer(provider: rig.provider, keyVault: rig.vault) { central in
            let (client, _) = try await central.openStream(key: key, source: "en", target: nil)
            await client.stream(frames, interval: .milliseconds(2))
            client.send(.stop(StopMessage()))
            let stopped = try #require(await client.stopped(timeout: .seconds(20)))
            #expect(stopped.reason == .clientStop && stopped.billedMs == Int64(frames.count * 20))
            let connections = try await rig.fake.reports("connections")
            #expect(connections.map { $0["key_hint"] as? String } == [String(Self.secondKey.suffix(4))])
            let keys = try await rig.vault.list()
            let refused = try #require(keys.first { $0.masked.hasSuffix(String(Self.goodKey.suffix(4))) })
            #expect(refused.usage.authFailures == 1)
            #expect(refused.coolingUntil != nil)
        }
    }
}

extension DeepgramProviderTests {
    /// `DEEPGRAM_MAX_TASKS_PER_KEY=1` with one key: a second session's start is refused with
    /// provider_at_capacity (nothing billed, no connection opened) while the first streams, and
    /// the slot is free again once the first ends.
    @Test func aStartIsRefusedWhenEveryKeyIsAtCapacity() async throws {
        let rig = try await Self.rig()
        defer { rig.fake.stop() }
        await rig.vault.setCapacity(provider: DeepgramSpeechProvider.name, tasksPerKey: 1)
        let (frames, _) = try DashScopeProviderTests.speechFrames("Only one session fits.")
        let (first, _) = try await rig.fixture.createLicense()
        let (second, secondID) = try await rig.fixture.createLicense()
        try await rig.fixture.withLiveServer(provider: rig.provider, keyVault: rig.vault) { central in
            let (a, _) = try await central.openStream(key: first, device: "device-a", source: "en", target: nil)
            await a.stream(Array(frames.prefix(25)), interval: .milliseconds(2))
            #expect(await rig.vault.atCapacity(provider: "deepgram"))
            let (code, _) = try await central.openStreamExpectingError(key: second, device: "device-b", source: "en", target: nil)
            #expect(code == .providerAtCapacity)
            #expect(try await rig.fixture.store.ledger(licenseID: secondID).isEmpty)
            let keys = try await rig.vault.list()
            #expect(keys.first?.inUse == 1 && keys.first?.maxTasks == 1)
            a.send(.stop(StopMessage()))
            _ = try #require(await a.stopped(timeout: .seconds(20)))
            #expect(!(await rig.vault.atCapacity(provider: "deepgram")))
            #expect(try await rig.vault.list().first?.inUse == 0)
            let (b, _) = try await central.openStream(key: second, device: "device-b2", source: "en", target: nil)
            await b.stream(frames, interval: .milliseconds(2))
            b.send(.stop(StopMessage()))
            #expect(await b.stopped(timeout: .seconds(20))?.billedMs == Int64(frames.count * 20))
            #expect(try await rig.fake.reports("connections").count == 2)
        }
    }

    /// A session that ends before its first task gives its key back: capacity is not leaked.
    @Test func aSessionWithoutAudioGivesItsKeyBack() async throws {
        let rig = try await Self.rig()
        defer { rig.fake.stop() }
        await rig.vault.setCapacity(provider: DeepgramSpeechProvider.name, tasksPerKey: 1)
        let (key, _) = try await rig.fixture.createLicense()
        try await rig.fixture.withLiveServer(provider: rig.provider, keyVault: rig.vault) { central in
            for _ in 0..<3 {
                let (client, _) = try await central.openStream(key: key, source: "en", target: nil)
                client.send(.stop(StopMessage()))
                _ = try #require(await client.stopped(timeout: .seconds(10)))
                #expect(try await eventually(within: .seconds(5)) { try await rig.vault.list().first?.inUse == 0 })
            }
        }
    }
}
