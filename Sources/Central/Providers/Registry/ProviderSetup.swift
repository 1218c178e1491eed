import Foundation
import Logging

/// Assembles the speech providers and their key vault from the configuration.
public enum ProviderSetup {
    public enum SetupError: Error, CustomStringConvertible {
        case masterKeyRequired
        case noKeys(provider: String, variablePrefix: String)

        public var description: String {
            switch self {
            case .masterKeyRequired:
                "Provider keys are stored encrypted: set PROVIDER_MASTER_KEY or PROVIDER_MASTER_KEY_FILE (32 bytes, e.g. `openssl rand -base64 32`)."
            case .noKeys(let provider, let prefix):
                "The speech provider \(provider) needs a key: set \(prefix)_API_KEYS or \(prefix)_API_KEY_FILE, or add one with POST /v1/admin/provider-keys."
            }
        }
    }

    /// What `central serve` runs: the providers, in order, and the vault their keys come from.
    public struct Assembly: Sendable {
        public let providers: ProviderRegistry
        public let vault: ProviderKeyVault

        /// The default provider.
        public var provider: any SpeechProvider { providers.first }
    }

    /// Opens the vault (importing keys from the environment and files), then builds the
    /// providers SPEECH_PROVIDERS (or SPEECH_PROVIDER) names; unset, every provider that has
    /// keys, otherwise the demo.
    public static func make(
        configuration: CentralConfiguration, store: any CentralStore, clock: any WallClock, logger: Logger
    ) async throws -> Assembly {
        let settings = configuration.providers
        let configured = settings.environmentKeys.values.joined().count + settings.fileKeys.values.joined().count
        guard configured == 0 || configuration.providerMasterKey != nil else { throw SetupError.masterKeyRequired }
        let cipher = try configuration.providerMasterKey.map { try ProviderKeyCipher(masterKey: $0) }
        let vault = ProviderKeyVault(store: store, cipher: cipher, clock: clock, logger: logger)
        do {
            try await vault.load()
        } catch ProviderKeyVault.VaultError.masterKeyMissing {
            throw SetupError.masterKeyRequired
        }
        var withKeys: [String] = []
        for (name, _) in settings.keyedServices {
            await vault.setCapacity(provider: name, tasksPerKey: settings.maxTasksPerKey[name])
            try await vault.importKeys(settings.environmentKeys[name] ?? [], provider: name, source: .environment)
            try await vault.importKeys(settings.fileKeys[name] ?? [], provider: name, source: .file)
            if await vault.hasKeys(provider: name), ProviderKind.named(name) != nil { withKeys.append(name) }
        }
        let translator = settings.translation.enabled
            ? ChatCompletionsTranslator(settings: settings.translation, keys: vault, logger: logger) : nil
        if translator != nil {
            let hasKeys = await vault.hasKeys(provider: TranslationSettings.keyProvider)
            logger.info("LLM translation", metadata: [
                "model": "\(settings.translation.model)", "targets": "\(settings.translation.targets.joined(separator: ","))",
                "keys": "\(hasKeys)",
            ])
            // Without a key every translation is sent marked failed until one is added.
            if !hasKeys { logger.warning("\(SetupError.noKeys(provider: TranslationSettings.keyProvider, variablePrefix: "TRANSLATION"))") }
        }
        let names = settings.enabled ?? (withKeys.isEmpty ? [DemoSpeechProvider.name] : withKeys)
        var providers: [any SpeechProvider] = []
        for name in names {
            guard let kind = ProviderKind.named(name) else { continue }
            // With no key yet, its sessions are refused with provider_unavailable until one is added.
            if let prefix = kind.keyVariablePrefix, !withKeys.contains(name) {
                logger.warning("\(SetupError.noKeys(provider: name, variablePrefix: prefix))")
            }
            var provider = kind.make(settings, vault, logger)
            // Providers with keys are real services; the LLM adds the targets they lack.
            if let translator, kind.takesKeys {
                provider = TranslatingSpeechProvider(provider, translator: translator, targets: settings.translation.targets)
            }
            providers.append(provider)
            logger.info("speech provider", metadata: [
                "provider": "\(provider.info.name)", "model": "\(provider.info.model ?? "-")", "order": "\(providers.count)",
            ])
        }
        guard let first = providers.first else {
            // Configuration parsing only lets known names through; a hand-built configuration may not.
            throw CentralConfiguration.ConfigurationError.invalid(
                name: "SPEECH_PROVIDERS", value: names.joined(separator: ","), expected: ProviderKind.names.joined(separator: ", "))
        }
        return Assembly(providers: try ProviderRegistry(first, Array(providers.dropFirst())), vault: vault)
    }
}
