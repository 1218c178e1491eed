import EdgeAgent
import Testing

@Suite(.bounded) struct NativeLibrariesTests {
    @Test func linksAlsaOpusAndOgg() {
        #expect(NativeLibraries.alsaVersion.split(separator: ".").count >= 2)
        #expect(NativeLibraries.opusVersion.hasPrefix("libopus"))
        #expect(NativeLibraries.oggAvailable)
    }
}
