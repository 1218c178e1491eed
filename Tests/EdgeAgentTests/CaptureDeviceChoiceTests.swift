@testable import EdgeAgent
import Synchronization
import Testing

/// A start request's `device` only picks among names the edge trusts.
@Suite(.bounded) struct CaptureDeviceChoiceTests {
    let enumerated = [
        AudioDevice(name: "default", description: "Default"),
        AudioDevice(name: "hw:CARD=PCH,DEV=0", description: "Built-in"),
        AudioDevice(name: "plughw:CARD=USB,DEV=0", description: "USB microphone"),
    ]

    func choose(_ requested: String?, configured: String = "hw:CARD=Conf,DEV=0") -> CaptureDeviceChoice? {
        CaptureDeviceChoice.choose(requested: requested, configured: configured, enumerate: { enumerated })
    }

    @Test func trustedNamesAreChosen() {
        #expect(choose(nil) == .alsa("hw:CARD=Conf,DEV=0"))
        #expect(choose("hw:CARD=Conf,DEV=0") == .alsa("hw:CARD=Conf,DEV=0"))
        #expect(choose("default") == .alsa("default"))
        #expect(choose("browser") == .browser)
        #expect(choose("hw:CARD=PCH,DEV=0") == .alsa("hw:CARD=PCH,DEV=0"))
        #expect(choose("plughw:CARD=USB,DEV=0") == .alsa("plughw:CARD=USB,DEV=0"))
    }

    @Test func anythingElseIsRefused() {
        for name in [
            "file:'|touch /tmp/x',raw", "file:\"|id\",raw", "file:'/tmp/x',raw", "file:/tmp/x", "|touch /tmp/x", "hw:99", "plughw:99,0",
            "hw:CARD=PCH,DEV=0 ", " default", "DEFAULT", "Browser", "hw:CARD=PCH,DEV=0,raw", "hw:CARD=PCH,DEV={}", "{ type null }",
            "default'", "default\"", "", "null", "hw:CARD=PCH,DEV=0\0", "plug:'hw:CARD=PCH,DEV=0'",
        ] {
            #expect(choose(name) == nil, "\(name)")
        }
    }

    @Test func enumerationRunsOnlyForNamesItCouldVouchFor() {
        let calls = Atomic<Int>(0)
        for name in [nil, "default", "browser", "hw:CARD=Conf,DEV=0"] as [String?] {
            _ = CaptureDeviceChoice.choose(requested: name, configured: "hw:CARD=Conf,DEV=0", enumerate: {
                calls.add(1, ordering: .relaxed)
                return []
            })
        }
        #expect(calls.load(ordering: .relaxed) == 0)
    }
}
