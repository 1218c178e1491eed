@testable import EdgeAgent
import Protocol
import Testing

@Suite struct LocalOriginPolicyTests {
    let policy = LocalOriginPolicy(port: 3000, hostName: "edge.lan")

    @Test func ownHostsAndOriginsPass() {
        for host in ["localhost:3000", "127.0.0.1:3000", "[::1]:3000", "LOCALHOST:3000", "edge.lan:3000"] {
            #expect(policy.check(host: host, origin: nil) == .allowed, "\(host)")
        }
        #expect(policy.check(host: "localhost:3000", origin: "http://localhost:3000") == .allowed)
        #expect(policy.check(host: "127.0.0.1:3000", origin: "http://127.0.0.1:3000") == .allowed)
    }

    @Test func foreignHostsAndOriginsAreRefused() {
        // DNS rebinding: evil.example resolving to 127.0.0.1 still carries its own Host.
        #expect(policy.check(host: "evil.example:3000", origin: nil) == .refused(.hostNotAllowed, "This service answers only on localhost."))
        #expect(policy.check(host: nil, origin: nil) != .allowed)
        for origin in ["https://evil.example", "http://evil.example:3000", "http://localhost:8000", "http://localhost", "null", "https://localhost:3000"] {
            #expect(policy.check(host: "localhost:3000", origin: origin) == .refused(.originNotAllowed, "Requests from other web pages are refused."), "\(origin)")
        }
    }

    @Test func everyOriginValueMustPass() {
        // WebSocket libraries add their own ws:// origin; a browser page cannot send that.
        #expect(policy.check(host: "localhost:3000", origins: ["ws://localhost", "http://localhost:3000"]) == .allowed)
        #expect(policy.check(host: "localhost:3000", origins: ["ws://localhost", "https://evil.example"]) != .allowed)
    }

    @Test func theBoundPortIsTheOneThatCounts() {
        let policy = LocalOriginPolicy(port: 3000, hostName: nil)
        policy.serving(on: 43_210)
        #expect(policy.check(host: "localhost:43210", origin: "http://localhost:43210") == .allowed)
        #expect(policy.check(host: "localhost:43210", origin: "http://localhost:3000") != .allowed)
    }
}
