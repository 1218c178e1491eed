@testable import Central
import Foundation
import Protocol
import Testing

/// Deepgram's messages in the engine's terms, without a socket.
@Suite(.bounded) struct DeepgramTaskEventsTests {
    static func message(_ json: String) throws -> DeepgramWire.Message {
        try JSONDecoder().decode(DeepgramWire.Message.self, from: Data(json.utf8))
    }

    static func results(_ text: String, start: Double, duration: Double, final: Bool) throws -> DeepgramWire.Message {
        try message(#"""
            {"type":"Results","channel_index":[0,1],"start":\#(start),"duration":\#(duration),"is_final":\#(final),
             "speech_final":\#(final),"channel":{"alternatives":[{"transcript":"\#(text)","confidence":0.9,"words":[]}]},
             "metadata":{"request_id":"r","model_info":{"name":"n","version":"v","arch":"a"},"model_uuid":"u"}}
            """#)
    }

    @Test func interimsAndTheirFinalShareASentenceAndTheNextFinalStartsAnother() throws {
        var events = DeepgramTaskEvents()
        #expect(events.step(try Self.results("hel", start: 0.5, duration: 0.4, final: false)) == .events([.results([
            ProviderTaskResult(kind: .transcript, sentenceID: 0, beginMs: 500, endMs: 900, text: "hel", language: nil, final: false),
        ])]))
        #expect(events.step(try Self.results("Hello.", start: 0.5, duration: 1.25, final: true)) == .events([.results([
            ProviderTaskResult(kind: .transcript, sentenceID: 0, beginMs: 500, endMs: 1_750, text: "Hello.", language: nil, final: true),
        ])]))
        #expect(events.step(try Self.results("Again.", start: 2, duration: 1, final: true)) == .events([.results([
            ProviderTaskResult(kind: .transcript, sentenceID: 1, beginMs: 2_000, endMs: 3_000, text: "Again.", language: nil, final: true),
        ])]))
    }

    @Test func silenceIsNoSentenceButAnEmptyFinalClosesAShownInterim() throws {
        var events = DeepgramTaskEvents()
        #expect(events.step(try Self.results("", start: 0, duration: 1, final: true)) == .events([]))
        #expect(events.step(try Self.results("", start: 1, duration: 1, final: false)) == .events([]))
        _ = events.step(try Self.results("uh", start: 2, duration: 0.2, final: false))
        #expect(events.step(try Self.results("", start: 2, duration: 0.5, final: true)) == .events([.results([
            ProviderTaskResult(kind: .transcript, sentenceID: 0, beginMs: 2_000, endMs: 2_500, text: "", language: nil, final: true),
        ])]))
    }

    @Test func metadataEndsTheConnectionWithDeepgramsDuration() throws {
        var events = DeepgramTaskEvents()
        let metadata = try Self.message(
            #"{"type":"Metadata","transaction_key":"deprecated","request_id":"r","sha256":"s","created":"c","duration":12.6,"channels":1}"#)
        #expect(events.step(metadata) == .finished([.usage(seconds: 13)]))
    }

    @Test func anErrorMessageIsAProviderFailureAndOtherMessagesAreIgnored() throws {
        var events = DeepgramTaskEvents()
        let error = try Self.message(#"{"type":"Error","variant":"INTERNAL-0000","description":"boom","message":"boom"}"#)
        #expect(events.step(error) == .failed(.transient(.providerUnavailable, "Deepgram error: INTERNAL-0000: boom")))
        #expect(events.step(try Self.message(#"{"type":"SpeechStarted","channel":[0],"timestamp":1.0}"#)) == .ignored)
        #expect(events.step(try Self.message(#"{"type":"UtteranceEnd","channel":[0,1],"last_word_end":2.0}"#)) == .turnEnded)
    }

    @Test func theURLCarriesTheSessionAsTagAndNoEncodingForOggOpus() {
        var settings = DeepgramSettings()
        settings.url = "wss://api.deepgram.com/v1/listen"
        let wire = DeepgramListenWire(settings: settings)
        let url = wire.url(for: ProviderSessionConfiguration(
            sessionID: "sess_a b&c", sourceLanguage: "en", targetLanguage: nil, codec: CodecParameters()))
        #expect(url.hasPrefix("wss://api.deepgram.com/v1/listen?model=nova-3&language=en&interim_results=true&endpointing=300"))
        #expect(url.contains("&tag=sess_a%20b%26c&"))
        #expect(!url.contains("encoding") && !url.contains("sample_rate"))
    }

    @Test func settingsRefuseWhatWouldReachTheQueryUnchecked() {
        for (name, value) in [
            ("DEEPGRAM_MODEL", "nova-3&tag=x"), ("DEEPGRAM_LANGUAGES", "en,es&x"), ("DEEPGRAM_URL", "https://x"),
            ("DEEPGRAM_URL", "wss://x/v1/listen?model=a"), ("DEEPGRAM_ENDPOINTING_MS", "0"),
        ] {
            var settings = DeepgramSettings()
            #expect(throws: CentralConfiguration.ConfigurationError.self, "\(name)=\(value)") { try settings.read([name: value]) }
        }
        var settings = DeepgramSettings()
        #expect(throws: Never.self) { try settings.read(["DEEPGRAM_MODEL": "nova-2", "DEEPGRAM_LANGUAGES": "en, zh-CN"]) }
        #expect(settings.model == "nova-2" && settings.languages == ["en", "zh-CN"])
    }
}
