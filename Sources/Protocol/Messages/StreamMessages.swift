import Foundation

/// The audio format the edge sends.
public struct CodecParameters: Codable, Equatable, Sendable {
    /// Always `opus` in version 1.
    public var name: String
    /// The capture rate the encoder was fed (the Ogg `input sample rate`), e.g. 16000.
    public var sampleRate: Int
    public var channels: Int
    /// Nominal frame length in milliseconds, e.g. 20.
    public var frameMs: Double
    /// The encoder's lookahead in 48 kHz samples: the Ogg Opus pre-skip.
    public var preSkip: Int

    public init(name: String = "opus", sampleRate: Int = 16_000, channels: Int = 1, frameMs: Double = 20, preSkip: Int = 312) {
        self.name = name
        self.sampleRate = sampleRate
        self.channels = channels
        self.frameMs = frameMs
        self.preSkip = preSkip
    }

    enum CodingKeys: String, CodingKey {
        case name
        case sampleRate = "sample_rate"
        case channels
        case frameMs = "frame_ms"
        case preSkip = "pre_skip"
    }
}

/// edge → central: begin (or resume) streaming.
public struct StartMessage: Codable, Equatable, Sendable {
    /// BCP 47-ish language code of the speech, e.g. `zh`, `en`.
    public var sourceLanguage: String
    /// Language to translate into; nil for transcription only.
    public var targetLanguage: String?
    public var codec: CodecParameters
    /// Set when reconnecting: the session to continue.
    public var resumeSessionID: String?

    public init(sourceLanguage: String, targetLanguage: String?, codec: CodecParameters = CodecParameters(), resumeSessionID: String? = nil) {
        self.sourceLanguage = sourceLanguage
        self.targetLanguage = targetLanguage
        self.codec = codec
        self.resumeSessionID = resumeSessionID
    }

    enum CodingKeys: String, CodingKey {
        case sourceLanguage = "source_language"
        case targetLanguage = "target_language"
        case codec
        case resumeSessionID = "resume_session_id"
    }
}

/// Which provider serves the session; `demo` is true for the built-in demo provider.
public struct ProviderInfo: Codable, Equatable, Sendable {
    public var name: String
    public var model: String?
    public var demo: Bool

    public init(name: String, model: String?, demo: Bool) {
        self.name = name
        self.model = model
        self.demo = demo
    }
}

/// central → edge: the session is open.
public struct StartedMessage: Codable, Equatable, Sendable {
    public var sessionID: String
    /// True when this continues an earlier connection's session.
    public var resumed: Bool
    /// The sequence number central expects next; on resume, replay from here.
    public var nextSequence: UInt32
    public var provider: ProviderInfo
    public var quota: QuotaSnapshot
    public var warning: QuotaWarning

    public init(sessionID: String, resumed: Bool, nextSequence: UInt32, provider: ProviderInfo, quota: QuotaSnapshot, warning: QuotaWarning) {
        self.sessionID = sessionID
        self.resumed = resumed
        self.nextSequence = nextSequence
        self.provider = provider
        self.quota = quota
        self.warning = warning
    }

    enum CodingKeys: String, CodingKey {
        case sessionID = "session_id"
        case resumed
        case nextSequence = "next_sequence"
        case provider, quota, warning
    }
}

/// edge → central: the speaker is done; central finishes the provider task and answers `stopped`.
public struct StopMessage: Codable, Equatable, Sendable {
    /// The edge's own count of the audio it sent in this session (each frame once, however
    /// often it was replayed), in milliseconds: central keeps it beside what it billed and what
    /// the provider reported. Optional: older edges do not send it.
    public var sentMs: Int64?

    public init(sentMs: Int64? = nil) {
        self.sentMs = sentMs
    }

    enum CodingKeys: String, CodingKey {
        case sentMs = "sent_ms"
    }
}

