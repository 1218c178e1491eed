@testable import Central
import Foundation
import Logging

/// A live central's parts for relaying to one fake provider process: a fixture, the fake, a
/// vault holding the given keys under the provider's name, the provider, and every log line.
struct FakeProviderRig<Provider: SpeechProvider>: Sendable {
    let fixture: CentralFixture
    let fake: FakeProviderProcess
    let vault: ProviderKeyVault
    let provider: Provider
    let logs: LogRecorder

    /// The fake accepts `fakeKeys`; the vault holds `keys`; `make` builds the provider from the
    /// fake's URL, the vault and central's logger.
    static func start(
        _ executable: String, providerName: String, keys: [String], fakeKeys: [String], fakeArguments: [String] = [],
        make: (_ url: String, ProviderKeyVault, Logger) throws -> Provider
    ) async throws -> FakeProviderRig {
        let fixture = try CentralFixture(realTime: true)
        let fake = try FakeProviderProcess(executable, keys: fakeKeys, extraArguments: fakeArguments)
        let logs = LogRecorder()
        let logger = logs.logger(label: "central")
        let vault = ProviderKeyVault(
            store: fixture.store, cipher: try ProviderKeyCipher(masterKey: DashScopeProviderTests.masterKey), clock: SystemWallClock(),
            logger: logger)
        try await vault.importKeys(keys, provider: providerName, source: .environment)
        return FakeProviderRig(fixture: fixture, fake: fake, vault: vault, provider: try make(fake.url, vault, logger), logs: logs)
    }
}
