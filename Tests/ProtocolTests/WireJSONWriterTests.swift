import Foundation
import Protocol
import Testing

/// The hand-written `ack`/`quota` JSON must be the encoder's, byte for byte.
@Suite(.bounded) struct WireJSONWriterTests {
    static let encoder = WireCoding.encoder()

    private static func viaEncoder(_ message: ControlMessage) throws -> String {
        String(decoding: try encoder.encode(message), as: UTF8.self)
    }

    @Test func randomQuotaMessagesMatchTheEncoder() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            func seconds() -> Double { Double(Int64.random(in: 0...10_000_000_000, using: &generator)) / 1000 }
            func date() -> Date? {
                Bool.random(using: &generator)
                    ? Date(timeIntervalSince1970: Double(Int64.random(in: -2_000_000_000_000...250_000_000_000_000, using: &generator)) / 1000)
                    : nil
            }
            let quota = QuotaSnapshot(
                status: LicenseStatus.allCases.randomElement(using: &generator) ?? .active,
                startsAt: date(), expiresAt: date(), secondsUsed: seconds(), secondsLimit: seconds(),
                secondsRemaining: seconds(), sessionsUsed: Int.random(in: 0...1_000_000, using: &generator),
                sessionsLimit: Bool.random(using: &generator) ? Int.random(in: 0...100, using: &generator) : nil,
                sessionsRemaining: Bool.random(using: &generator) ? Int.random(in: 0...100, using: &generator) : nil,
                dailyLimitSeconds: Bool.random(using: &generator) ? seconds() : nil,
                dailyRemainingSeconds: Bool.random(using: &generator) ? seconds() : nil,
                concurrentInUse: Int.random(in: 0...50, using: &generator),
                concurrentLimit: Int.random(in: 0...50, using: &generator),
                blockedBy: Bool.random(using: &generator) ? .minutesExhausted : nil,
                chat: Bool.random(using: &generator) ? Self.randomChat(using: &generator) : nil)
            let provider: ProviderInfo? = Bool.random(using: &generator)
                ? ProviderInfo(name: "dash\"scope\n\u{1}", model: Bool.random(using: &generator) ? "gummy-realtime-v1" : nil, demo: Bool.random(using: &generator))
                : nil
            let message = ControlMessage.quota(QuotaMessage(
                quota: quota, warning: QuotaWarning.allCases.randomElement(using: &generator) ?? .none,
                sessionBilledMs: Bool.random(using: &generator) ? Int64.random(in: 0...Int64(1) << 40, using: &generator) : nil,
                provider: provider))
            #expect(message.encodedText() == (try Self.viaEncoder(message)))
        }
    }

    private static func randomChat(using generator: inout SystemRandomNumberGenerator) -> ChatQuotaSnapshot {
        func limit() -> Int64? { Bool.random(using: &generator) ? Int64.random(in: 0...Int64(1) << 40, using: &generator) : nil }
        let models = ["deepseek-chat", "qwen-\"plus\"", "模型\u{7}"].filter { _ in Bool.random(using: &generator) }
        return ChatQuotaSnapshot(
            day: "2026-12-03", timeZone: Bool.random(using: &generator) ? "UTC" : "Asia/Shanghai",
            resetsAt: Date(timeIntervalSince1970: Double(Int64.random(in: 0...4_000_000_000_000, using: &generator)) / 1000),
            models: models, requestsToday: Int.random(in: 0...1_000_000, using: &generator),
            requestsPerDay: Bool.random(using: &generator) ? Int.random(in: 0...10_000, using: &generator) : nil,
            tokensToday: Int64.random(in: 0...Int64(1) << 40, using: &generator), tokensPerDay: limit(),
            tokensUsed: Int64.random(in: 0...Int64(1) << 40, using: &generator), tokensTotal: limit(),
            requestsPerMinute: Bool.random(using: &generator) ? Int.random(in: 0...600, using: &generator) : nil)
    }

    @Test func acksMatchTheEncoder() throws {
        for (sequence, billed) in [(UInt32(0), Int64(0)), (.max, .max), (12_345, 61_020)] {
            let message = ControlMessage.ack(AckMessage(lastSequence: sequence, billedMs: billed))
            #expect(message.encodedText() == (try Self.viaEncoder(message)))
        }
    }

    /// Whole seconds from Foundation's formatter, milliseconds rounded (what the wire always sent).
    @Test func timestampsMatchTheFormatter() {
        let style = Date.ISO8601FormatStyle(timeZone: .gmt)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let ms = Int64.random(in: -62_000_000_000_000...253_000_000_000_000, using: &generator)
            let date = Date(timeIntervalSince1970: Double(ms) / 1000)
            let rounded = Int64((date.timeIntervalSince1970 * 1000).rounded())
            let seconds = rounded >= 0 ? rounded / 1000 : (rounded - 999) / 1000
            let expected = Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(style).dropLast()
                + String(format: ".%03lld", rounded - seconds * 1000) + "Z"
            #expect(WireCoding.formatTimestamp(date) == expected, "\(ms)")
        }
    }
}
