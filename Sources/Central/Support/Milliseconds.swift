import Foundation

/// Conversions between the store's integer epoch milliseconds and `Date`, and between
/// minutes, seconds and the milliseconds that all usage is kept in.
enum Milliseconds {
    static func from(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    static func date(_ ms: Int64) -> Date {
        Date(timeIntervalSince1970: Double(ms) / 1000)
    }

    static func fromMinutes(_ minutes: Double) -> Int64 {
        Int64((minutes * 60_000).rounded())
    }

    static func seconds(_ ms: Int64) -> Double {
        Double(ms) / 1000
    }

    static let perDay: Int64 = 86_400_000
}

/// A UTC calendar day, `YYYY-MM-DD`; usage is reported and daily caps are applied per UTC day.
struct UTCDay: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Days since 1970-01-01.
    let index: Int64

    init(index: Int64) { self.index = index }

    init(containing date: Date) {
        let ms = Milliseconds.from(date)
        self.index = ms >= 0 ? ms / Milliseconds.perDay : (ms - Milliseconds.perDay + 1) / Milliseconds.perDay
    }

    /// Parses `YYYY-MM-DD`; nil for anything else.
    init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let components = DateComponents(year: year, month: month, day: day)
        guard let date = calendar.date(from: components),
              calendar.component(.day, from: date) == day
        else { return nil }
        self.init(containing: date)
    }

    var start: Date { Milliseconds.date(index * Milliseconds.perDay) }
    var startMilliseconds: Int64 { index * Milliseconds.perDay }
    var next: UTCDay { UTCDay(index: index + 1) }

    /// `YYYY-MM-DD`, by integer arithmetic (Howard Hinnant's civil-from-days): this runs in
    /// every admission and debit, where a Calendar would cost more than the SQL.
    var description: String {
        let z = index + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    static func < (lhs: UTCDay, rhs: UTCDay) -> Bool { lhs.index < rhs.index }
}
