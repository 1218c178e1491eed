import Protocol

/// `GET /api/status`.
public struct EdgeStatus: Sendable, Equatable, Encodable {
    public var link: LinkPhase
    /// The license status from the latest quota, when known.
    public var license: LicenseStatus?
    public var audio: AudioPhase
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
    /// Set while a session runs.
    public var audioSource: AudioSourceKind?
    /// Whether central answered the edge's last request; nil until the edge asked.
    public var centralReachable: Bool?
    /// Why the edge's last quota read failed (central's refusal, or `central_unreachable`);
    /// nil once one succeeds.
    public var quotaError: ErrorBody.Detail?

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
        case centralReachable = "central_reachable"
        case quotaError = "quota_error"
    }
}
