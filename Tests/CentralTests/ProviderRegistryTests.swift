@testable import Central
import Foundation
import GRDB
import Logging
import Protocol
import Testing

/// Several providers in one central: the registry's choice (the license's or plan's provider,
/// else the first that serves the pair), the catalog as their union, and the configuration.
@Suite(.bounded, .serialized) struct ProviderRegistryTests {
    /// A provider that only publishes a catalog.
    struct CatalogProvider: SpeechProvider {
        let name: String
        let languages: [LanguageCatalog.SourceLanguage]

        var info: ProviderInfo { ProviderInfo(name: name, model: "\(name)-model", demo: false) }
        var catalog: LanguageCatalog { LanguageCatalog(provider: info, languages: languages) }

        func openSession(_ configuration: ProviderSessionConfiguration) async throws -> any SpeechProviderSession {
            throw ProviderError(.providerUnavailable, "catalog only")
        }
    }

    static let first = CatalogProvider(name: "first", languages: [
        .init(source: "en", targets: ["zh"], transcription: true),
        .init(source: "zh", targets: ["en"], transcription: false),
    ])
    static let second = CatalogProvider(name: "second", languages: [
        .init(source: "en", targets: ["ja", "zh"], transcription: true),
        .init(source: "zh", targets: [], transcription: true),
        .init(source: "fr", targets: ["en"], transcription: false),
    ])

    static func registry() throws -> ProviderRegistry {
        try ProviderRegistry(first, [second])
    }

