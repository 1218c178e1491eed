import AsyncHTTPClient
@testable import Central
import Foundation
import GRDB
import Logging
import Protocol
import Testing

/// Translation for a recognition-only provider (here Deepgram, through `fake-deepgram`) by an
/// OpenAI-compatible chat upstream (`fake-llm`): each final sentence comes back as a
/// `translation` like Gummy's, a slow upstream marks its translations failed without ending
/// the session, and the tokens are recorded per session.
@Suite(.bounded, .serialized) struct LLMTranslationTests {
    static let llmKey = "sk-llm-good-0123456789"
    static let secondLLMKey = "sk-llm-second-9876543210"

    struct Rig {
        let deepgram: DeepgramProviderTests.Rig
        let llm: FakeProviderProcess
        let provider: TranslatingSpeechProvider
    }

    static func rig(llmKeys: [String] = [llmKey], timeout: Duration = .seconds(5)) async throws -> Rig {
        let deepgram = try await DeepgramProviderTests.rig()
        let llm = try FakeProviderProcess("fake-llm", keys: [llmKey, secondLLMKey])
        try await deepgram.vault.importKeys(llmKeys, provider: TranslationSettings.keyProvider, source: .environment)
        var settings = TranslationSettings()
        settings.baseURL = llm.url
        settings.timeout = timeout
        let translator = ChatCompletionsTranslator(settings: settings, keys: deepgram.vault, logger: deepgram.logs.logger(label: "central"))
        return Rig(deepgram: deepgram, llm: llm, provider: TranslatingSpeechProvider(deepgram.provider, translator: translator, targets: settings.targets))
    }

    static func translationTokens(_ store: SQLiteCentralStore, session: String) async throws -> Int? {
        try await store.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT translation_tokens FROM stream_sessions WHERE id = ?", arguments: [session])
        }
    }

    @Test func finalSentencesAreTranslatedAndTheirTokensRecorded() async throws {
        let rig = try await Self.rig()
        defer { rig.deepgram.fake.stop(); rig.llm.stop() }
        #expect(rig.provider.supports(source: "en", target: "zh"))
        #expect(rig.provider.catalog.languages.first { $0.source == "en" }?.targets.contains("zh") == true)
        let (frames, _) = try DashScopeProviderTests.speechFrames("Hello there. This sentence is translated. So is this one.")
        let (key, _) = try await rig.deepgram.fixture.createLicense()
        try await rig.deepgram.fixture.withLiveServer(provider: rig.provider, keyVault: rig.deepgram.vault) { central in
            let (client, started) = try await central.openStream(key: key, source: "en", target: "zh")
            await client.stream(frames, interval: .milliseconds(2))
            client.send(.stop(StopMessage()))
            let stopped = try #require(await client.stopped(timeout: .seconds(20)))
            #expect(stopped.reason == .clientStop && stopped.billedMs == Int64(frames.count * 20))
            let (transcripts, translations) = DashScopeProviderTests.texts(client)
            let finals = transcripts.filter { $0.final && !$0.text.isEmpty }
            #expect(finals.count >= 2, "\(client.messages)")
            // One translation per final sentence, same id and times, in the target language.
            #expect(translations.count == finals.count, "\(translations)")
            for sentence in finals {
                let translation = try #require(translations.first { $0.sentenceID == sentence.sentenceID })
                #expect(translation.text == "[fake-llm] " + sentence.text && translation.language == "zh" && translation.final)
                #expect(translation.startMs == sentence.startMs && translation.endMs == sentence.endMs)
                #expect(translation.failed == nil)
            }
            let requests = try await rig.llm.reports("requests")
            #expect(requests.count == finals.count && requests.allSatisfy { $0["status"] as? Int == 200 })
            let tokens = requests.reduce(0) { $0 + ($1["prompt_tokens"] as? Int ?? 0) + ($1["completion_tokens"] as? Int ?? 0) }
            #expect(try await Self.translationTokens(rig.deepgram.fixture.store, session: started.sessionID) == tokens)
            // Deepgram was asked for recognition only.
            #expect(try await rig.deepgram.fake.reports("connections").count == 1)
        }
    }

    @Test func aSlowUpstreamMarksTranslationsFailedAndTheSessionGoesOn() async throws {
        let rig = try await Self.rig(timeout: .seconds(1))
        defer { rig.deepgram.fake.stop(); rig.llm.stop() }
        try await rig.llm.control("inject", #"{"failure":"slow","delay_ms":4000,"count":100}"#)
        let (frames, _) = try DashScopeProviderTests.speechFrames("The upstream is slow today. Nothing is lost.")
        let (key, _) = try await rig.deepgram.fixture.createLicense()
        try await rig.deepgram.fixture.withLiveServer(provider: rig.provider, keyVault: rig.deepgram.vault) { central in
            let (client, _) = try await central.openStream(key: key, source: "en", target: "zh")
            await client.stream(frames, interval: .milliseconds(2))
            client.send(.stop(StopMessage()))
            let stopped = try #require(await client.stopped(timeout: .seconds(20)))
            #expect(stopped.reason == .clientStop && stopped.billedMs == Int64(frames.count * 20))
            let (transcripts, translations) = DashScopeProviderTests.texts(client)
            #expect(transcripts.contains { $0.final })
            #expect(!translations.isEmpty && translations.allSatisfy { $0.failed == true && $0.text.isEmpty }, "\(translations)")
        }
    }

    @Test func aRefusedKeyFailsOverToTheNextWithinTheSentence() async throws {
        let rig = try await Self.rig(llmKeys: [Self.llmKey, Self.secondLLMKey])
        defer { rig.deepgram.fake.stop(); rig.llm.stop() }
        try await rig.llm.control("revoke", #"{"key":"\#(Self.llmKey)"}"#)
        let (frames, _) = try DashScopeProviderTests.speechFrames("One sentence to translate.")
        let (key, _) = try await rig.deepgram.fixture.createLicense()
        try await rig.deepgram.fixture.withLiveServer(provider: rig.provider, keyVault: rig.deepgram.vault) { central in
            let (client, _) = try await central.openStream(key: key, source: "en", target: "zh")
            await client.stream(frames, interval: .milliseconds(2))
            client.send(.stop(StopMessage()))
            _ = try #require(await client.stopped(timeout: .seconds(20)))
            let translations = DashScopeProviderTests.texts(client).translations
            #expect(!translations.isEmpty && translations.allSatisfy { $0.failed == nil && !$0.text.isEmpty }, "\(translations)")
            let requests = try await rig.llm.reports("requests")
            #expect(requests.first?["status"] as? Int == 401)
            #expect(requests.last?["status"] as? Int == 200)
            #expect(requests.last?["key_hint"] as? String == String(Self.secondLLMKey.suffix(4)))
            // Neither key ever reaches the edge.
            let edgeSaw = client.messages.map { "\($0)" }.joined()
            #expect(!edgeSaw.contains(Self.llmKey) && !edgeSaw.contains(Self.secondLLMKey))
        }
    }
}
