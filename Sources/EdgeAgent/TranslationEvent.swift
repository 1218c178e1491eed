import Protocol

/// What the page hears on `/ws`: one JSON object per event, `{"type": …}`.
public enum TranslationEvent: Sendable, Equatable, Encodable {
    case state(EdgeStatus)
    case quota(QuotaMessage)
    case transcript(ResultMessage)
    case translation(ResultMessage)
    case level(InputLevel)
    case error(code: ErrorCode, message: String)

    enum Keys: String, CodingKey {
        case type, status, quota, result, level, code, message
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        switch self {
        case .state(let status):
            try container.encode("state", forKey: .type)
            try container.encode(status, forKey: .status)
        case .quota(let quota):
            try container.encode("quota", forKey: .type)
            try container.encode(quota, forKey: .quota)
        case .transcript(let result):
            try container.encode("transcript", forKey: .type)
            try container.encode(result, forKey: .result)
        case .translation(let result):
            try container.encode("translation", forKey: .type)
            try container.encode(result, forKey: .result)
        case .level(let level):
            try container.encode("level", forKey: .type)
            try container.encode(level, forKey: .level)
        case .error(let code, let message):
            try container.encode("error", forKey: .type)
            try container.encode(code, forKey: .code)
            try container.encode(message, forKey: .message)
        }
    }
}

/// `GET /api/status`.
public struct EdgeStatus: Sendable, Equatable, Encodable {
    /// `idle`, `connecting`, `streaming`, `reconnecting` or `stopped`.
    public var link: String
    /// The license status from the latest quota, when known.
    public var license: LicenseStatus?
    /// `idle`, `starting`, `capturing`, `reopening`, `no_device` or `stopped`.
    public var audio: String
    public var audioMessage: String?
    public var sessionID: String?
    public var demo: Bool?
    /// Why the last session stopped, when it did.
    public var stopReason: ErrorCode?
    /// Audio sent to central in the current (or last) session, in milliseconds.
    public var audioSentMs: Int64?
    /// 20 ms frames dropped because the 10 s replay buffer overflowed during an outage.
    public var audioDroppedFrames: Int?
    /// Capture overruns and suspends recovered so far (a busy or unstable audio device).
    public var audioRecoveredErrors: Int?
    /// Whether the configured ALSA device opens for capture (checked while no session runs).
    public var alsaAvailable: Bool?
    /// The page may send its own microphone over /ws (start with `"device": "browser"`).
    public var browserAudioAvailable = true
    /// `alsa` or `browser` while a session runs.
    public var audioSource: String?

    enum CodingKeys: String, CodingKey {
        case link, license, audio
        case audioMessage = "audio_message"
        case sessionID = "session_id"
        case demo
        case stopReason = "stop_reason"
        case audioSentMs = "audio_sent_ms"
        case audioDroppedFrames = "audio_dropped_frames"
        case audioRecoveredErrors = "audio_recovered_errors"
        case alsaAvailable = "alsa_available"
        case browserAudioAvailable = "browser_audio_available"
        case audioSource = "audio_source"
    }
}
