@testable import Central
import Foundation
import Testing

/// `ProviderKeyStore`: provider keys and their health, as every store must keep them.
@Suite(.bounded, .postgresTestScope) struct ProviderKeyStoreConformanceTests {
    func key(_ id: String, provider: String = "dashscope", fingerprint: String? = nil, at seconds: TimeInterval = 0) -> ProviderKeyRecord {
        ProviderKeyRecord(
            id: id, provider: provider, label: "label \(id)", ciphertext: Data([0, 1, 2, 0xFF] + Array(id.utf8)),
            fingerprint: fingerprint ?? "fp-\(id)", hint: "…\(id.suffix(4))", source: .admin, status: .active,
            createdAt: TestLicense.epoch.addingTimeInterval(seconds))
    }

    @Test(arguments: StoreFactory.all)
    func keysListByProviderThenAgeAndReadBackAsInserted(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let later = key("key_b", at: 10)
        var fromEnvironment = key("key_a", at: 20)
        fromEnvironment.source = .environment
        fromEnvironment.label = nil
        let other = key("key_c", provider: "another", at: 30)
        for record in [later, fromEnvironment, other] { try await s.store.insertProviderKey(record) }
        #expect(try await s.store.providerKeys() == [other, later, fromEnvironment])

        // One secret is stored once per provider.
        await #expect(throws: (any Error).self) {
            try await s.store.insertProviderKey(key("key_d", fingerprint: "fp-key_b"))
        }
        try await s.store.insertProviderKey(key("key_e", provider: "another", fingerprint: "fp-key_b", at: 40))
        #expect(try await s.store.providerKeys().count == 4)
    }

    @Test(arguments: StoreFactory.all)
    func statusAndDeletionAnswerWhetherTheKeyExisted(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        try await s.store.insertProviderKey(key("key_a"))
        #expect(try await s.store.setProviderKeyStatus(id: "key_a", status: .disabled))
        #expect(try await s.store.providerKeys().first?.status == .disabled)
        #expect(try await s.store.setProviderKeyStatus(id: "key_a", status: .active))
        #expect(try await s.store.providerKeys().first?.status == .active)
        #expect(try await s.store.setProviderKeyStatus(id: "key_unknown", status: .disabled) == false)
        #expect(try await s.store.deleteProviderKey(id: "key_a"))
        #expect(try await s.store.deleteProviderKey(id: "key_a") == false)
        #expect(try await s.store.providerKeys().isEmpty)
    }

    @Test(arguments: StoreFactory.all)
    func outcomesAddUpPerKey(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        try await s.store.insertProviderKey(key("key_a"))
        try await s.store.insertProviderKey(key("key_b"))
        let first = s.now
        try await s.store.recordProviderKeyOutcome(id: "key_a", outcome: .used(audioMs: 1_200), now: first)
        s.clock.advance(by: 5)
        try await s.store.recordProviderKeyOutcome(id: "key_a", outcome: .used(audioMs: 800), now: s.now)
        try await s.store.recordProviderKeyOutcome(id: "key_a", outcome: .authFailed("401 invalid key"), now: s.now)
        try await s.store.recordProviderKeyOutcome(id: "key_a", outcome: .rateLimited("429 slow down"), now: s.now)
        try await s.store.recordProviderKeyOutcome(id: "key_a", outcome: .rateLimited("429 again"), now: s.now)
        s.clock.advance(by: 5)
        try await s.store.recordProviderKeyOutcome(id: "key_a", outcome: .failed(String(repeating: "x", count: 2_000)), now: s.now)
        // Unknown keys are ignored.
        try await s.store.recordProviderKeyOutcome(id: "key_unknown", outcome: .used(audioMs: 5), now: s.now)

        let keys = try await s.store.providerKeys()
        let stats = try #require(keys.first { $0.id == "key_a" }).stats
        #expect(stats.tasks == 2 && stats.audioMs == 2_000 && stats.lastUsedAt == first.addingTimeInterval(5))
        #expect(stats.authFailures == 1 && stats.rateLimited == 2 && stats.otherFailures == 1)
        // The last error is kept, bounded.
        #expect(stats.lastError == String(repeating: "x", count: 500) && stats.lastErrorAt == s.now)
        #expect(try #require(keys.first { $0.id == "key_b" }).stats == ProviderKeyStats())
    }
}
