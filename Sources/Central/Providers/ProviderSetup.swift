import Foundation
import Logging

/// Chooses and assembles the speech provider and its key vault from the configuration.
public enum ProviderSetup {
    public enum SetupError: Error, CustomStringConvertible {
        case masterKeyRequired
        case noDashScopeKeys

        public var description: String {
            switch self {
            case .masterKeyRequired:
                "Provider keys are stored encrypted: set PROVIDER_MASTER_KEY or PROVIDER_MASTER_KEY_FILE (32 bytes, e.g. `openssl rand -base64 32`)."
            case .noDashScopeKeys:
                "SPEECH_PROVIDER=dashscope needs a key: set DASHSCOPE_API_KEYS or DASHSCOPE_API_KEY_FILE, or add one with POST /v1/admin/provider-keys."
            }
        }
    }

    /// Opens the vault (importing keys from the environment and files), then picks the provider:
    /// SPEECH_PROVIDER when set, otherwise DashScope if it has keys, otherwise the demo.
    public static func make(
        configuration: CentralConfiguration, store: any CentralStore, clock: any WallClock, logger: Logger
    ) async throws -> (provider: any SpeechProvider, vault: ProviderKeyVault) {
        let configured = configuration.dashScopeKeys + configuration.dashScopeKeysFromFile
        guard configured.isEmpty || configuration.providerMasterKey != nil else { throw SetupError.masterKeyRequired }
        let cipher = try configuration.providerMasterKey.map { try ProviderKeyCipher(masterKey: $0) }
        let vault = ProviderKeyVault(store: store, cipher: cipher, clock: clock, logger: logger)
        do {
            try await vault.load()
        } catch ProviderKeyVault.VaultError.masterKeyMissing {
            throw SetupError.masterKeyRequired
        }
        let name = DashScopeSpeechProvider.name
        try await vault.importKeys(configuration.dashScopeKeys, provider: name, source: .environment)
        try await vault.importKeys(configuration.dashScopeKeysFromFile, provider: name, source: .file)
        let hasKeys = await vault.hasKeys(provider: name)
        let choice = configuration.speechProvider ?? (hasKeys ? "dashscope" : "demo")
        let provider: any SpeechProvider
        switch choice {
        case "null":
            provider = NullSpeechProvider()
        case "dashscope":
            // With no key yet, sessions are refused with provider_unavailable until one is added.
            if !hasKeys { logger.warning("\(SetupError.noDashScopeKeys)") }
            provider = DashScopeSpeechProvider(settings: configuration.dashScope, keys: vault, logger: logger)
        default:
            provider = DemoSpeechProvider()
        }
        logger.info("speech provider", metadata: ["provider": "\(provider.info.name)", "model": "\(provider.info.model ?? "-")"])
        return (provider, vault)
    }
}
