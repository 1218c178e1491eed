import Foundation
import Protocol

/// What a license has used of its chat allowance, as the store counts it at the moment of a
/// reservation: settled requests at their real tokens, open reservations at what they hold.
public struct ChatUsageCounts: Sendable, Equatable {
    public var requestsToday: Int
    public var tokensToday: Int64
    public var tokensUsed: Int64
    /// Requests that started within the last minute, and when the oldest of them started.
    public var requestsLastMinute: Int
    public var oldestInLastMinute: Date?

    public init(requestsToday: Int = 0, tokensToday: Int64 = 0, tokensUsed: Int64 = 0, requestsLastMinute: Int = 0, oldestInLastMinute: Date? = nil) {
        self.requestsToday = requestsToday
        self.tokensToday = tokensToday
        self.tokensUsed = tokensUsed
        self.requestsLastMinute = requestsLastMinute
        self.oldestInLastMinute = oldestInLastMinute
    }
}

/// Why a chat request is refused: a stable code, the HTTP status, a sentence, and when trying
/// again can help (`Retry-After`).
public struct ChatRefusal: Sendable, Equatable, Error {
    public var code: ErrorCode
    public var status: Int
    public var message: String
    public var retryAfterSeconds: Int?

    public init(_ code: ErrorCode, status: Int, _ message: String, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.status = status
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }
}

/// What one request asks to hold before it goes upstream.
public struct ChatReservationRequest: Sendable, Equatable {
    public var id: String
    public var licenseID: String
    /// The model name the client sent (the license's alias) and where it goes.
    public var model: String
    public var upstream: String
    /// An over-estimate of the prompt's tokens.
    public var inputTokens: Int64
    /// The answer's tokens the client asked for at most (`max_tokens`); nil: it named none.
    public var requestedOutputTokens: Int64?
    /// What a request naming no `max_tokens` holds for its answer (`CHAT_MAX_OUTPUT_TOKENS`).
    public var defaultOutputTokens: Int64
    /// When an unsettled reservation stops holding tokens.
    public var expiresAt: Date

    public init(
        id: String, licenseID: String, model: String, upstream: String, inputTokens: Int64, requestedOutputTokens: Int64?,
        defaultOutputTokens: Int64, expiresAt: Date
    ) {
        self.id = id
        self.licenseID = licenseID
        self.model = model
        self.upstream = upstream
        self.inputTokens = inputTokens
        self.requestedOutputTokens = requestedOutputTokens
        self.defaultOutputTokens = defaultOutputTokens
        self.expiresAt = expiresAt
    }
}

/// A request admitted: the day it counts on, the tokens it holds, and the most the upstream
/// may answer with (nil: no cap needed, the license has no token limit).
public struct ChatReservation: Sendable, Equatable {
    public var id: String
    public var day: String
    public var reservedTokens: Int64
    public var maxOutputTokens: Int64?
}

public enum ChatReservationOutcome: Sendable, Equatable {
    case reserved(ChatReservation)
    case refused(ChatRefusal)
}

/// What the upstream used, or, when it reported nothing, what was estimated and delivered.
public struct ChatTokenUsage: Sendable, Equatable {
    public enum Source: String, Sendable {
        /// The upstream's `usage`.
        case upstream
        /// No usage came (the client left mid-answer, the upstream broke off): the prompt's
        /// estimate and the answer's parts that reached the client.
        case delivered
    }

    public var inputTokens: Int64
    public var outputTokens: Int64
    public var source: Source

    public init(inputTokens: Int64, outputTokens: Int64, source: Source) {
        self.inputTokens = max(0, inputTokens)
        self.outputTokens = max(0, outputTokens)
        self.source = source
    }

    public var total: Int64 { inputTokens + outputTokens }
}

/// The chat proxy's rules, without a database: the quota day in the plan's time zone, and
/// whether a request may start and what it holds. Stores call `reserve` inside the
/// transaction that counts usage, so parallel requests cannot overrun a limit.
public enum ChatQuotaPolicy {
    /// The quota day of `now`, `YYYY-MM-DD` in `zone`.
    public static func day(of now: Date, in zone: TimeZone) -> String {
        let parts = calendar(zone).dateComponents([.year, .month, .day], from: now)
        return String(format: "%04d-%02d-%02d", parts.year ?? 1970, parts.month ?? 1, parts.day ?? 1)
    }

    /// When the quota day after `now` starts in `zone` (a local midnight, DST included).
    public static func nextDayStart(after now: Date, in zone: TimeZone) -> Date {
        let calendar = calendar(zone)
        let start = calendar.startOfDay(for: now)
        return calendar.date(byAdding: .day, value: 1, to: start) ?? now.addingTimeInterval(86_400)
    }

    private static func calendar(_ zone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar
    }

    static func secondsUntil(_ date: Date, from now: Date) -> Int {
        max(1, Int(date.timeIntervalSince(now).rounded(.up)))
    }

