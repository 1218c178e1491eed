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
        // Formatted from whole milliseconds: a formatter truncates, and x.123 is stored as x.1229999….
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let millisecond = Int(ms - seconds * 1000)
        var days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        // Civil date from days since 1970-01-01 (H. Hinnant's algorithm): plain arithmetic, as
        // quota pushes format their dates several thousand times a second.
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        let year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        // Outside the years central deals in, the formatter (whose calendar is Julian before 1582).
        guard (1970...9999).contains(year) else {
            let whole = Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(wholeSecondStyle)
            return whole.dropLast() + String(format: ".%03d", millisecond) + "Z"
        }
        var text = ""
        text.reserveCapacity(24)
        appendDigits(year, width: 4, to: &text)
        text.append("-")
        appendDigits(month, width: 2, to: &text)
        text.append("-")
        appendDigits(day, width: 2, to: &text)
        text.append("T")
        appendDigits(secondOfDay / 3600, width: 2, to: &text)
        text.append(":")
        appendDigits(secondOfDay / 60 % 60, width: 2, to: &text)
        text.append(":")
        appendDigits(secondOfDay % 60, width: 2, to: &text)
        text.append(".")
        appendDigits(millisecond, width: 3, to: &text)
        text.append("Z")
        return text
    }

    private static func appendDigits(_ value: Int, width: Int, to text: inout String) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            text.unicodeScalars.append(Unicode.Scalar(UInt8(48 + rest / divisor)))
            rest %= divisor
            divisor /= 10
        }
    }

    /// Accepts timestamps with or without fractional seconds, and plain `YYYY-MM-DD` dates (midnight UTC).
    public static func parseTimestamp(_ text: String) -> Date? {
        let parsed = (try? fractionalStyle.parse(text)) ?? (try? wholeSecondStyle.parse(text))
            ?? (text.count == 10 ? try? wholeSecondStyle.parse(text + "T00:00:00Z") : nil)
        // Canonical to the millisecond, so a timestamp decodes to the same Date it was encoded from.
        return parsed.map { Date(timeIntervalSince1970: ($0.timeIntervalSince1970 * 1000).rounded() / 1000) }
    }
}
