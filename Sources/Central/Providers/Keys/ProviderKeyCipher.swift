import Crypto
import Foundation

/// Encrypts provider keys at rest with AES-256-GCM under the master key
/// (PROVIDER_MASTER_KEY or PROVIDER_MASTER_KEY_FILE: 32 bytes, base64 or hex). Each ciphertext is
/// bound to its key id, so rows cannot be swapped.
public struct ProviderKeyCipher: Sendable {
    /// Raw bytes: `SymmetricKey` is not Sendable, so one is made per use.
    private let keyBytes: Data
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    public enum CipherError: Error, CustomStringConvertible {
        case badMasterKey
        case undecryptable(String)

        public var description: String {
            switch self {
            case .badMasterKey:
                "The provider master key must be 32 bytes, as base64 (44 characters) or hex (64 characters); make one with `openssl rand -base64 32`."
            case .undecryptable(let id):
                "Provider key \(id) cannot be decrypted: the master key is not the one it was stored with."
            }
        }
    }

    public init(masterKey text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let bytes: Data
        if trimmed.count == 64, let hex = Self.hex(trimmed) {
            bytes = hex
        } else if let base64 = Data(base64Encoded: trimmed) {
            bytes = base64
        } else {
            throw CipherError.badMasterKey
        }
        guard bytes.count == 32 else { throw CipherError.badMasterKey }
        keyBytes = bytes
    }

    public func seal(_ secret: String, id: String) throws -> Data {
        guard let combined = try AES.GCM.seal(Data(secret.utf8), using: key, authenticating: Data(id.utf8)).combined else {
            throw CipherError.undecryptable(id)
        }
        return combined
    }

    public func open(_ ciphertext: Data, id: String) throws -> String {
        do {
            let box = try AES.GCM.SealedBox(combined: ciphertext)
            return String(decoding: try AES.GCM.open(box, using: key, authenticating: Data(id.utf8)), as: UTF8.self)
        } catch {
            throw CipherError.undecryptable(id)
        }
    }

    static func fingerprint(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    private static func hex(_ text: String) -> Data? {
        var data = Data(capacity: text.count / 2)
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            data.append(byte)
            index = next
        }
        return data
    }
}
