import Crypto
import Foundation
import Protocol

/// A license key: a readable prefix and 160 bits of randomness, e.g. `TRIAL-7KQ2M-…`.
///
/// Central never stores a key: it keeps the SHA-256 hash (to look the key up) and a short
/// visible prefix (so an operator can tell keys apart). Keys are never logged.
public struct LicenseKey: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case trial = "TRIAL"
        case license = "LIC"
    }

    public let value: String

    public init(unchecked value: String) {
        self.value = value
    }

    static let alphabet = LicenseKeyFormat.alphabet
    static let groupSize = LicenseKeyFormat.groupSize
    static let randomCharacters = LicenseKeyFormat.groups * LicenseKeyFormat.groupSize // 32 × 5 bits = 160 bits

    /// A fresh key from the system's cryptographic random source.
    public static func generate(kind: Kind) -> LicenseKey {
        var generator = SystemRandomNumberGenerator()
        var characters: [Character] = []
        characters.reserveCapacity(randomCharacters)
        for _ in 0..<randomCharacters {
            characters.append(alphabet[Int(generator.next(upperBound: UInt8(alphabet.count)))])
        }
        let groups = stride(from: 0, to: characters.count, by: groupSize).map {
            String(characters[$0..<min($0 + groupSize, characters.count)])
        }
        return LicenseKey(unchecked: kind.rawValue + "-" + groups.joined(separator: "-"))
    }

    /// Whether `text` has the shape of a key this version issues. Checked before any lookup so
    /// garbage never reaches the store, and so the answer for garbage is `license_key_malformed`.
    public static func isWellFormed(_ text: String) -> Bool {
        LicenseKeyFormat.isWellFormed(text)
    }

    /// Hex SHA-256 of the key, the only form the store keeps.
    public var hash: String { Self.hash(value) }

    public static func hash(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The part an operator may see: kind and the first group, e.g. `TRIAL-7KQ2M4XA`.
    public var visiblePrefix: String {
        value.split(separator: "-").prefix(2).joined(separator: "-")
    }
}
