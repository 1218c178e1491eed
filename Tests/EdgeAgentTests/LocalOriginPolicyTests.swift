@testable import EdgeAgent
import Protocol
import Foundation
import Testing

@Suite(.bounded) struct LocalOriginPolicyTests {
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

/// The one spelling of a path the gate lets through to the router.
@Suite(.bounded) struct LocalRequestPathTests {
    @Test func canonicalPathsPass() {
        for path in ["/", "/api/status", "/api/translation/start", "/ws", "/js/app.js", "/css/app.css", "/index.html", "/a-b_c~d.e"] {
            #expect(LocalRequestPath.isCanonical(path), "\(path)")
        }
    }

    @Test func everyOtherSpellingIsRefused() {
        for path in [
            "", "api/status", "//api/status", "/api//status", "/api/status/", "/./api/status", "/api/./status", "/x/../api/status",
            "/api/..", "/.", "/..", "/%2e/api/status", "/api%2Fstatus", "/api%2fstatus", "/%61pi/status", "/api/status%00",
            "/api/status;x", "/api/status#x", "/api/st atus", "/api/stätus", "/api\\status", "*",
        ] {
            #expect(!LocalRequestPath.isCanonical(path), "\(path)")
        }
    }

    @Test func staticAssetsAreThePagesFilesUnderTheirOwnPaths() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("web-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("js"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        for file in ["index.html", "js/app.js", "js/odd name.js"] {
            try Data("x".utf8).write(to: root.appendingPathComponent(file))
        }
        #expect(LocalRequestPath.staticAssets(under: root.path) == ["/", "/index.html", "/js/app.js"])
    }
}

@Suite(.bounded) struct JSONContentTypeTests {
    @Test func onlyOneApplicationJSONTypePasses() {
        for value in ["application/json", "application/json; charset=utf-8", "Application/JSON", " application/json ;charset=UTF-8"] {
            #expect(JSONContentType.accepts([value]), "\(value)")
        }
        for values in [
            [], [""], ["text/plain"], ["text/plain;charset=UTF-8"], ["application/x-www-form-urlencoded"], ["multipart/form-data; boundary=x"],
            ["application/jsonp"], ["application/json-seq"], ["text/json"], ["application/json", "text/plain"], ["text/plain; application/json"],
        ] {
            #expect(!JSONContentType.accepts(values), "\(values)")
        }
    }
}
