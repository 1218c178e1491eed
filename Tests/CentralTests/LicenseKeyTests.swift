@testable import Central
import Testing

@Suite(.bounded) struct LicenseKeyTests {
    @Test func keysHaveAReadablePrefixAndAtLeast128BitsOfRandomness() {
        let trial = LicenseKey.generate(kind: .trial)
        let paid = LicenseKey.generate(kind: .license)
        #expect(trial.value.hasPrefix("TRIAL-"))
        #expect(paid.value.hasPrefix("LIC-"))
        let randomCharacters = trial.value.dropFirst("TRIAL-".count).filter { $0 != "-" }
        // 32 symbols from a 32-letter alphabet: 160 bits.
        #expect(randomCharacters.count * 5 >= 128)
        #expect(LicenseKey.isWellFormed(trial.value))
        #expect(LicenseKey.isWellFormed(paid.value))
    }

    @Test func keysDoNotRepeat() {
        let keys = Set((0..<2000).map { _ in LicenseKey.generate(kind: .trial).value })
        #expect(keys.count == 2000)
    }

    @Test func malformedKeysAreRecognised() {
        for text in ["", "TRIAL-", "FOO-AAAAAAAA-AAAAAAAA-AAAAAAAA-AAAAAAAA", "TRIAL-aaaaaaaa-AAAAAAAA-AAAAAAAA-AAAAAAAA",
                     "TRIAL-AAAAAAAA-AAAAAAAA-AAAAAAAA", "TRIAL-IIIIIIII-AAAAAAAA-AAAAAAAA-AAAAAAAA",
                     String(repeating: "A", count: 500)] {
            #expect(!LicenseKey.isWellFormed(text), "\(text)")
        }
    }

    @Test func onlyTheHashAndAShortPrefixIdentifyAKey() {
        let key = LicenseKey(unchecked: "TRIAL-ABCDEFGH-JKMNPQRS-TVWXYZ01-23456789")
        #expect(key.hash == "c4b5a2664c4d813719484dcd273243e158a92f5e73c0d08e46e3e49bf206335d")
        #expect(key.hash == LicenseKey.hash(key.value))
        #expect(key.visiblePrefix == "TRIAL-ABCDEFGH")
        #expect(!key.hash.contains("ABCDEFGH"))
    }
}
