import Foundation

/// Identifiers and secrets from the system's random source: a prefix and 64-bit words in hex.
enum RandomIdentifier {
    static func make(prefix: String, words: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return prefix + (0..<words).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
    }
}
