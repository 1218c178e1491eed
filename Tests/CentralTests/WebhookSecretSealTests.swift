@testable import Central
import Foundation
import Testing

/// Webhook secrets at rest: sealed under the master key and bound to their endpoint, or kept as
/// given without one; plain secrets from before a master key are sealed once.
@Suite(.bounded) struct WebhookSecretSealTests {
    func makeCipher(_ byte: String = "cd") throws -> ProviderKeyCipher {
        try ProviderKeyCipher(masterKey: String(repeating: byte, count: 32))
    }

    @Test func aSealedSecretOpensOnlyWithItsKeyAndItsEndpoint() throws {
        let cipher = try makeCipher()
        let seal = WebhookSecretSeal(cipher: cipher)
        let stored = try seal.stored("whsec_0123456789abcdef", endpointID: "wh_1")
        #expect(stored.hasPrefix("sealed:v1:") && !stored.contains("0123456789abcdef"))
        #expect(try seal.secret(stored, endpointID: "wh_1") == "whsec_0123456789abcdef")
        #expect(try seal.stored("whsec_0123456789abcdef", endpointID: "wh_1") != stored, "a fresh nonce each time")
        #expect(throws: WebhookSecretSeal.SealError.undecryptable) { try seal.secret(stored, endpointID: "wh_2") }
        let otherKey = WebhookSecretSeal(cipher: try makeCipher("ef"))
        #expect(throws: WebhookSecretSeal.SealError.undecryptable) { try otherKey.secret(stored, endpointID: "wh_1") }
        #expect(throws: WebhookSecretSeal.SealError.masterKeyMissing) {
            try WebhookSecretSeal(cipher: nil).secret(stored, endpointID: "wh_1")
        }
        #expect(throws: WebhookSecretSeal.SealError.undecryptable) { try seal.secret("sealed:v1:not base64!", endpointID: "wh_1") }
        // A sealed secret does not pass for a provider key with the same id.
        #expect(throws: (any Error).self) {
            try cipher.open(Data(base64Encoded: String(stored.dropFirst("sealed:v1:".count))) ?? Data(), id: "wh_1")
        }
    }

    @Test func withoutAMasterKeyTheSecretIsKeptAsGiven() throws {
        let seal = WebhookSecretSeal(cipher: nil)
        #expect(try seal.stored("whsec_plain_secret_1", endpointID: "wh_1") == "whsec_plain_secret_1")
        #expect(try seal.secret("whsec_plain_secret_1", endpointID: "wh_1") == "whsec_plain_secret_1")
        // A plain secret still opens once a master key is configured.
        #expect(try WebhookSecretSeal(cipher: try makeCipher()).secret("whsec_plain_secret_1", endpointID: "wh_1") == "whsec_plain_secret_1")
    }

    @Test func plainSecretsAreSealedOnceWhenAMasterKeyArrives() async throws {
        let fixture = try CentralFixture()
        for id in ["wh_a", "wh_b"] {
            try await fixture.store.insertWebhookEndpoint(
                WebhookEndpoint(
                    id: id, url: "http://127.0.0.1:9/hook", storedSecret: "whsec_\(id)_0123456789", events: [.revoked],
                    enabled: true, description: "", createdAt: fixture.clock.now()),
                actor: AdminOperator(name: "test", ip: nil))
        }
        #expect(try await WebhookSecretSeal(cipher: nil).sealPlainSecrets(in: fixture.store) == 0)
        let seal = WebhookSecretSeal(cipher: try makeCipher())
        // Two instances starting together: each endpoint is sealed exactly once.
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for store in [fixture.store, try fixture.secondStore()] as [any CentralStore] {
                group.addTask { try await seal.sealPlainSecrets(in: store) }
            }
            return try await group.reduce(0, +)
        }
        #expect(counts == 2)
        #expect(try await seal.sealPlainSecrets(in: fixture.store) == 0)
        for endpoint in try await fixture.store.webhookEndpoints() {
            #expect(WebhookSecretSeal.isSealed(endpoint.storedSecret))
            #expect(try seal.secret(endpoint.storedSecret, endpointID: endpoint.id) == "whsec_\(endpoint.id)_0123456789")
        }
    }
}
