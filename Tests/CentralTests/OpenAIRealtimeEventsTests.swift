@testable import Central
import Foundation
import Testing

/// OpenAI's transcription events in the engine's terms, without a socket.
@Suite(.bounded) struct OpenAIRealtimeEventsTests {
    static func event(_ json: String) throws -> OpenAIRealtimeMessages.ServerEvent {
        try JSONDecoder().decode(OpenAIRealtimeMessages.ServerEvent.self, from: Data(json.utf8))
    }

    @Test func itemsAreSentencesInCommitOrderEvenWhenTheyCompleteOutOfOrder() throws {
        var events = OpenAIRealtimeEvents()
        #expect(events.step(try Self.event(#"{"type":"session.updated","session":{}}"#), appendedMs: 0) == .events([.started]))
        _ = events.step(try Self.event(#"{"type":"input_audio_buffer.committed","item_id":"a"}"#), appendedMs: 1_200)
        _ = events.step(try Self.event(#"{"type":"input_audio_buffer.committed","item_id":"b"}"#), appendedMs: 2_500)
        #expect(events.pending == ["a", "b"])
        #expect(events.step(try Self.event(#"{"type":"conversation.item.input_audio_transcription.delta","item_id":"b","delta":"Sec"}"#), appendedMs: 2_600)
            == .events([.results([ProviderTaskResult(kind: .transcript, sentenceID: 1, beginMs: 1_200, endMs: 2_500, text: "Sec", language: nil, final: false)])]))
        let completedB = try Self.event(
            #"{"type":"conversation.item.input_audio_transcription.completed","item_id":"b","transcript":"Second.","usage":{"type":"duration","seconds":1.3}}"#)
        #expect(events.step(completedB, appendedMs: 2_700) == .events([
            .usage(seconds: 1),
            .results([ProviderTaskResult(kind: .transcript, sentenceID: 1, beginMs: 1_200, endMs: 2_500, text: "Second.", language: nil, final: true)]),
        ]))
        let completedA = try Self.event(
            #"{"type":"conversation.item.input_audio_transcription.completed","item_id":"a","transcript":"First.","usage":{"type":"duration","seconds":1.2}}"#)
        #expect(events.step(completedA, appendedMs: 2_700) == .events([
            .usage(seconds: 3),
            .results([ProviderTaskResult(kind: .transcript, sentenceID: 0, beginMs: 0, endMs: 1_200, text: "First.", language: nil, final: true)]),
        ]))
        #expect(events.pending.isEmpty)
        #expect(abs(events.reportedSeconds - 2.5) < 1e-9)
    }

    @Test func tokenUsageIsNoSecondsAndAFailedTurnClosesItsInterim() throws {
        var events = OpenAIRealtimeEvents()
        _ = events.step(try Self.event(#"{"type":"input_audio_buffer.committed","item_id":"a"}"#), appendedMs: 900)
        _ = events.step(try Self.event(#"{"type":"conversation.item.input_audio_transcription.delta","item_id":"a","delta":"Hm"}"#), appendedMs: 900)
        #expect(events.step(try Self.event(#"{"type":"conversation.item.input_audio_transcription.failed","item_id":"a","error":{"message":"x"}}"#), appendedMs: 900)
            == .events([.results([ProviderTaskResult(kind: .transcript, sentenceID: 0, beginMs: 0, endMs: 900, text: "", language: nil, final: true)])]))
        _ = events.step(try Self.event(#"{"type":"input_audio_buffer.committed","item_id":"b"}"#), appendedMs: 1_900)
        let tokens = try Self.event(
            #"{"type":"conversation.item.input_audio_transcription.completed","item_id":"b","transcript":"Ok.","usage":{"type":"tokens","input_tokens":12,"output_tokens":3}}"#)
        #expect(events.step(tokens, appendedMs: 1_900) == .events([
            .tokens(15),
            .results([ProviderTaskResult(kind: .transcript, sentenceID: 1, beginMs: 900, endMs: 1_900, text: "Ok.", language: nil, final: true)]),
        ]))
    }

    @Test(arguments: [
        (#"{"type":"authentication_error","code":"invalid_api_key","message":"m"}"#, "auth"),
        (#"{"type":"invalid_request_error","code":"rate_limit_exceeded","message":"m"}"#, "rate"),
        (#"{"type":"invalid_request_error","code":"session_expired","message":"m"}"#, "transient"),
        (#"{"type":"server_error","code":"server_error","message":"m"}"#, "transient"),
        (#"{"type":"invalid_request_error","code":"invalid_value","message":"m"}"#, "fatal"),
        (#"{"type":"invalid_request_error","code":"input_audio_buffer_commit_empty","message":"m"}"#, "ignored"),
    ])
    func errorsMapToTheEnginesHandling(error: String, expected: String) throws {
        var events = OpenAIRealtimeEvents()
        let step = events.step(try Self.event(#"{"type":"error","error":\#(error)}"#), appendedMs: 0)
        switch (step, expected) {
        case (.failed(.authFailed), "auth"), (.failed(.rateLimited), "rate"), (.failed(.transient), "transient"),
             (.failed(.fatal(.providerFailed, _)), "fatal"), (.ignored, "ignored"):
            break
        default:
            Issue.record("\(error) → \(step), expected \(expected)")
        }
    }

    @Test func theSessionUpdateIsTheGATranscriptionShape() throws {
        let update = OpenAIRealtimeMessages.sessionUpdate(model: "gpt-live-transcribe", language: "en", serverVAD: false)
        let text = String(decoding: try JSONEncoder().encode(update), as: UTF8.self)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let session = try #require(object["session"] as? [String: Any])
        let input = try #require((session["audio"] as? [String: Any])?["input"] as? [String: Any])
        #expect(object["type"] as? String == "session.update" && session["type"] as? String == "transcription")
        #expect((input["format"] as? [String: Any])?["rate"] as? Int == 24_000)
        #expect(input["turn_detection"] is NSNull)
        var settings = OpenAIRealtimeSettings()
        settings.model = "gpt-live-transcribe"
        #expect(!settings.usesServerVAD)
        #expect(OpenAIRealtimeWire(settings: settings).sessionURL == "wss://api.openai.com/v1/realtime?intent=transcription")
    }
}
