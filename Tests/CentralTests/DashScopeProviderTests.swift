import AsyncHTTPClient
@testable import Central
import EdgeAgent
import Foundation
import GRDB
import Logging
import NIOCore
import Protocol
import Testing

/// Central relaying to DashScope, proved against the `fake-dashscope` process: real espeak-ng
/// speech, real libopus packets in a libogg stream, the real WebSocket protocol.
@Suite(.bounded, .serialized) struct DashScopeProviderTests {
    static let goodKey = "sk-good-0123456789abcdef"
    static let secondKey = "sk-second-fedcba9876543210"
    static let masterKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

    /// Speech as edge-style frames: the edge's own encoder, 20 ms packets, TOC durations.
    static func speechFrames(_ text: String, trailingSilenceMs: Int = 600) throws -> (frames: [AudioFrame], preSkip: Int) {
        var pcm = try SpeechTestAudio.pcm(text)
        pcm += [Int16](repeating: 0, count: 16 * trailingSilenceMs)
        let encoder = try OpusFrameEncoder()
        let count = pcm.count / 320
        var frames: [AudioFrame] = []
        for index in 0..<count {
            let start = index * 320
            let packet = try encoder.encode(pcm[start..<(start + 320)])
            let capture = UInt64(index) * 20_000
            frames.append(try AudioFrame(sequence: UInt32(index), captureTimeMicroseconds: capture, packet: packet))
        }
        return (frames, encoder.lookaheadAt48kHz)
    }

    struct Rig {
        let fixture: CentralFixture
        let fake: FakeProviderProcess
        let vault: ProviderKeyVault
        let provider: DashScopeSpeechProvider
        let logs: LogRecorder
    }

    static func rig(
        keys: [String] = [goodKey], fakeKeys: [String]? = nil, model: DashScopeModel = .gummyRealtime,
        fakeArguments: [String] = [], adjust: (inout DashScopeSettings) -> Void = { _ in }
    ) async throws -> Rig {
        let fixture = try CentralFixture(realTime: true)
        let fake = try FakeProviderProcess(keys: fakeKeys ?? (keys.isEmpty ? ["sk-fake-only-key"] : keys), extraArguments: fakeArguments)
        let logs = LogRecorder()
        let logger = logs.logger(label: "central")
        let vault = ProviderKeyVault(store: fixture.store, cipher: try ProviderKeyCipher(masterKey: masterKey), clock: SystemWallClock(), logger: logger)
        try await vault.importKeys(keys, provider: DashScopeSpeechProvider.name, source: .environment)
        var settings = DashScopeSettings()
        settings.url = fake.url
        settings.model = model
        settings.finishTimeout = .seconds(5)
        adjust(&settings)
        return Rig(fixture: fixture, fake: fake, vault: vault, provider: DashScopeSpeechProvider(settings: settings, keys: vault, logger: logger), logs: logs)
    }

    static func texts(_ client: StreamTestClient) -> (transcripts: [ResultMessage], translations: [ResultMessage]) {
        var transcripts: [ResultMessage] = []
        var translations: [ResultMessage] = []
        for message in client.messages {
            if case .transcript(let result) = message { transcripts.append(result) }
            if case .translation(let result) = message { translations.append(result) }
        }
        return (transcripts, translations)
    }

