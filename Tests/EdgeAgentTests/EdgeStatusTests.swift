@testable import EdgeAgent
import Foundation
import Protocol
import Testing

@Suite(.bounded) struct EdgeStatusTests {
    @Test func linkStatesMapToPhases() {
        let cases: [(LinkState, LinkPhase, Bool)] = [
            (.idle, .idle, false), (.connecting, .connecting, true), (.streaming(sessionID: "s"), .streaming, true),
            (.reconnecting(attempt: 3), .reconnecting, true), (.stopped(.clientStop), .stopped, false),
        ]
        for (state, phase, live) in cases {
            #expect(LinkPhase(state) == phase)
            #expect(phase.isLive == live, "\(phase)")
        }
    }

    @Test func captureStatesMapToPhasesWithTheirMessage() {
        #expect(AudioPhase.of(.starting) == (.starting, nil))
        #expect(AudioPhase.of(.capturing) == (.capturing, nil))
        #expect(AudioPhase.of(.reopening("overrun")) == (.reopening, "overrun"))
        #expect(AudioPhase.of(.noDevice("cannot open")) == (.noDevice, "cannot open"))
        #expect(AudioPhase.of(.stopped) == (.stopped, nil))
    }

    /// The page and local tools read these strings: the enums keep the wire spelling.
    @Test func encodesTheSameStringsAsBefore() throws {
        var status = EdgeStatus(link: .reconnecting, audio: .noDevice)
        status.audioSource = .browser
        status.centralReachable = false
        status.quotaError = ErrorBody.Detail(code: ErrorCode("central_unreachable"), message: "no answer")
        let text = String(decoding: try WireCoding.encoder().encode(status), as: UTF8.self)
        #expect(text.contains(#""link":"reconnecting""#), "\(text)")
        #expect(text.contains(#""audio":"no_device""#), "\(text)")
        #expect(text.contains(#""audio_source":"browser""#), "\(text)")
        #expect(text.contains(#""browser_audio_available":true"#), "\(text)")
        #expect(text.contains(#""central_reachable":false"#), "\(text)")
        #expect(text.contains(#""quota_error":{"code":"central_unreachable","message":"no answer"}"#), "\(text)")
        let phases = ["idle", "connecting", "streaming", "reconnecting", "stopped"]
        #expect([LinkPhase.idle, .connecting, .streaming, .reconnecting, .stopped].map(\.rawValue) == phases)
        #expect([AudioPhase.idle, .starting, .capturing, .reopening, .noDevice, .stopped].map(\.rawValue)
            == ["idle", "starting", "capturing", "reopening", "no_device", "stopped"])
    }
}
