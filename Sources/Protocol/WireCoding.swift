import Foundation

/// JSON coders with the wire's conventions: ISO 8601 dates with milliseconds, sorted keys.
public enum WireCoding {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(formatTimestamp(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parseTimestamp(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "expected an ISO 8601 timestamp, got \(text)")
            }
            return date
        }
        return decoder
    }

    private static let fractionalStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
    private static let wholeSecondStyle = Date.ISO8601FormatStyle(timeZone: .gmt)

    /// `2026-11-24T10:15:30.123Z`
    public static func formatTimestamp(_ date: Date) -> String {
        // Formatted from whole milliseconds: the formatter truncates, and x.123 is stored as x.1229999….
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let whole = Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(wholeSecondStyle)
        let fraction = String(format: ".%03lld", ms - seconds * 1000)
        return whole.dropLast() + fraction + "Z"
    }

    /// Accepts timestamps with or without fractional seconds, and plain `YYYY-MM-DD` dates (midnight UTC).
    public static func parseTimestamp(_ text: String) -> Date? {
        let parsed = (try? fractionalStyle.parse(text)) ?? (try? wholeSecondStyle.parse(text))
            ?? (text.count == 10 ? try? wholeSecondStyle.parse(text + "T00:00:00Z") : nil)
        // Canonical to the millisecond, so a timestamp decodes to the same Date it was encoded from.
        return parsed.map { Date(timeIntervalSince1970: ($0.timeIntervalSince1970 * 1000).rounded() / 1000) }
    }
}
