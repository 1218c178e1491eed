@testable import EdgeAgent
import Foundation
import Testing

@Suite(.bounded) struct EdgeConfigurationTests {
    static let key = "TRIAL-ABCDEFGH-JKMNPQRS-TVWXYZ01-23456789"

    @Test func defaultsNeedOnlyALicenseKey() throws {
        let configuration = try EdgeConfiguration.fromEnvironment(["LICENSE_KEY": Self.key])
        #expect(configuration.licenseKey == Self.key)
        #expect(configuration.centralURL.absoluteString == VendorDefaults.centralURL)
        #expect(configuration.port == 3000 && configuration.bindAddress == "127.0.0.1")
        #expect(configuration.audioDevice == "default" && configuration.opus.bitrate == 24_000 && configuration.opus.inbandFEC)
        #expect(configuration.maskedLicenseKey == "TRIAL-ABCDEFGH-…")
    }

    @Test func aRetypedKeyIsNormalised() throws {
        let configuration = try EdgeConfiguration.fromEnvironment(["LICENSE_KEY": " trial-abcdefgh-jkmnpqrs-tvwxyz01-23456789\n"])
        #expect(configuration.licenseKey == Self.key)
    }

    @Test func missingOrMalformedKeysAndBadValuesAreRefused() {
        #expect(throws: EdgeConfiguration.ConfigurationError.missingLicenseKey) { try EdgeConfiguration.fromEnvironment([:]) }
        #expect(throws: EdgeConfiguration.ConfigurationError.malformedLicenseKey) {
            try EdgeConfiguration.fromEnvironment(["LICENSE_KEY": "TRIAL-123"])
        }
        for (name, value) in [("CENTRAL_URL", "ftp://x"), ("EDGE_PORT", "0"), ("OPUS_BITRATE", "999999"), ("OPUS_COMPLEXITY", "11"), ("OPUS_FEC", "maybe")] {
            #expect(throws: EdgeConfiguration.ConfigurationError.self, "\(name)") {
                try EdgeConfiguration.fromEnvironment(["LICENSE_KEY": Self.key, name: value])
            }
        }
    }

    @Test func everySettingIsRead() throws {
        let configuration = try EdgeConfiguration.fromEnvironment([
            "LICENSE_KEY": Self.key, "CENTRAL_URL": "https://central.vendor.example", "CENTRAL_CA_FILE": "/etc/ca.pem",
            "EDGE_PORT": "3100", "EDGE_BIND": "0.0.0.0", "EDGE_HOSTNAME": "Edge.Local", "AUDIO_DEVICE": "hw:1",
            "OPUS_BITRATE": "32000", "OPUS_COMPLEXITY": "8", "OPUS_FEC": "off", "EDGE_DATA_DIR": "/var/lib/edge",
        ])
        #expect(configuration.centralURL.host == "central.vendor.example" && configuration.centralCAFile == "/etc/ca.pem")
        #expect(configuration.port == 3100 && configuration.bindAddress == "0.0.0.0" && configuration.hostName == "edge.local")
        #expect(configuration.audioDevice == "hw:1" && configuration.opus.bitrate == 32_000 && configuration.opus.complexity == 8)
        #expect(!configuration.opus.inbandFEC && configuration.dataDirectory == "/var/lib/edge")
    }
}

@Suite(.bounded) struct DeviceIdentityTests {
    @Test func stableAcrossRestartsAndDistinctPerDataDirectory() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("edge-\(UUID().uuidString)")
        let machineID = base.appendingPathComponent("machine-id")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        try Data("4f1c0ffee\n".utf8).write(to: machineID)
        let first = try DeviceIdentity.load(dataDirectory: base.appendingPathComponent("a").path, machineIDPath: machineID.path)
        let again = try DeviceIdentity.load(dataDirectory: base.appendingPathComponent("a").path, machineIDPath: machineID.path)
        let other = try DeviceIdentity.load(dataDirectory: base.appendingPathComponent("b").path, machineIDPath: machineID.path)
        #expect(first == again && first != other && first.count == 64)
        // The same data directory on a machine with another id is another device.
        try Data("another\n".utf8).write(to: machineID)
        #expect(try DeviceIdentity.load(dataDirectory: base.appendingPathComponent("a").path, machineIDPath: machineID.path) != first)
    }
}
