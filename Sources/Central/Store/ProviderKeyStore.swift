import Foundation
import Protocol

/// Provider keys (secrets only as ciphertext) and their health.
public protocol ProviderKeyStore: Sendable {
    func insertProviderKey(_ key: ProviderKeyRecord) async throws
    func providerKeys() async throws -> [ProviderKeyRecord]
    func setProviderKeyStatus(id: String, status: ProviderKeyRecord.Status) async throws -> Bool
    func deleteProviderKey(id: String) async throws -> Bool
    func recordProviderKeyOutcome(id: String, outcome: ProviderKeyOutcome, now: Date) async throws
}
