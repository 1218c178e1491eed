import Foundation
import Protocol
import Testing

/// Golden texts: these exact bytes are the contract in docs/protocol.md.
@Suite(.bounded) struct ControlMessageGoldenTests {
    static let quota = QuotaSnapshot(
        status: .active, startsAt: Date(timeIntervalSince1970: 1_795_000_000), expiresAt: Date(timeIntervalSince1970: 1_795_604_800),
        secondsUsed: 12.34, secondsLimit: 3600, secondsRemaining: 3587.66, sessionsUsed: 1, sessionsLimit: 10,
        sessionsRemaining: 9, dailyLimitSeconds: nil, dailyRemainingSeconds: nil, concurrentInUse: 1, concurrentLimit: 1)
    static let quotaJSON = #"{"can_stream":true,"concurrent_in_use":1,"concurrent_limit":1,"expires_at":"2026-11-25T11:06:40.000Z","seconds_limit":3600,"seconds_remaining":3587.66,"seconds_used":12.34,"sessions_limit":10,"sessions_remaining":9,"sessions_used":1,"starts_at":"2026-11-18T11:06:40.000Z","status":"active"}"#

    static let goldens: [(ControlMessage, String)] = [
        (.start(StartMessage(sourceLanguage: "zh", targetLanguage: "en", codec: CodecParameters(), resumeSessionID: nil)),
         #"{"codec":{"channels":1,"frame_ms":20,"name":"opus","pre_skip":312,"sample_rate":16000},"source_language":"zh","target_language":"en","type":"start","v":1}"#),
        (.start(StartMessage(sourceLanguage: "en", targetLanguage: nil, resumeSessionID: "sess_1")),
         #"{"codec":{"channels":1,"frame_ms":20,"name":"opus","pre_skip":312,"sample_rate":16000},"resume_session_id":"sess_1","source_language":"en","type":"start","v":1}"#),
        (.started(StartedMessage(sessionID: "sess_1", resumed: false, nextSequence: 0, provider: ProviderInfo(name: "demo", model: nil, demo: true), quota: quota, warning: .none)),
         #"{"next_sequence":0,"provider":{"demo":true,"name":"demo"},"quota":\#(quotaJSON),"resumed":false,"session_id":"sess_1","type":"started","v":1,"warning":"none"}"#),
        (.stop(StopMessage()), #"{"type":"stop","v":1}"#),
        (.stopped(StoppedMessage(sessionID: "sess_1", reason: .minutesExhausted, message: "No minutes left.", billedMs: 61_020)),
         #"{"billed_ms":61020,"message":"No minutes left.","reason":"minutes_exhausted","session_id":"sess_1","type":"stopped","v":1}"#),
        (.quota(QuotaMessage(quota: quota, warning: .used80Percent, sessionBilledMs: 12_340, provider: ProviderInfo(name: "demo", model: nil, demo: true))),
         #"{"provider":{"demo":true,"name":"demo"},"quota":\#(quotaJSON),"session_billed_ms":12340,"type":"quota","v":1,"warning":"used_80_percent"}"#),
        (.transcript(ResultMessage(sentenceID: 3, final: false, startMs: 1_200, endMs: 2_600, text: "你好", language: "zh")),
         #"{"end_ms":2600,"final":false,"language":"zh","sentence_id":3,"start_ms":1200,"text":"你好","type":"transcript","v":1}"#),
        (.translation(ResultMessage(sentenceID: 3, final: true, startMs: 1_200, endMs: 2_600, text: "Hello", language: "en")),
         #"{"end_ms":2600,"final":true,"language":"en","sentence_id":3,"start_ms":1200,"text":"Hello","type":"translation","v":1}"#),
        (.heartbeat(HeartbeatMessage(sentAt: Date(timeIntervalSince1970: 1_795_000_000.5))),
         #"{"sent_at":"2026-11-18T11:06:40.500Z","type":"heartbeat","v":1}"#),
        (.ack(AckMessage(lastSequence: 4_294_967_295, billedMs: 20)), #"{"billed_ms":20,"last_sequence":4294967295,"type":"ack","v":1}"#),
        (.error(ErrorMessage(code: .malformedFrame, message: "bad frame", fatal: false)),
         #"{"code":"malformed_frame","fatal":false,"message":"bad frame","type":"error","v":1}"#),
    ]

    @Test(arguments: goldens.indices)
    func encodesToTheGoldenTextAndBack(index: Int) throws {
        let (message, golden) = Self.goldens[index]
        #expect(message.encodedText() == golden)
        #expect(try ControlMessage.decode(golden) == message)
    }

    @Test func everyMessageTypeHasAGolden() {
        #expect(Set(Self.goldens.map(\.0.type)) == ["start", "started", "stop", "stopped", "quota", "transcript", "translation", "heartbeat", "ack", "error"])
    }

    @Test func unknownFieldsAreIgnoredForForwardCompatibility() throws {
        let text = #"{"type":"ack","v":1,"last_sequence":5,"billed_ms":100,"added_in_v1_1":true}"#
        #expect(try ControlMessage.decode(text) == .ack(AckMessage(lastSequence: 5, billedMs: 100)))
    }
}

@Suite(.bounded) struct ControlMessageRejectionTests {
    @Test(arguments: [
        ("", ErrorCode.malformedMessage),
        ("null", .malformedMessage),
        ("[1,2]", .malformedMessage),
        ("{\"type\":\"ack\"", .malformedMessage),
        (#"{"v":1}"#, .malformedMessage),
        (#"{"type":"ack","v":2,"last_sequence":1,"billed_ms":0}"#, .unsupportedVersion),
        (#"{"type":"teleport","v":1}"#, .unknownMessageType),
        (#"{"type":"ack","v":1,"billed_ms":0}"#, .invalidMessage),
        (#"{"type":"ack","v":1,"last_sequence":-1,"billed_ms":0}"#, .invalidMessage),
        (#"{"type":"ack","v":1,"last_sequence":"1","billed_ms":0}"#, .invalidMessage),
        (#"{"type":"start","v":1,"source_language":"zh","codec":{"name":"opus"}}"#, .invalidMessage),
        (#"{"type":"heartbeat","v":1,"sent_at":"yesterday"}"#, .invalidMessage),
        (#"{"type":"stopped","v":1,"session_id":"s","reason":null,"message":"m","billed_ms":0}"#, .invalidMessage),
    ])
    func malformedTextMapsToAProtocolError(text: String, code: ErrorCode) {
        #expect(throws: ProtocolError.self) { try ControlMessage.decode(text) }
        do {
            _ = try ControlMessage.decode(text)
        } catch {
            #expect(error.code == code, "\(text) → \(error)")
        }
    }

    @Test func missingFieldsAreNamed() {
        do {
            _ = try ControlMessage.decode(#"{"type":"start","v":1,"source_language":"zh","codec":{"name":"opus","channels":1,"frame_ms":20,"pre_skip":0}}"#)
            Issue.record("decoded an incomplete start")
        } catch {
            #expect(error.message.contains("codec.sample_rate"), "\(error.message)")
        }
    }

    @Test func oversizedTextIsRefused() {
        let text = #"{"type":"error","v":1,"fatal":false,"code":"x","message":""# + String(repeating: "a", count: 20_000) + #""}"#
        #expect(throws: ProtocolError(.frameTooLarge, "text frame of \(text.utf8.count) bytes; at most 16384")) {
            try ControlMessage.decode(text)
        }
    }
}