    /// Whether the license may chat now (its state, a chat quota), and where `model` goes.
    public static func route(model: String, license: License, now: Date) throws(ChatRefusal) -> (ChatQuota, ChatModelRoute) {
        if let code = AdmissionPolicy.stateRefusal(license, now: now) {
            throw ChatRefusal(code, status: 403, StreamStopSentence.licenseState(code).replacingOccurrences(of: "stream", with: "chat"))
        }
        guard let quota = license.chat else {
            throw ChatRefusal(.chatNotEnabled, status: 403, "This license has no chat quota.")
        }
        guard let route = quota.models[model] else {
            throw ChatRefusal(
                .modelNotAllowed, status: 404,
                "The model '\(model)' is not available to this license. GET /v1/models lists the models it may use.")
        }
        return (quota, route)
    }

    /// Whether the request may start, and what it holds: checked in order (license state,
    /// chat enabled, model, per-minute, per-day requests, tokens). The reservation is what the
    /// request could at most use, cut to what the license has left; the upstream is then asked
    /// for no more than that.
    public static func reserve(
        _ request: ChatReservationRequest, license: License, usage: ChatUsageCounts, now: Date
    ) -> ChatReservationOutcome {
        let quota: ChatQuota
        do {
            quota = try route(model: request.model, license: license, now: now).0
        } catch {
            return .refused(error)
        }
        let zone = quota.zone
        if let perMinute = quota.requestsPerMinute, usage.requestsLastMinute >= perMinute {
            let oldest = usage.oldestInLastMinute ?? now
            return .refused(ChatRefusal(
                .chatRateLimited, status: 429, "This license may send \(perMinute) chat requests per minute.",
                retryAfterSeconds: secondsUntil(oldest.addingTimeInterval(60), from: now)))
        }
        let nextDay = nextDayStart(after: now, in: zone)
        if let perDay = quota.requestsPerDay, usage.requestsToday >= perDay {
            return .refused(ChatRefusal(
                .chatDailyRequestsExhausted, status: 429,
                "This license's \(perDay) chat requests for today (\(quota.timeZone)) are used up.",
                retryAfterSeconds: secondsUntil(nextDay, from: now)))
        }
        let wanted = request.inputTokens + (request.requestedOutputTokens ?? request.defaultOutputTokens)
        let leftToday = quota.tokensPerDay.map { $0 - usage.tokensToday }
        let leftTotal = quota.tokensTotal.map { $0 - usage.tokensUsed }
        guard let left = [leftToday, leftTotal].compactMap({ $0 }).min() else {
            // No token limit: hold what the client asked for, and do not cap the answer.
            return .reserved(ChatReservation(
                id: request.id, day: day(of: now, in: zone), reservedTokens: request.inputTokens + (request.requestedOutputTokens ?? 0),
                maxOutputTokens: nil))
        }
        // The prompt alone must fit, with room for at least one token of answer.
        if left <= request.inputTokens {
            if let leftTotal, leftTotal <= request.inputTokens {
                return .refused(ChatRefusal(
                    .chatTokensExhausted, status: 403,
                    leftTotal <= 0 ? "This license's chat tokens are used up." : "This request needs more tokens than the license has left."))
            }
            return .refused(ChatRefusal(
                .chatDailyTokensExhausted, status: 429,
                (leftToday ?? 0) <= 0
                    ? "This license's chat tokens for today (\(quota.timeZone)) are used up."
                    : "This request needs more tokens than the license has left today.",
                retryAfterSeconds: secondsUntil(nextDay, from: now)))
        }
        let reserved = min(wanted, left)
        return .reserved(ChatReservation(
            id: request.id, day: day(of: now, in: zone), reservedTokens: reserved, maxOutputTokens: reserved - request.inputTokens))
    }

    /// The license's chat allowance as the edge and the client see it.
    public static func snapshot(_ quota: ChatQuota, usage: ChatUsageCounts, now: Date) -> ChatQuotaSnapshot {
        ChatQuotaSnapshot(
            day: day(of: now, in: quota.zone), timeZone: quota.timeZone, resetsAt: nextDayStart(after: now, in: quota.zone),
            models: quota.models.keys.sorted(), requestsToday: usage.requestsToday, requestsPerDay: quota.requestsPerDay,
            tokensToday: usage.tokensToday, tokensPerDay: quota.tokensPerDay, tokensUsed: usage.tokensUsed,
            tokensTotal: quota.tokensTotal, requestsPerMinute: quota.requestsPerMinute)
    }

    /// An over-estimate of a prompt's tokens from its text, for the reservation (the real count
    /// comes from the upstream): a token per three UTF-8 bytes (about one per CJK character,
    /// fewer than that in English) plus a few per message for the roles.
    public static func estimatedTokens(utf8Bytes: Int, messages: Int) -> Int64 {
        Int64((utf8Bytes + 2) / 3 + 4 * messages + 3)
    }
}
