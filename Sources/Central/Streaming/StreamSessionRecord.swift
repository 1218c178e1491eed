import Foundation
import Protocol

/// A streaming session as the store keeps it: who streams, what has been billed, and how it ended.
public struct StreamSessionRecord: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        case live
        case closed
    }

    public var id: String
    public var licenseID: String
    public var leaseID: String
    public var deviceFingerprint: String
    public var clientIP: String
    public var provider: String
    public var sourceLanguage: String
    public var targetLanguage: String?
    public var status: Status
    public var startedAt: Date
    public var firstAudioAt: Date?
    public var lastCheckpointAt: Date?
    /// Audio billed so far (the watermark that makes checkpoints idempotent).
    public var billedMs: Int64
    /// Highest contiguous sequence number accepted at the last checkpoint; -1 before any.
    public var lastSequence: Int64
    public var endedAt: Date?
    public var stopReason: ErrorCode?
    /// The central instance serving it (nil in rows from before instances were recorded).
    public var owner: String?
    // The counts kept beside the bill, for reconciliation (docs/providers.md, "Three counts").
    /// Audio handed to the provider, replays included.
    public var providerAudioMs: Int64? = nil
    /// What the provider said it billed, in seconds, when it reports usage.
    public var providerReportedSeconds: Int64? = nil
    /// What a token-billed provider said it billed, in tokens.
    public var providerReportedTokens: Int64? = nil
    /// Tokens the LLM translation used.
    public var translationTokens: Int64? = nil
    /// The edge's own count of what it sent, from its `stop`.
    public var edgeSentMs: Int64? = nil

    enum CodingKeys: String, CodingKey {
        case id
        case licenseID = "license_id"
        case leaseID = "lease_id"
        case deviceFingerprint = "device_fingerprint"
        case clientIP = "client_ip"
        case provider
        case sourceLanguage = "source_language"
        case targetLanguage = "target_language"
        case status
        case startedAt = "started_at"
        case firstAudioAt = "first_audio_at"
        case lastCheckpointAt = "last_checkpoint_at"
        case billedMs = "billed_ms"
        case lastSequence = "last_sequence"
        case endedAt = "ended_at"
        case stopReason = "stop_reason"
        case owner = "instance"
        case providerAudioMs = "provider_audio_ms"
        case providerReportedSeconds = "provider_reported_seconds"
        case providerReportedTokens = "provider_reported_tokens"
        case translationTokens = "translation_tokens"
        case edgeSentMs = "edge_sent_ms"
    }
}

/// What a checkpoint did, and what the session may do until the next one.
public struct CheckpointResult: Sendable, Equatable {
    /// The session's billed total after this checkpoint.
    public var billedMs: Int64
    /// Milliseconds this checkpoint added (0 when replayed or nothing new).
    public var appliedMs: Int64
    /// Audio the session may accept beyond `billedMs` before it checkpoints again: its share of
    /// the license's balance, which no other session can spend meanwhile.
    public var reservedMs: Int64
    /// What binds the reservation when it is smaller than asked for.
    public var limitedBy: ErrorCode
    /// True when this checkpoint was the session's first audio and counted it as a session.
    public var countedSession: Bool
    /// The license after the checkpoint (nil when it was deleted meanwhile).
    public var license: License?
    public var quota: QuotaSnapshot?
    /// False when the session's lease no longer exists (released or lapsed) or the session was
    /// closed elsewhere: the session must stop.
    public var leaseHeld: Bool
    /// Another instance has taken the session over (a resume there): this one stops serving it
    /// without billing, closing or releasing anything; nothing else in the result applies.
    public var movedAway: Bool = false
    /// An operator asked for the session to stop (on whichever instance): stop with this reason.
    public var stopRequested: ErrorCode?

    /// What a checkpoint of a session another instance has taken over answers.
    static func movedAway(billedMs: Int64) -> CheckpointResult {
        CheckpointResult(
            billedMs: billedMs, appliedMs: 0, reservedMs: 0, limitedBy: .minutesExhausted, countedSession: false,
            license: nil, quota: nil, leaseHeld: false, movedAway: true)
    }
}
