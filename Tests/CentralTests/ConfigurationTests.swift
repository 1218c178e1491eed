@testable import Central
import Foundation
import Logging
import Testing

@Suite(.bounded) struct ConfigurationTests {
    @Test func defaults() throws {
        let configuration = try CentralConfiguration.fromEnvironment([:])
        #expect(configuration.host == "0.0.0.0" && configuration.port == 8080)
        #expect(configuration.database == .sqlite(path: "data/central.sqlite"))
        #expect(configuration.adminToken == nil && configuration.leaseTTL == 30 && configuration.authFailuresPerMinute == 10)
        #expect(configuration.instanceID == nil)
    }

    @Test func environmentOverrides() throws {
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)")
        try Data("from-file\n".utf8).write(to: tokenFile)
        let configuration = try CentralConfiguration.fromEnvironment([
            "CENTRAL_HOST": "127.0.0.1", "CENTRAL_PORT": "9090", "DATABASE_URL": "sqlite:///var/lib/central/db.sqlite",
            "ADMIN_TOKEN_FILE": tokenFile.path, "LEASE_TTL_SECONDS": "12", "AUTH_FAILURES_PER_MINUTE": "4",
            "TRUSTED_PROXIES": "10.0.0.0/8, ::1", "CENTRAL_INSTANCE_ID": "central-b",
        ])
        #expect(configuration.host == "127.0.0.1" && configuration.port == 9090)
        #expect(configuration.database == .sqlite(path: "/var/lib/central/db.sqlite"))
        #expect(configuration.adminToken == "from-file")
        #expect(configuration.leaseTTL == 12 && configuration.authFailuresPerMinute == 4)
        #expect(configuration.trustedProxies.map(\.description) == ["10.0.0.0/8", "::1/128"])
        #expect(configuration.instanceID == "central-b")
        #expect(try CentralConfiguration.fromEnvironment(["ADMIN_TOKEN": "direct", "ADMIN_TOKEN_FILE": tokenFile.path]).adminToken == "direct")
    }

    @Test func providerSettingsComeFromTheEnvironmentAndFiles() throws {
        let directory = FileManager.default.temporaryDirectory
        let keyFile = directory.appendingPathComponent("dashscope-keys-\(UUID().uuidString)")
        try Data("# vendor keys\nsk-from-file-1\n\n  sk-from-file-2  \n".utf8).write(to: keyFile)
        let masterFile = directory.appendingPathComponent("master-\(UUID().uuidString)")
        try Data("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n".utf8).write(to: masterFile)
        let configuration = try CentralConfiguration.fromEnvironment([
            "SPEECH_PROVIDER": "dashscope", "DASHSCOPE_MODEL": "paraformer-realtime-v2",
            "DASHSCOPE_URL": "wss://dashscope-intl.aliyuncs.com/api-ws/v1/inference", "DASHSCOPE_WORKSPACE": "ws-1",
            "DASHSCOPE_ROTATE_SECONDS": "300", "DASHSCOPE_API_KEYS": "sk-env-1, sk-env-2", "DASHSCOPE_API_KEY": "sk-env-3",
            "DASHSCOPE_API_KEY_FILE": keyFile.path, "PROVIDER_MASTER_KEY_FILE": masterFile.path,
        ])
        #expect(configuration.speechProvider == "dashscope")
        #expect(configuration.dashScope.model == .paraformerRealtime)
        #expect(configuration.dashScope.url == "wss://dashscope-intl.aliyuncs.com/api-ws/v1/inference")
        #expect(configuration.dashScope.workspace == "ws-1" && configuration.dashScope.rotateAfterMs == 300_000)
        #expect(configuration.dashScopeKeys == ["sk-env-1", "sk-env-2", "sk-env-3"])
        #expect(configuration.dashScopeKeysFromFile == ["sk-from-file-1", "sk-from-file-2"])
        #expect(configuration.providerMasterKey == "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
        for (name, value) in [("DASHSCOPE_MODEL", "gpt-4"), ("DASHSCOPE_URL", "https://example.com"), ("SPEECH_PROVIDER", "whisper-cloud")] {
            #expect(throws: CentralConfiguration.ConfigurationError.self) { _ = try CentralConfiguration.fromEnvironment([name: value]) }
        }
    }

    @Test func invalidValuesAreRefusedByName() {
        for (name, value) in [("CENTRAL_PORT", "http"), ("CENTRAL_PORT", "70000"), ("DATABASE_URL", "mysql://x"),
                              ("DATABASE_URL", "postgres://u@h"), ("LEASE_TTL_SECONDS", "0"),
                              ("AUTH_FAILURES_PER_MINUTE", "-2"), ("TRUSTED_PROXIES", "everyone"), ("ADMIN_TOKEN_FILE", "/no/such/file")] {
            #expect(throws: CentralConfiguration.ConfigurationError.self, "\(name)=\(value)") {
                try CentralConfiguration.fromEnvironment([name: value])
            }
        }
    }

    @Test func theApplicationWillNotBuildWithoutAnAdminToken() throws {
        let fixture = try CentralFixture { $0.adminToken = nil }
        #expect(throws: CentralConfiguration.ConfigurationError.self) {
            _ = try buildApplication(configuration: fixture.configuration, store: fixture.store, logger: Logger(label: "t"))
        }
    }

    @Test func generatedAdminTokensAreLongAndFresh() {
        let a = CentralConfiguration.generateAdminToken(), b = CentralConfiguration.generateAdminToken()
        #expect(a.count == 64 && a != b)
    }
}