    static func providerUsage(_ store: SQLiteCentralStore, session: String) async throws -> (Int64?, Int?) {
        try await store.pool.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT provider_audio_ms, provider_reported_seconds FROM stream_sessions WHERE id = ?", arguments: [session])
            return (row?["provider_audio_ms"], row?["provider_reported_seconds"])
        }
    }

    // MARK: Ogg Opus

    @Test func oggOutputPassesOpusinfoWithTheExactDurationSent() throws {
        let (frames, preSkip) = try Self.speechFrames("One two three four five.")
        let writer = OggOpusWriter(preSkip: preSkip, inputSampleRate: 16_000)
        var bytes = writer.headers()
        for frame in frames { bytes += writer.append(frame.packet) }
        bytes += writer.finish()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ogg-\(UUID().uuidString).opus").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }

        let info = try CommandRunner.output("/usr/bin/opusinfo", [path])
        #expect(!info.contains("WARNING") && !info.contains("ERROR"), "\(info)")
        // Playback = the audio sent less the encoder's lookahead (the pre-skip a player discards).
        let expectedMs = (frames.count * 960 - preSkip) / 48
        let expected = String(format: "Playback length: %dm:%02d.%03ds", expectedMs / 60_000, (expectedMs / 1000) % 60, expectedMs % 1000)
        #expect(info.contains(expected), "\(info)")
        #expect(info.contains("Pre-skip: \(preSkip)"))
        #expect(info.contains("Original sample rate: 16000 Hz"))
        #expect(info.contains("Channels: 1"))

        // An independent decoder returns exactly the samples sent, less the pre-skip.
        let wav = path + ".wav"
        defer { try? FileManager.default.removeItem(atPath: wav) }
        _ = try CommandRunner.output("/usr/bin/opusdec", ["--quiet", "--rate", "16000", path, wav])
        let samples = try CommandRunner.output("/usr/bin/soxi", ["-s", wav]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Int(samples) == frames.count * 320 - preSkip / 3)
    }

    @Test func eachWriterIsAFreshLogicalStream() {
        let first = OggOpusWriter(preSkip: 312, inputSampleRate: 16_000)
        let second = OggOpusWriter(preSkip: 312, inputSampleRate: 16_000)
        #expect(first.serial != second.serial)
        let headers = first.headers()
        // Page 0 is BOS with OpusHead only; page 1 holds OpusTags.
        #expect(Array(headers[0..<4]) == Array("OggS".utf8))
        #expect(headers[5] == 0x02)
        #expect(Array(headers[28..<36]) == Array("OpusHead".utf8))
    }

    // MARK: Live relay

    @Test func gummyRelaysSpeechAndReturnsTranscriptAndTranslation() async throws {
        let rig = try await Self.rig()
        defer { rig.fake.stop() }
        let (frames, preSkip) = try Self.speechFrames("Hello. This is a live translation test. It has three sentences.")
        let (key, _) = try await rig.fixture.createLicense()
        try await rig.fixture.withLiveServer(logger: rig.logs.logger(label: "central"), provider: rig.provider, keyVault: rig.vault) { central in
            let (client, started) = try await central.openStream(key: key, source: "en", target: "zh")
            #expect(started.provider == ProviderInfo(name: "dashscope", model: "gummy-realtime-v1", demo: false))
            await client.stream(frames, interval: .milliseconds(2))
            client.send(.stop(StopMessage()))
            let stopped = try #require(await client.stopped(timeout: .seconds(20)))
            #expect(stopped.reason == .clientStop)
            #expect(stopped.billedMs == Int64(frames.count * 20))

            let (transcripts, translations) = Self.texts(client)
            let finalTranscripts = transcripts.filter(\.final)
            #expect(!finalTranscripts.isEmpty, "\(client.messages)")
            #expect(finalTranscripts.allSatisfy { $0.text.hasPrefix("[fake] segment") && $0.language == "en" })
            #expect(translations.contains { $0.final && $0.language == "zh" && $0.text.contains("[fake en→zh]") })
            #expect(transcripts.allSatisfy { $0.endMs <= frames.count * 20 })

            // The fake decoded exactly what was sent, from valid pages, with the edge's pre-skip.
            let tasks = try await rig.fake.tasks()
            let task = try #require(tasks.first)
            #expect(tasks.count == 1)
            #expect(task["state"] as? String == "finished")
            #expect((task["errors"] as? [String]) == [], "\(task)")
            #expect(task["format"] as? String == "opus")
            #expect(task["pre_skip"] as? Int == preSkip)
            #expect(task["end_of_stream"] as? Bool == true)
            #expect(task["decoded_samples_48k"] as? Int == frames.count * 960)
            #expect(task["target_languages"] as? [String] == ["zh"])

            let (providerMs, reported) = try await Self.providerUsage(rig.fixture.store, session: started.sessionID)
            #expect(providerMs == Int64(frames.count * 20))
            #expect(reported == (frames.count * 20 + 999) / 1000)
            #expect(try await rig.fixture.store.activeLeases(licenseID: nil, now: Date()).isEmpty)
        }
    }

    @Test func paraformerTranscribesOnly() async throws {
        let rig = try await Self.rig(model: .paraformerRealtime)
        defer { rig.fake.stop() }
        let (frames, _) = try Self.speechFrames("Recognition only. No translation here.")
        let (key, _) = try await rig.fixture.createLicense()
        try await rig.fixture.withLiveServer(provider: rig.provider, keyVault: rig.vault) { central in
            // A translation target is refused before any provider task opens.
            let (refused, _) = try await central.openStreamExpectingError(key: key, target: "zh")
            #expect(refused == .unsupportedLanguagePair)
            let (client, _) = try await central.openStream(key: key, device: "device-1", source: "en", target: nil)
            await client.stream(frames, interval: .milliseconds(2))
            client.send(.stop(StopMessage()))
            #expect(await client.stopped(timeout: .seconds(20))?.reason == .clientStop)
            let (transcripts, translations) = Self.texts(client)
            #expect(transcripts.contains { $0.final })
            #expect(translations.isEmpty)
        }
    }

    /// A key revoked (auth failure) or throttled (rate limit) mid-task: the next key takes over.
    @Test(arguments: ["revoke", "throttle"])
    func failingKeyFailsOverMidSessionWithoutTheEdgeNoticing(action: String) async throws {
        let rig = try await Self.rig(keys: [Self.goodKey, Self.secondKey])
        defer { rig.fake.stop() }
        let (frames, _) = try Self.speechFrames("First sentence before the key is revoked. Second sentence after it. Third one to finish.")
        let (key, _) = try await rig.fixture.createLicense()
        try await rig.fixture.withLiveServer(logger: rig.logs.logger(label: "central"), provider: rig.provider, keyVault: rig.vault) { central in
            let (client, _) = try await central.openStream(key: key, source: "en", target: "zh")
            let half = frames.count / 2
            await client.stream(Array(frames[..<half]), interval: .milliseconds(5))
            // The vault hands out the first key first: revoke or throttle it while the task runs.
            try await rig.fake.control(action, #"{"key":"\#(Self.goodKey)"}"#)
            await client.stream(Array(frames[half...]), interval: .milliseconds(5))
            client.send(.stop(StopMessage()))
            let stopped = try #require(await client.stopped(timeout: .seconds(20)))
            #expect(stopped.reason == .clientStop)
            #expect(stopped.billedMs == Int64(frames.count * 20))
            #expect(!client.messages.contains { if case .error = $0 { true } else { false } })
            let finals = Self.texts(client).transcripts.filter(\.final)
            #expect(finals.count >= 2, "\(client.messages)")
            // Sentence ids stay unique across the failover.
            #expect(Set(finals.map(\.sentenceID)).count == finals.count)

            let tasks = try await rig.fake.tasks()
            #expect(tasks.first?["state"] as? String == "failed")
            #expect(tasks.last?["state"] as? String == "finished")
            #expect(tasks.last?["key_hint"] as? String == String(Self.secondKey.suffix(4)))
            let keys = try await rig.vault.list()
            let failed = try #require(keys.first { $0.masked.hasSuffix(String(Self.goodKey.suffix(4))) })
            #expect((action == "revoke" ? failed.usage.authFailures : failed.usage.rateLimited) == 1)
            #expect(failed.coolingUntil != nil)
            #expect(try await rig.fixture.store.activeLeases(licenseID: nil, now: Date()).isEmpty)
        }
    }

    /// Each injected failure ends the session with its code; billing and the lease are settled.
    @Test(arguments: [
        (#"{"failure":"auth","after_ms":400}"#, ErrorCode.providerAuthFailed),
        (#"{"failure":"rate-limit","after_ms":400}"#, ErrorCode.providerRateLimited),
        (#"{"failure":"task-failed","after_ms":400,"error_code":"InternalError","count":10}"#, ErrorCode.providerUnavailable),
        (#"{"failure":"disconnect","after_ms":400,"count":10}"#, ErrorCode.providerUnavailable),
        (#"{"failure":"task-failed","after_ms":400,"error_code":"InvalidParameter","error_message":"bad audio"}"#, ErrorCode.providerFailed),
    ])
    func injectedFailuresEndWithTheirCode(injection: String, code: ErrorCode) async throws {
        let rig = try await Self.rig { $0.retries = 2 }
        defer { rig.fake.stop() }
        let (frames, _) = try Self.speechFrames("A short test sentence for failures.")
        let (key, licenseID) = try await rig.fixture.createLicense()
        try await rig.fake.control("inject", injection)
        try await rig.fixture.withLiveServer(provider: rig.provider, keyVault: rig.vault) { central in
            let (client, _) = try await central.openStream(key: key, source: "en", target: "zh")
            let sent = Task { await client.stream(frames, interval: .milliseconds(20)) }
            let stopped = try #require(await client.stopped(timeout: .seconds(30)), "\(client.messages)")
            sent.cancel()
            #expect(stopped.reason == code, "\(stopped)")
            // Billing: exactly what central accepted, recorded in the ledger; the lease is gone.
            let ledger = try await rig.fixture.store.ledger(licenseID: licenseID)
            #expect(ledger.reduce(0) { $0 + $1.amountMs } == stopped.billedMs)
            #expect(stopped.billedMs > 0)
            #expect(try await rig.fixture.store.activeLeases(licenseID: nil, now: Date()).isEmpty)
        }
    }

    @Test func longSessionsRotateTasksAndIdleGapsCostNoProviderTime() async throws {
        let rig = try await Self.rig {
            $0.rotateAfterMs = 1_500
            $0.idleFinishAfter = .seconds(1)
        }
        defer { rig.fake.stop() }
        let (frames, _) = try Self.speechFrames("One sentence here. Another sentence there. And a third sentence to rotate on.")
        let (key, _) = try await rig.fixture.createLicense()
        try await rig.fixture.withLiveServer(provider: rig.provider, keyVault: rig.vault) { central in
            let (client, _) = try await central.openStream(key: key, source: "en", target: "zh")
            let half = frames.count / 2
            await client.stream(Array(frames[..<half]), interval: .milliseconds(5))
            // The edge goes quiet (a reconnect, say): the task is finished, not kept alive on silence.
            try await Task.sleep(for: .seconds(2.5))
            await client.stream(Array(frames[half...]), interval: .milliseconds(5))
            client.send(.stop(StopMessage()))
            let stopped = try #require(await client.stopped(timeout: .seconds(20)))
            #expect(stopped.reason == .clientStop)
            let tasks = try await rig.fake.tasks()
            #expect(tasks.count >= 2, "\(tasks)")
            #expect(tasks.allSatisfy { $0["state"] as? String == "finished" && ($0["errors"] as? [String]) == [] }, "\(tasks)")
            // No empty tasks: an idle finish waits for audio before opening the next one.
            #expect(tasks.allSatisfy { ($0["audio_packets"] as? Int ?? 0) > 0 }, "\(tasks)")
            #expect(tasks.count <= 6)
            // Every frame reached the provider exactly once across the tasks.
            let decoded = tasks.reduce(0) { $0 + (($1["decoded_samples_48k"] as? Int) ?? 0) }
            #expect(decoded == frames.count * 960)
            let finals = Self.texts(client).transcripts.filter(\.final)
            #expect(Set(finals.map(\.sentenceID)).count == finals.count)
            #expect(finals.map(\.startMs) == finals.map(\.startMs).sorted())
        }
    }

    /// A provider that accepts TCP and then says nothing must not hold up the bill or the lease.
    @Test func aStalledProviderCannotHoldUpTheFinalBill() async throws {
        let (listener, port) = CentralProcess.boundSocket()
        defer { close(listener) }
        listen(listener, 16)  // the kernel completes handshakes; nobody ever answers
        let rig = try await Self.rig {
            $0.url = "ws://127.0.0.1:\(port)/api-ws/v1/inference"
            $0.startTimeout = .seconds(1)
            $0.finishTimeout = .seconds(1)
        }
        defer { rig.fake.stop() }
        let (frames, _) = try Self.speechFrames("Nobody answers.")
        let (key, licenseID) = try await rig.fixture.createLicense()
        try await rig.fixture.withLiveServer(provider: rig.provider, keyVault: rig.vault) { central in
            let (client, _) = try await central.openStream(key: key, source: "en", target: "zh")
            await client.stream(frames, interval: .milliseconds(2))
            let clock = ContinuousClock()
            let asked = clock.now
            client.send(.stop(StopMessage()))
            let stopped = try #require(await client.stopped(timeout: .seconds(20)))
            #expect(clock.now - asked < .seconds(15))
            #expect(stopped.billedMs == Int64(frames.count * 20))
            let ledger = try await rig.fixture.store.ledger(licenseID: licenseID)
            #expect(ledger.reduce(0) { $0 + $1.amountMs } == stopped.billedMs)
            #expect(try await rig.fixture.store.activeLeases(licenseID: nil, now: Date()).isEmpty)
        }
    }

    @Test func slowResultsStillArrive() async throws {
        let rig = try await Self.rig(fakeArguments: ["--result-delay-ms", "150"])
        defer { rig.fake.stop() }
        let (frames, _) = try Self.speechFrames("Slow but steady.")
        let (key, _) = try await rig.fixture.createLicense()
        try await rig.fixture.withLiveServer(provider: rig.provider, keyVault: rig.vault) { central in
            let (client, _) = try await central.openStream(key: key, source: "en", target: "zh")
            await client.stream(frames, interval: .milliseconds(2))
            client.send(.stop(StopMessage()))
            #expect(await client.stopped(timeout: .seconds(30))?.reason == .clientStop)
            #expect(Self.texts(client).transcripts.contains { $0.final })
        }
    }

    @Test func noUsableKeyRefusesTheStartWithProviderUnavailable() async throws {
        let rig = try await Self.rig(keys: [])
        defer { rig.fake.stop() }
        let (key, _) = try await rig.fixture.createLicense()
        try await rig.fixture.withLiveServer(provider: rig.provider, keyVault: rig.vault) { central in
            let (code, _) = try await central.openStreamExpectingError(key: key, target: "zh")
            #expect(code == .providerUnavailable)
            #expect(try await rig.fixture.store.activeLeases(licenseID: nil, now: Date()).isEmpty)
        }
    }

    @Test func keysNeverReachTheEdgeALogLineOrAnAdminResponse() async throws {
        let rig = try await Self.rig(keys: [Self.goodKey, Self.secondKey])
        defer { rig.fake.stop() }
        let (frames, _) = try Self.speechFrames("Secrets stay at central.")
        let (key, _) = try await rig.fixture.createLicense()
        try await rig.fake.control("inject", #"{"failure":"auth","after_ms":300}"#)
        try await rig.fixture.withLiveServer(logger: rig.logs.logger(label: "central"), provider: rig.provider, keyVault: rig.vault) { central in
            var seen: [String] = []
            let added = try await central.admin(.post, "/v1/admin/provider-keys", body: #"{"provider":"dashscope","key":"sk-added-key-999999","label":"spare"}"#)
            #expect(added.status == .created)
            seen.append(added.text)
            let listed = try await central.admin(.get, "/v1/admin/provider-keys")
            seen.append(listed.text)
            seen.append(try await central.edge(.get, "/v1/providers", key: key).text)
            let (client, _) = try await central.openStream(key: key, source: "en", target: "zh")
            await client.stream(frames, interval: .milliseconds(2))
            client.send(.stop(StopMessage()))
            _ = await client.stopped(timeout: .seconds(20))
            seen += client.messages.map { $0.encodedText() }
            seen += rig.logs.all
            for secret in [Self.goodKey, Self.secondKey, "sk-added-key-999999"] {
                #expect(!seen.contains { $0.contains(secret) }, "a provider key leaked")
            }
            #expect(listed.text.contains("…cdef"))
        }
        // At rest, only ciphertext.
        let raw = try Data(contentsOf: URL(fileURLWithPath: rig.fixture.databasePath))
        #expect(raw.range(of: Data(Self.goodKey.utf8)) == nil)
    }

    @Test func adminManagesKeys() async throws {
        let rig = try await Self.rig(keys: [])
        defer { rig.fake.stop() }
        try await rig.fixture.withLiveServer(provider: rig.provider, keyVault: rig.vault) { central in
            let added = try await central.admin(.post, "/v1/admin/provider-keys", body: #"{"provider":"dashscope","key":"sk-admin-added-1234","label":"main"}"#)
            #expect(added.status == .created)
            let id = try #require(try added.json()["id"] as? String)
            #expect(try added.json()["masked"] as? String == "…1234")
            let duplicate = try await central.admin(.post, "/v1/admin/provider-keys", body: #"{"provider":"dashscope","key":"sk-admin-added-1234"}"#)
            #expect(duplicate.status == .conflict && duplicate.error?.code == .duplicateKey)
            let unknown = try await central.admin(.post, "/v1/admin/provider-keys", body: #"{"provider":"nope","key":"sk-admin-added-1234"}"#)
            #expect(unknown.status == .badRequest && unknown.error?.field == "provider")
            #expect(try await central.admin(.post, "/v1/admin/provider-keys/\(id)/disable").status == .ok)
            #expect(await rig.vault.checkout(provider: "dashscope") == nil)
            #expect(try await central.admin(.post, "/v1/admin/provider-keys/\(id)/enable").status == .ok)
            #expect(await rig.vault.checkout(provider: "dashscope")?.id == id)
            #expect(try await central.admin(.delete, "/v1/admin/provider-keys/\(id)").status == .noContent)
            #expect(try await central.admin(.delete, "/v1/admin/provider-keys/\(id)").status == .notFound)
            let audit = try await central.admin(.get, "/v1/admin/audit")
            #expect(audit.text.contains("provider_key_added") && audit.text.contains("provider_key_deleted"))
        }
    }

    @Test func withoutAMasterKeyKeysCannotBeStored() async throws {
        let fixture = try CentralFixture()
        try await fixture.withLiveServer { central in
            let reply = try await central.admin(.post, "/v1/admin/provider-keys", body: #"{"provider":"dashscope","key":"sk-no-master-key-1"}"#)
            #expect(reply.status == .conflict && reply.error?.code == .masterKeyMissing)
        }
        var configuration = CentralConfiguration()
        configuration.dashScopeKeys = ["sk-env-key-12345678"]
        await #expect(throws: ProviderSetup.SetupError.self) {
            _ = try await ProviderSetup.make(configuration: configuration, store: fixture.store, clock: SystemWallClock(), logger: Logger(label: "t"))
        }
    }

    @Test func setupChoosesDashScopeWhenKeysAreConfiguredAndReimportsNothingTwice() async throws {
        let fixture = try CentralFixture()
        var configuration = CentralConfiguration()
        configuration.dashScopeKeys = ["sk-env-key-12345678"]
        configuration.providerMasterKey = Self.masterKey
        let first = try await ProviderSetup.make(configuration: configuration, store: fixture.store, clock: SystemWallClock(), logger: Logger(label: "t"))
        #expect(first.provider.info.name == "dashscope")
        _ = try await ProviderSetup.make(configuration: configuration, store: fixture.store, clock: SystemWallClock(), logger: Logger(label: "t"))
        #expect(try await fixture.store.providerKeys().count == 1)
        // A different master key cannot open them: refuse to start rather than run keyless.
        configuration.providerMasterKey = String(repeating: "ab", count: 32)
        await #expect(throws: (any Error).self) {
            _ = try await ProviderSetup.make(configuration: configuration, store: fixture.store, clock: SystemWallClock(), logger: Logger(label: "t"))
        }
    }

    @Test func languagePairsAreExposedToTheEdge() async throws {
        let rig = try await Self.rig()
        defer { rig.fake.stop() }
        let (key, _) = try await rig.fixture.createLicense()
        try await rig.fixture.withLiveServer(provider: rig.provider, keyVault: rig.vault) { central in
            let reply = try await central.edge(.get, "/v1/providers", key: key)
            #expect(reply.status == .ok)
            let catalog = try reply.decode(LanguageCatalog.self)
            #expect(catalog.provider.name == "dashscope")
            #expect(catalog.supports(source: "zh", target: "en"))
            #expect(catalog.supports(source: "de", target: "zh"))
            #expect(!catalog.supports(source: "de", target: "ja"))
            #expect(try await central.edge(.get, "/v1/providers", key: "TRIAL-NOPE").status == .unauthorized)
        }
    }
}
