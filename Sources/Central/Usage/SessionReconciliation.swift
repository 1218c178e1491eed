import Foundation
import Protocol

/// The three counts of one session side by side: what the edge says it sent (its `stop`),
/// what central billed, and what the provider reports (the audio central handed it, and the
/// provider's own billed figure). Pure: the rule for what is worth a look lives here, not in SQL.
public struct SessionAccount: Sendable, Equatable, Codable {
    public enum Flag: String, Sendable, Codable, CaseIterable {
        /// The edge's count and the bill differ by more than the threshold (lost or duplicated
        /// audio between edge and central, or an edge that counts wrong).
        case edgeVersusBilled = "edge_vs_billed"
        /// Central handed the provider more or less than it billed by more than the threshold
        /// (replays after failovers cost the vendor; less would be billed audio never relayed).
        case providerSentVersusBilled = "provider_sent_vs_billed"
        /// The provider's own figure and the bill differ by more than the threshold (its
        /// rounding per task or connection, minimum charges, or a real discrepancy).
        case providerReportedVersusBilled = "provider_reported_vs_billed"
    }

    public var sessionID: String
    public var licenseID: String
    public var provider: String
    public var startedAt: Date
    public var endedAt: Date?
    public var stopReason: ErrorCode?
    public var billedMs: Int64
    public var edgeSentMs: Int64?
    public var providerAudioMs: Int64?
    public var providerReportedMs: Int64?
    /// A token-billed provider's figure (no seconds to compare: never flagged).
    public var providerReportedTokens: Int64?
    public var translationTokens: Int64?
    public var flags: [Flag]

    enum CodingKeys: String, CodingKey {
        case sessionID = "session_id"
        case licenseID = "license_id"
        case provider
        case startedAt = "started_at"
        case endedAt = "ended_at"
        case stopReason = "stop_reason"
        case billedMs = "billed_ms"
        case edgeSentMs = "edge_sent_ms"
        case providerAudioMs = "provider_audio_ms"
        case providerReportedMs = "provider_reported_ms"
        case providerReportedTokens = "provider_reported_tokens"
        case translationTokens = "translation_tokens"
        case flags
    }

    /// A session's counts and the flags they raise; a count that is missing raises none.
    public static func account(_ record: StreamSessionRecord, thresholdMs: Int64) -> SessionAccount {
        let reportedMs = record.providerReportedSeconds.map { $0 * 1000 }
        var flags: [Flag] = []
        func apart(_ count: Int64?) -> Bool { count.map { abs($0 - record.billedMs) > thresholdMs } ?? false }
        if apart(record.edgeSentMs) { flags.append(.edgeVersusBilled) }
        if apart(record.providerAudioMs) { flags.append(.providerSentVersusBilled) }
        if apart(reportedMs) { flags.append(.providerReportedVersusBilled) }
        return SessionAccount(
            sessionID: record.id, licenseID: record.licenseID, provider: record.provider, startedAt: record.startedAt,
            endedAt: record.endedAt, stopReason: record.stopReason, billedMs: record.billedMs, edgeSentMs: record.edgeSentMs,
            providerAudioMs: record.providerAudioMs, providerReportedMs: reportedMs,
            providerReportedTokens: record.providerReportedTokens, translationTokens: record.translationTokens,
            flags: flags)
    }
}

/// `GET /v1/admin/usage/sessions`: each session's three counts, flagged where they differ by
/// more than the threshold, with totals per provider.
public struct SessionAccountReport: Sendable, Equatable, Codable {
    /// Default threshold: two seconds, above the providers' per-task rounding of one.
    public static let defaultThresholdMs: Int64 = 2_000

    public var thresholdMs: Int64
    public var sessions: [SessionAccount]

    public struct ProviderTotals: Sendable, Equatable, Codable {
        public var sessions = 0
        public var flagged = 0
        public var billedMs: Int64 = 0
        public var edgeSentMs: Int64 = 0
        public var providerAudioMs: Int64 = 0
        public var providerReportedMs: Int64 = 0

        enum CodingKeys: String, CodingKey {
            case sessions, flagged
            case billedMs = "billed_ms"
            case edgeSentMs = "edge_sent_ms"
            case providerAudioMs = "provider_audio_ms"
            case providerReportedMs = "provider_reported_ms"
        }
    }

    public var totals: [String: ProviderTotals] {
        var totals: [String: ProviderTotals] = [:]
        for session in sessions {
            var entry = totals[session.provider, default: ProviderTotals()]
            entry.sessions += 1
            if !session.flags.isEmpty { entry.flagged += 1 }
            entry.billedMs += session.billedMs
            entry.edgeSentMs += session.edgeSentMs ?? 0
            entry.providerAudioMs += session.providerAudioMs ?? 0
            entry.providerReportedMs += session.providerReportedMs ?? 0
            totals[session.provider] = entry
        }
        return totals
    }

    public init(records: [StreamSessionRecord], thresholdMs: Int64, flaggedOnly: Bool) {
        self.thresholdMs = thresholdMs
        let accounts = records.map { SessionAccount.account($0, thresholdMs: thresholdMs) }
        sessions = flaggedOnly ? accounts.filter { !$0.flags.isEmpty } : accounts
    }

    enum CodingKeys: String, CodingKey {
        case thresholdMs = "threshold_ms"
        case sessions, totals
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        thresholdMs = try c.decode(Int64.self, forKey: .thresholdMs)
        sessions = try c.decode([SessionAccount].self, forKey: .sessions)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(thresholdMs, forKey: .thresholdMs)
        try c.encode(sessions, forKey: .sessions)
        try c.encode(totals, forKey: .totals)
    }

    /// RFC 4180 CSV, one row per session; an empty cell is a count nobody reported.
    public var csv: String {
        func cell(_ value: Int64?) -> String { value.map(String.init) ?? "" }
        var lines = [
            "session_id,license_id,provider,started_at,ended_at,stop_reason,billed_ms,edge_sent_ms,provider_audio_ms,provider_reported_ms,provider_reported_tokens,translation_tokens,flags",
        ]
        let time = ISO8601DateFormatter()
        for session in sessions {
            lines.append([
                CSV.field(session.sessionID), CSV.field(session.licenseID), CSV.field(session.provider),
                time.string(from: session.startedAt), session.endedAt.map(time.string) ?? "",
                CSV.field(session.stopReason?.rawValue ?? ""), String(session.billedMs), cell(session.edgeSentMs),
                cell(session.providerAudioMs), cell(session.providerReportedMs), cell(session.providerReportedTokens),
                cell(session.translationTokens),
                session.flags.map(\.rawValue).joined(separator: " "),
            ].joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}

extension UsageQuery {
    /// The query's UTC days as a half-open millisecond range of session start times.
    var startedRangeMs: (from: Int64?, before: Int64?) {
        (from.flatMap(UTCDay.init).map { $0.index * Milliseconds.perDay },
         to.flatMap(UTCDay.init).map { ($0.index + 1) * Milliseconds.perDay })
    }
}
