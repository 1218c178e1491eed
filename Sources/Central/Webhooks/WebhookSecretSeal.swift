import Foundation

/// How a webhook secret is kept in the database. With a provider master key
/// (PROVIDER_MASTER_KEY) it is sealed with AES-256-GCM, bound to its endpoint's id, like provider
/// keys; without one it is kept as given (central must be able to sign with it). Secrets stored
/// before a master key was configured are sealed at the next start.
public struct WebhookSecretSeal: Sendable {
    static let prefix = "sealed:v1:"
    let cipher: ProviderKeyCipher?

    public enum SealError: Error, Equatable, CustomStringConvertible {
        case masterKeyMissing
        case undecryptable

        public var description: String {
            switch self {
            case .masterKeyMissing: "the webhook secret is sealed and central has no master key"
            case .undecryptable: "the webhook secret does not open with this master key"
            }
        }
    }

    public init(cipher: ProviderKeyCipher?) {
        self.cipher = cipher
    }

    static func isSealed(_ stored: String) -> Bool { stored.hasPrefix(prefix) }

    /// The form to store: sealed when there is a master key.
    func stored(_ secret: String, endpointID: String) throws -> String {
        guard let cipher else { return secret }
        return Self.prefix + (try cipher.seal(secret, id: Self.associatedID(endpointID))).base64EncodedString()
    }

    /// The secret to sign with, from its stored form.
    func secret(_ stored: String, endpointID: String) throws -> String {
        guard Self.isSealed(stored) else { return stored }
        guard let cipher else { throw SealError.masterKeyMissing }
        guard let sealed = Data(base64Encoded: String(stored.dropFirst(Self.prefix.count))),
              let secret = try? cipher.open(sealed, id: Self.associatedID(endpointID))
        else { throw SealError.undecryptable }
        return secret
    }

    /// Seals every secret still stored as given (from before the master key was configured).
    /// Returns how many; several instances doing it at once is harmless (each swap is conditional).
    @discardableResult
    func sealPlainSecrets(in store: any WebhookStore) async throws -> Int {
        guard cipher != nil else { return 0 }
        var sealed = 0
        for endpoint in try await store.webhookEndpoints() where !Self.isSealed(endpoint.storedSecret) {
            let replacement = try stored(endpoint.storedSecret, endpointID: endpoint.id)
            if try await store.replaceWebhookSecret(id: endpoint.id, from: endpoint.storedSecret, to: replacement) { sealed += 1 }
        }
        return sealed
    }

    /// Distinct from provider key ids: a sealed webhook secret cannot pass for a provider key.
    private static func associatedID(_ endpointID: String) -> String { "webhook:\(endpointID)" }
}