/// central → edge: the session is over, with the reason and what it billed.
public struct StoppedMessage: Codable, Equatable, Sendable {
    public var sessionID: String
    public var reason: ErrorCode
    public var message: String
    public var billedMs: Int64

    public init(sessionID: String, reason: ErrorCode, message: String, billedMs: Int64) {
        self.sessionID = sessionID
        self.reason = reason
        self.message = message
        self.billedMs = billedMs
    }

    enum CodingKeys: String, CodingKey {
        case sessionID = "session_id"
        case reason, message
        case billedMs = "billed_ms"
    }
}

/// central → edge: live quota, at least every second while streaming and after admin changes.
public struct QuotaMessage: Codable, Equatable, Sendable {
    public var quota: QuotaSnapshot
    public var warning: QuotaWarning
    /// Audio billed to this session so far.
    public var sessionBilledMs: Int64?
    /// The session's provider, so a page that joins mid-session can still say "demo".
    public var provider: ProviderInfo?

    public init(quota: QuotaSnapshot, warning: QuotaWarning, sessionBilledMs: Int64?, provider: ProviderInfo? = nil) {
        self.quota = quota
        self.warning = warning
        self.sessionBilledMs = sessionBilledMs
        self.provider = provider
    }

    enum CodingKeys: String, CodingKey {
        case quota, warning
        case sessionBilledMs = "session_billed_ms"
        case provider
    }
}

/// central → edge: recognised or translated text for one sentence.
public struct ResultMessage: Codable, Equatable, Sendable {
    public var sentenceID: Int
    /// False while the provider may still revise the sentence.
    public var final: Bool
    /// Offsets from the start of the session's audio, in milliseconds.
    public var startMs: Int
    public var endMs: Int
    public var text: String
    public var language: String
    /// A translation that could not be made in time (central's LLM translation): `text` is
    /// empty and the sentence stays untranslated. Absent otherwise.
    public var failed: Bool?

    public init(sentenceID: Int, final: Bool, startMs: Int, endMs: Int, text: String, language: String, failed: Bool? = nil) {
        self.sentenceID = sentenceID
        self.final = final
        self.startMs = startMs
        self.endMs = endMs
        self.text = text
        self.language = language
        self.failed = failed
    }

    enum CodingKeys: String, CodingKey {
        case sentenceID = "sentence_id"
        case final
        case startMs = "start_ms"
        case endMs = "end_ms"
        case text, language, failed
    }
}

/// Either direction: "I am alive". Sent every 5 s when nothing else was sent.
public struct HeartbeatMessage: Codable, Equatable, Sendable {
    public var sentAt: Date

    public init(sentAt: Date) {
        self.sentAt = sentAt
    }

    enum CodingKeys: String, CodingKey {
        case sentAt = "sent_at"
    }
}

/// central → edge: every frame up to `lastSequence` is accepted; the edge may drop them from
/// its replay buffer.
public struct AckMessage: Codable, Equatable, Sendable {
    public var lastSequence: UInt32
    public var billedMs: Int64

    public init(lastSequence: UInt32, billedMs: Int64) {
        self.lastSequence = lastSequence
        self.billedMs = billedMs
    }

    enum CodingKeys: String, CodingKey {
        case lastSequence = "last_sequence"
        case billedMs = "billed_ms"
    }

    /// The `ack` message as JSON, without an encoder (the hot path sends it twice a second per stream).
    public var wireText: String {
        #"{"billed_ms":\#(billedMs),"last_sequence":\#(lastSequence),"type":"ack","v":\#(ProtocolVersion.current)}"#
    }
}

/// Either direction: something was wrong. `fatal` errors are followed by `stopped` and a close.
public struct ErrorMessage: Codable, Equatable, Sendable {
    public var code: ErrorCode
    public var message: String
    public var fatal: Bool

    public init(code: ErrorCode, message: String, fatal: Bool) {
        self.code = code
        self.message = message
        self.fatal = fatal
    }
}
