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

    var description: String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let c = calendar.dateComponents([.year, .month, .day], from: start)
        let year = c.year ?? 1970, month = c.month ?? 1, day = c.day ?? 1
        return String(format: "%04d-%02d-%02d", year, month, day)
    }

    static func < (lhs: UTCDay, rhs: UTCDay) -> Bool { lhs.index < rhs.index }
}
