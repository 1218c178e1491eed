import Foundation

/// Usage per day per license, derived from the ledger: speech on UTC days, chat on the
/// license's quota days (its chat time zone).
public struct UsageRow: Sendable, Equatable, Codable {
    public var day: String
    public var licenseID: String
    public var customerName: String
    public var usedMs: Int64
    public var sessionsStarted: Int
    public var debits: Int
    public var chatRequests: Int64 = 0
    public var chatInputTokens: Int64 = 0
    public var chatOutputTokens: Int64 = 0

    public var secondsUsed: Double { Milliseconds.seconds(usedMs) }

    enum CodingKeys: String, CodingKey {
        case day
        case licenseID = "license_id"
        case customerName = "customer_name"
        case usedMs = "used_ms"
        case secondsUsed = "seconds_used"
        case sessionsStarted = "sessions_started"
        case debits
        case chatRequests = "chat_requests"
        case chatInputTokens = "chat_input_tokens"
        case chatOutputTokens = "chat_output_tokens"
    }

    public init(
        day: String, licenseID: String, customerName: String, usedMs: Int64, sessionsStarted: Int, debits: Int,
        chatRequests: Int64 = 0, chatInputTokens: Int64 = 0, chatOutputTokens: Int64 = 0
    ) {
        self.day = day
        self.licenseID = licenseID
        self.customerName = customerName
        self.usedMs = usedMs
        self.sessionsStarted = sessionsStarted
        self.debits = debits
        self.chatRequests = chatRequests
        self.chatInputTokens = chatInputTokens
        self.chatOutputTokens = chatOutputTokens
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        day = try c.decode(String.self, forKey: .day)
        licenseID = try c.decode(String.self, forKey: .licenseID)
        customerName = try c.decode(String.self, forKey: .customerName)
        usedMs = try c.decode(Int64.self, forKey: .usedMs)
        sessionsStarted = try c.decode(Int.self, forKey: .sessionsStarted)
        debits = try c.decode(Int.self, forKey: .debits)
        chatRequests = try c.decodeIfPresent(Int64.self, forKey: .chatRequests) ?? 0
        chatInputTokens = try c.decodeIfPresent(Int64.self, forKey: .chatInputTokens) ?? 0
        chatOutputTokens = try c.decodeIfPresent(Int64.self, forKey: .chatOutputTokens) ?? 0
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(day, forKey: .day)
        try c.encode(licenseID, forKey: .licenseID)
        try c.encode(customerName, forKey: .customerName)
        try c.encode(usedMs, forKey: .usedMs)
        try c.encode(secondsUsed, forKey: .secondsUsed)
        try c.encode(sessionsStarted, forKey: .sessionsStarted)
        try c.encode(debits, forKey: .debits)
        try c.encode(chatRequests, forKey: .chatRequests)
        try c.encode(chatInputTokens, forKey: .chatInputTokens)
        try c.encode(chatOutputTokens, forKey: .chatOutputTokens)
    }
}

public struct UsageQuery: Sendable, Equatable {
    /// Inclusive UTC day range, `YYYY-MM-DD`.
    public var from: String?
    public var to: String?
    public var licenseID: String?

    public init(from: String? = nil, to: String? = nil, licenseID: String? = nil) {
        self.from = from
        self.to = to
        self.licenseID = licenseID
    }
}

public struct UsageReport: Sendable, Equatable, Codable {
    public var rows: [UsageRow]
    public var totalMs: Int64 { rows.reduce(0) { $0 + $1.usedMs } }

    public init(rows: [UsageRow]) {
        self.rows = rows
    }

    enum CodingKeys: String, CodingKey {
        case rows
        case totalMs = "total_ms"
        case totalSeconds = "total_seconds"
    }

    public init(from decoder: any Decoder) throws {
        rows = try decoder.container(keyedBy: CodingKeys.self).decode([UsageRow].self, forKey: .rows)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rows, forKey: .rows)
        try c.encode(totalMs, forKey: .totalMs)
        try c.encode(Milliseconds.seconds(totalMs), forKey: .totalSeconds)
    }

    /// RFC 4180 CSV with a header row; seconds keep millisecond precision.
    public var csv: String {
        var lines = ["day,license_id,customer_name,seconds_used,sessions_started,debits,chat_requests,chat_input_tokens,chat_output_tokens"]
        for row in rows {
            lines.append([
                row.day, row.licenseID, CSV.field(row.customerName),
                String(format: "%.3f", row.secondsUsed), String(row.sessionsStarted), String(row.debits),
                String(row.chatRequests), String(row.chatInputTokens), String(row.chatOutputTokens),
            ].joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}

enum CSV {
    /// One RFC 4180 cell that no spreadsheet runs as a formula. Read as Unicode scalars, not
    /// Characters: "\r\n" is a single Character in Swift, so a Character test misses a leading
    /// CR and never sees a lone CR or LF.
    static func field(_ text: String) -> String {
        var value = text
        // =, +, -, @, tab and CR (and the full-width =, +, -, @ some spreadsheets also accept)
        // start a formula: prefix a quote so the cell stays text (OWASP "CSV injection").
        if let first = value.unicodeScalars.first, formulaStarts.contains(first) { value = "'" + value }
        guard value.unicodeScalars.contains(where: { needsQuoting.contains($0) }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r", "\u{FF1D}", "\u{FF0B}", "\u{FF0D}", "\u{FF20}"]
    private static let needsQuoting: Set<Unicode.Scalar> = [",", "\"", "\r", "\n"]
}