    @Test func theCatalogIsTheUnionAndEachPairNamesItsProvider() throws {
        let catalog = try Self.registry().catalog(for: nil)
        #expect(catalog.provider == Self.first.info)
        #expect(catalog.providers == [Self.first.info, Self.second.info])
        #expect(catalog.languages == [
            .init(source: "en", targets: ["zh", "ja"], transcription: true, transcriptionProvider: "first",
                  targetProviders: ["zh": "first", "ja": "second"]),
            .init(source: "zh", targets: ["en"], transcription: true, transcriptionProvider: "second",
                  targetProviders: ["en": "first"]),
            .init(source: "fr", targets: ["en"], transcription: false, targetProviders: ["en": "second"]),
        ])
        #expect(catalog.supports(source: "en", target: "ja") && catalog.supports(source: "zh", target: nil))
        #expect(!catalog.supports(source: "fr", target: nil))
        // On the wire: snake case, every pair with its provider.
        let json = String(decoding: try WireCoding.encoder().encode(catalog), as: UTF8.self)
        #expect(json.contains(#""target_providers":{"ja":"second","zh":"first"}"#), "\(json)")
        #expect(json.contains(#""transcription_provider":"first""#))
    }

    @Test func aLicenseThatNamesAProviderSeesOnlyItsPairs() throws {
        let registry = try Self.registry()
        let catalog = registry.catalog(for: "second")
        #expect(catalog.provider == Self.second.info && catalog.providers == [Self.second.info])
        #expect(catalog.languages.map(\.source) == ["en", "zh", "fr"])
        #expect(catalog.languages.first?.targetProviders == ["ja": "second", "zh": "second"])
        // A provider this central does not run: nothing to offer (sessions are refused).
        let missing = registry.catalog(for: "dashscope")
        #expect(missing.languages.isEmpty && missing.provider.name == "dashscope")
    }

    @Test func withoutAChoiceTheFirstProviderThatServesThePairIsUsed() throws {
        let registry = try Self.registry()
        #expect(try registry.provider(for: nil, source: "en", target: "zh").info.name == "first")
        #expect(try registry.provider(for: nil, source: "en", target: "ja").info.name == "second")
        #expect(try registry.provider(for: nil, source: "zh", target: nil).info.name == "second")
        #expect(throws: ProtocolError(.unsupportedLanguagePair, "first, second cannot translate de to en")) {
            try registry.provider(for: nil, source: "de", target: "en")
        }
    }

    @Test func aNamedProviderIsUsedEvenWhenAnEarlierOneServesThePair() throws {
        let registry = try Self.registry()
        #expect(try registry.provider(for: "second", source: "en", target: "zh").info.name == "second")
        // Pinned: no fallback to another provider.
        #expect(throws: ProtocolError(.unsupportedLanguagePair, "first cannot translate en to ja")) {
            try registry.provider(for: "first", source: "en", target: "ja")
        }
        #expect(throws: ProtocolError(.providerUnavailable, "The license's speech provider 'dashscope' is not available on this central.")) {
            try registry.provider(for: "dashscope", source: "en", target: "zh")
        }
    }

    @Test func aProviderNamedTwiceIsRefused() {
        #expect(throws: ProviderRegistry.RegistryError.duplicate("first")) {
            try ProviderRegistry(Self.first, [Self.second, Self.first])
        }
    }

    // MARK: Configuration

    @Test func speechProvidersListsTheProvidersInOrder() throws {
        #expect(try CentralConfiguration.fromEnvironment(["SPEECH_PROVIDERS": "dashscope, demo"]).providers.enabled == ["dashscope", "demo"])
        #expect(try CentralConfiguration.fromEnvironment(["SPEECH_PROVIDER": "null"]).providers.enabled == ["null"])
        #expect(try CentralConfiguration.fromEnvironment([:]).providers.enabled == nil)
        for environment in [
            ["SPEECH_PROVIDERS": "demo,demo"], ["SPEECH_PROVIDERS": "demo,whisper-cloud"], ["SPEECH_PROVIDERS": ","],
            ["SPEECH_PROVIDERS": "demo", "SPEECH_PROVIDER": "demo"],
        ] {
            #expect(throws: CentralConfiguration.ConfigurationError.self, "\(environment)") {
                try CentralConfiguration.fromEnvironment(environment)
            }
        }
    }

    @Test func setupBuildsEveryListedProviderInOrder() async throws {
        let fixture = try CentralFixture()
        var configuration = try CentralConfiguration.fromEnvironment([
            "SPEECH_PROVIDERS": "dashscope,demo,null", "DASHSCOPE_API_KEYS": "sk-env-key-12345678",
            "PROVIDER_MASTER_KEY": DashScopeProviderTests.masterKey,
        ])
        let assembly = try await ProviderSetup.make(configuration: configuration, store: fixture.store, clock: SystemWallClock(), logger: Logger(label: "t"))
        #expect(assembly.providers.names == ["dashscope", "demo", "null"])
        #expect(assembly.provider.info.name == "dashscope")
        #expect(await assembly.vault.hasKeys(provider: "dashscope"))
        // Unset: the providers that have keys, here DashScope (its key is stored now).
        configuration.providers.enabled = nil
        configuration.dashScopeKeys = []
        let unset = try await ProviderSetup.make(configuration: configuration, store: fixture.store, clock: SystemWallClock(), logger: Logger(label: "t"))
        #expect(unset.providers.names == ["dashscope"])
        // No keys anywhere: the demo.
        let empty = try await ProviderSetup.make(
            configuration: CentralConfiguration(), store: try CentralFixture().store, clock: SystemWallClock(), logger: Logger(label: "t"))
        #expect(empty.providers.names == ["demo"])
    }

    // MARK: Live: the choice per plan and per license

    static func demoThenNull() throws -> ProviderRegistry {
        try ProviderRegistry(DemoSpeechProvider(), [NullSpeechProvider()])
    }

    /// Opens a stream, checks which provider `started` names, and stops it (the license allows one at a time).
    static func provider(_ central: LiveCentral, key: String) async throws -> String {
        let (client, started) = try await central.openStream(key: key, source: "en", target: "zh")
        client.send(.stop(StopMessage()))
        _ = await client.stopped(timeout: .seconds(10))
        return started.provider.name
    }

    @Test func aLicenseStreamsToItsProviderOrTheDefault() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (pinned, pinnedID) = try await fixture.createLicense { $0.provider = "null" }
        let (plain, _) = try await fixture.createLicense()
        try await fixture.withLiveServer(providers: try Self.demoThenNull()) { central in
            #expect(try await Self.provider(central, key: plain) == "demo")
            #expect(try await Self.provider(central, key: pinned) == "null")
            #expect(try await central.admin(.get, "/v1/admin/licenses/\(pinnedID)").json()["provider"] as? String == "null")

            // Its catalog is its provider's; the others see the union.
            let own = try await central.edge(.get, "/v1/providers", key: pinned).decode(LanguageCatalog.self)
            #expect(own.provider.name == "null" && own.providers?.map(\.name) == ["null"])
            let union = try await central.edge(.get, "/v1/providers", key: plain).decode(LanguageCatalog.self)
            #expect(union.provider.name == "demo" && union.providers?.map(\.name) == ["demo", "null"])
            #expect(union.languages.first { $0.source == "en" }?.targetProviders?["zh"] == "demo")

            // Cleared: back to the default. Set to a provider this central does not run: refused.
            let cleared = try await central.admin(.patch, "/v1/admin/licenses/\(pinnedID)", body: #"{"provider":null}"#)
            let clearedView = try cleared.json()
            #expect(cleared.status == .ok && clearedView["provider"] == nil)
            #expect(try await Self.provider(central, key: pinned) == "demo")
            let elsewhere = try await central.admin(.patch, "/v1/admin/licenses/\(pinnedID)", body: #"{"provider":"dashscope"}"#)
            #expect(elsewhere.status == .ok)
            let (code, _) = try await central.openStreamExpectingError(key: pinned, target: "zh")
            #expect(code == .providerUnavailable)
            #expect(try await fixture.store.activeLeases(licenseID: nil, now: Date()).isEmpty)

            let unknown = try await central.admin(.patch, "/v1/admin/licenses/\(pinnedID)", body: #"{"provider":"whisper-cloud"}"#)
            #expect(unknown.status == .badRequest && unknown.error?.field == "provider")
        }
    }

    @Test func aPlansProviderIsCopiedIntoItsLicenses() async throws {
        let fixture = try CentralFixture(realTime: true)
        try await fixture.withLiveServer(providers: try Self.demoThenNull()) { central in
            let saved = try await central.admin(.put, "/v1/admin/plans/quiet", body: """
                {"validity_days":7,"minutes":60,"max_concurrent":1,"max_devices":2,"provider":"null"}
                """)
            #expect(saved.status == .ok, "\(saved.text)")
            let plans = try await central.admin(.get, "/v1/admin/plans").text
            #expect(plans.contains(#""name":"quiet""#) && plans.contains(#""provider":"null""#), "\(plans)")
            let created = try await central.admin(.post, "/v1/admin/licenses", body: #"{"plan":"quiet","customer_name":"Quiet Co"}"#)
            #expect(created.status == .created)
            let key = try #require(try created.json()["key"] as? String)
            #expect(try await Self.provider(central, key: key) == "null")
            // Given at creation, the license's own choice wins over the plan's.
            let own = try await central.admin(.post, "/v1/admin/licenses", body: #"{"plan":"quiet","customer_name":"Loud Co","provider":"demo"}"#)
            #expect(try await Self.provider(central, key: try #require(try own.json()["key"] as? String)) == "demo")
            let refused = try await central.admin(.put, "/v1/admin/plans/odd", body: """
                {"validity_days":7,"minutes":60,"max_concurrent":1,"max_devices":2,"provider":"nope"}
                """)
            #expect(refused.status == .badRequest && refused.error?.field == "provider")
        }
    }

    @Test func aDatabaseFromBeforeTheProviderChoiceMigrates() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("central-v5-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let old = try DatabasePool(path: path)
            try SQLiteMigrations.migrator.migrate(old, upTo: "v5_stream_reservations")
            try await old.write { db in
                try db.execute(sql: """
                    INSERT INTO licenses (id, key_hash, key_prefix, customer_name, plan, status, created_at, updated_at,
                        starts_at, validity_days, expiry_from_first_use, limit_ms, max_concurrent, max_devices)
                    VALUES ('lic_old', 'hash', 'TRIAL-OLD', 'Old Co', 'trial-basic', 'active', 0, 0, 0, 7, 0, 60000, 1, 1)
                    """)
            }
        }
        let store = try SQLiteCentralStore(path: path)
        #expect(try await store.plans().map(\.provider) == [nil, nil, nil])
        let license = try #require(try await store.license(id: "lic_old"))
        #expect(license.provider == nil && license.customerName == "Old Co")
    }

    @Test func theProviderChoiceSurvivesTheStore() async throws {
        let fixture = try CentralFixture()
        try await fixture.store.savePlan(
            Plan(name: "p", validityDays: 1, minutes: 1, sessionLimit: nil, maxConcurrent: 1, maxDevices: 1, dailyMinutes: nil,
                 description: "", provider: "null"),
            actor: AdminOperator(name: "test", ip: nil), now: Date())
        #expect(try await fixture.store.plan(named: "p")?.provider == "null")
        #expect(try await fixture.store.plan(named: "trial-basic")?.provider == nil)
        let (_, id) = try await fixture.createLicense { $0.plan = "p" }
        #expect(try await fixture.store.license(id: id)?.provider == "null")
        var patch = LicensePatch()
        patch.provider = .set("demo")
        _ = try await fixture.administration.updateLicense(id: id, patch)
        #expect(try await fixture.secondStore().license(id: id)?.provider == "demo")
    }
}
