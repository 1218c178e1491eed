import EdgeAgent
import Testing

@Suite struct NativeLibrariesTests {
    @Test func linksAlsaOpusAndOgg() {
        #expect(NativeLibraries.alsaVersion.split(separator: ".").count >= 2)
        #expect(NativeLibraries.opusVersion.hasPrefix("libopus"))
        #expect(NativeLibraries.oggAvailable)
    }

    @Test func refusesAMissingLicenseKey() {
        #expect(throws: EdgeAgentConfiguration.ConfigurationError.missingLicenseKey) {
            try EdgeAgentConfiguration.fromEnvironment(["LICENSE_KEY": "  "])
        }
        #expect((try? EdgeAgentConfiguration.fromEnvironment(["LICENSE_KEY": "TRIAL-X"]))?.licenseKey == "TRIAL-X")
    }
}
