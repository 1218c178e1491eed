import AsyncHTTPClient
@testable import Central
@testable import EdgeAgent
import Foundation
import HTTPTypes
import HummingbirdTesting
import HummingbirdWSClient
import Logging
import NIOCore
import Protocol
import Synchronization
import Testing

/// The edge's local API on a live server, wired to real ALSA capture (file plugin), libopus,
/// and a live central.
@Suite(.bounded) struct EdgeLocalAPITests {
    static let origin = HTTPField.Name("Origin") ?? .via

    /// A raw 16 kHz file of tone bursts, played as the microphone by alsa-lib's file plugin.
    static func microphone(seconds: Double) throws -> ALSAAudioSource {
        let samples = (0..<Int(seconds * 16_000)).map { index -> Int16 in
            (index / 16_000) % 2 == 0 ? Int16(9_000 * sin(2 * .pi * 300 * Double(index) / 16_000)) : 0
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mic-\(UUID().uuidString).raw")
        try samples.withUnsafeBytes { Data($0) }.write(to: file)
        return ALSAAudioSource(configurationText: """
            pcm.testmic { type file slave.pcm { type null } file "/dev/null" infile "\(file.path)" format "raw" }
            """)
    }

    static func controller(
        centralPort: Int, key: String, audio: any AudioSource, device: String = "testmic"
    ) throws -> (EdgeConfiguration, TranslationController) {
        var configuration = EdgeConfiguration(licenseKey: key, centralURL: try #require(URL(string: "http://localhost:\(centralPort)")))
        configuration.audioDevice = device
        var logger = Logger(label: "edge-test")
        logger.logLevel = .critical
        let central = CentralClient(baseURL: configuration.centralURL, licenseKey: key, client: .shared)
        let quietLogger = logger
        let controller = TranslationController(
            configuration: configuration, audio: audio, central: central, deviceID: "edge-test-device", logger: logger,
            makeLink: { CentralLink(central: central, tls: nil, deviceID: "edge-test-device", logger: quietLogger) })
        return (configuration, controller)
    }

    @Test func aForeignPageCanNeitherStartAStreamNorListen() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let (configuration, controller) = try Self.controller(centralPort: central.port, key: key, audio: try Self.microphone(seconds: 1))
            let app = LocalAPI.buildApplication(configuration: configuration, controller: controller, logger: Logger(label: "edge"))
            try await app.test(.live) { edge in
                let body = ByteBuffer(string: #"{"source_language":"zh","target_language":"en"}"#)
                let foreign = try await edge.execute(uri: "/api/translation/start", method: .post, headers: [Self.origin: "https://evil.example"], body: body) { $0 }
                #expect(foreign.status == .forbidden)
                #expect(String(buffer: foreign.body).contains("origin_not_allowed"))
                let otherPort = try await edge.execute(uri: "/api/status", method: .get, headers: [Self.origin: "http://localhost:1"]) { $0 }
                #expect(otherPort.status == .forbidden)
                // Nothing was started, so no minutes were spent.
                #expect(try await fixture.store.liveStreamSessions().isEmpty)
                #expect(try await fixture.store.license(id: id)?.usedMs == 0)
                // Reading transcripts over /ws from a foreign page is refused too.
                var wsConfiguration = WebSocketClientConfiguration()
                wsConfiguration.additionalHeaders = [Self.origin: "https://evil.example"]
                let received = Mutex<Int>(0)
                _ = try? await WebSocketClient.connect(url: "ws://localhost:\(edge.port ?? 0)/ws", configuration: wsConfiguration, logger: Logger(label: "ws")) { inbound, _, _ in
                    for try await _ in inbound.messages(maxSize: 1 << 16) { received.withLock { $0 += 1 } }
                }
                #expect(received.withLock { $0 } == 0)
            }
        }
    }

    @Test func aLocalPageStartsStreamsAndHearsEverything() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let (configuration, controller) = try Self.controller(centralPort: central.port, key: key, audio: try Self.microphone(seconds: 3))
            let app = LocalAPI.buildApplication(configuration: configuration, controller: controller, logger: Logger(label: "edge"))
            try await app.test(.live) { edge in
                let port = try #require(edge.port)
                let own: HTTPFields = [Self.origin: "http://localhost:\(port)", .contentType: "application/json"]
                // The page listens on /ws first.
                let events = Mutex<[String]>([])
                var wsConfiguration = WebSocketClientConfiguration()
                wsConfiguration.additionalHeaders = own
                let listener = Task {
                    do { try await WebSocketClient.connect(url: "ws://localhost:\(port)/ws", configuration: wsConfiguration, logger: Logger(label: "ws")) { inbound, _, _ in
                        for try await message in inbound.messages(maxSize: 1 << 16) {
                            if case .text(let text) = message { events.withLock { $0.append(text) } }
                        }
                    } } catch { events.withLock { $0.append("connect failed: \(error)") } }
                }
                let start = try await edge.execute(
                    uri: "/api/translation/start", method: .post, headers: own,
                    body: ByteBuffer(string: #"{"source_language":"zh","target_language":"en"}"#)) { $0 }
                #expect(start.status == .accepted, "\(String(buffer: start.body))")
                let again = try await edge.execute(
                    uri: "/api/translation/start", method: .post, headers: own,
                    body: ByteBuffer(string: #"{"source_language":"zh","target_language":"en"}"#)) { $0 }
                #expect(again.status == .conflict)
                // The quota can reach the page before the stream's `started` does (the admission answer
                // carries it), so wait for the link itself rather than for the events.
                var status = try await edge.execute(uri: "/api/status", method: .get, headers: own) { $0 }
                for _ in 0..<300 {
                    let seen = events.withLock { $0 }
                    let streaming = String(buffer: status.body).contains(#""link":"streaming""#)
                    if streaming, seen.contains(where: { $0.contains(#""type":"quota""#) }), seen.contains(where: { $0.contains(#""type":"level""#) }) { break }
                    try await Task.sleep(for: .milliseconds(20))
                    status = try await edge.execute(uri: "/api/status", method: .get, headers: own) { $0 }
                }
                #expect(String(buffer: status.body).contains(#""link":"streaming""#), "\(String(buffer: status.body))")
                let quota = try await edge.execute(uri: "/api/license/quota", method: .get) { $0 }
                #expect(quota.status == .ok && String(buffer: quota.body).contains("seconds_limit"))
                let devices = try await edge.execute(uri: "/api/devices", method: .get) { $0 }
                #expect(devices.status == .ok && String(buffer: devices.body).contains("devices"))
                let stop = try await edge.execute(uri: "/api/translation/stop", method: .post, headers: own) { $0 }
                #expect(stop.status == .ok)
                try await eventually { try await fixture.store.liveStreamSessions().isEmpty }
                let seen = events.withLock { $0 }
                #expect(seen.contains { $0.contains(#""type":"level""#) }, "\(seen.prefix(3))")
                #expect(seen.contains { $0.contains(#""type":"state""#) })
                let license = try #require(try await fixture.store.license(id: id))
                #expect(license.usedMs > 0 && license.sessionsUsed == 1)
                let ledger = try await fixture.store.ledger(licenseID: id).filter { $0.kind == .debit }.reduce(0) { $0 + $1.amountMs }
                #expect(ledger == license.usedMs)
                listener.cancel()
            }
        }
    }

    // MARK: Foreign pages, rebinding hosts and hostile strings (issue 11, part 1)

    /// Every route of the local API and the page's WebSocket, in the page's own spelling.
    static let routes: [(method: String, path: String)] = [
        ("GET", "/api/status"), ("GET", "/api/license/quota"), ("GET", "/api/devices"), ("GET", "/api/languages"),
        ("POST", "/api/translation/start"), ("POST", "/api/translation/stop"), ("GET", "/ws"),
    ]

    /// Spellings of `path` that a lenient router may match to the same route: empty segments,
    /// dot segments, percent-encoding, trailing slashes. (Case is separate: see `caseSpellings`.)
    static func nonCanonicalSpellings(of path: String) -> [String] {
        let segments = path.dropFirst().split(separator: "/").map(String.init)
        let first = segments[0]
        let rest = segments.dropFirst().joined(separator: "/")
        let tail = rest.isEmpty ? "" : "/" + rest
        var spellings = [
            "/" + path,                                   // //api/status
            path + "/",                                   // /api/status/
            path + "//",
            "/." + path,                                  // /./api/status
            "/%2e" + path,                                // /%2e/api/status
            "/%2E%2E" + path,                             // /%2E%2E/api/status
            "/x/.." + path,                               // /x/../api/status
            "/x/%2e%2e" + path,
            "/%" + String(format: "%02x", first.utf8.first ?? 0) + first.dropFirst() + tail,  // /%61pi/status
        ]
        if !rest.isEmpty {
            spellings += [
                "/" + first + "//" + rest,                // /api//status
                "/" + first + "/./" + rest,               // /api/./status
                "/" + first + "%2F" + rest,               // /api%2Fstatus
                "/" + first + "%2f" + rest,
            ]
        }
        return spellings
    }

    static func caseSpellings(of path: String) -> [String] {
        [path.uppercased(), path.split(separator: "/").map { $0.prefix(1).uppercased() + $0.dropFirst() }.reduce("") { $0 + "/" + $1 }]
    }

    static let startBody = #"{"source_language":"zh","target_language":"en"}"#
    static let webSocketUpgrade = [
        ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
    ]

    /// A request as a browser (or a rebinding page) would make it: `text/plain` bodies need no preflight.
    static func attack(port: Int, method: String, path: String, host: String, origin: String?, upgrade: Bool = false) async -> RawHTTPExchange {
        var headers = [("Host", host)]
        if let origin { headers.append(("Origin", origin)) }
        var body = ""
        if method == "POST" {
            headers.append(("Content-Type", "text/plain;charset=UTF-8"))
            body = startBody
        }
        if upgrade { headers += webSocketUpgrade }
        return await RawHTTPExchange.send(port: port, method: method, path: path, headers: headers, body: body)
    }

    /// A refused WebSocket upgrade: Hummingbird answers any upgrade it does not make with a
    /// bare 400 (the gate's 403 body is not passed on), and no 101.
    static func refusedUpgrade(_ answer: RawHTTPExchange) -> Bool {
        answer.status == 400 && !answer.head.lowercased().contains("upgrade: websocket")
    }

    /// The edge on a live central; `body` gets the edge's port and its controller.
    static func withEdge(
        _ fixture: CentralFixture, key: String, audio: (any AudioSource)? = nil, device: String = "testmic",
        _ body: @Sendable (Int, TranslationController, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await fixture.withLiveServer { central in
            let (configuration, controller) = try Self.controller(
                centralPort: central.port, key: key, audio: try audio ?? Self.microphone(seconds: 1), device: device)
            let app = LocalAPI.buildApplication(configuration: configuration, controller: controller, logger: Logger(label: "edge"))
            try await app.test(.live) { edge in
                try await body(try #require(edge.port), controller, edge)
            }
        }
    }

    @Test func foreignPagesAndRebindingHostsAreRefusedOnEveryRouteUnderEverySpelling() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        try await Self.withEdge(fixture, key: key) { port, controller, _ in
            // A page on another port of this machine; DNS rebinding (evil.example → 127.0.0.1)
            // with and without the rebinding page's Origin.
            let attackers: [(host: String, origin: String?, code: String)] = [
                ("localhost:\(port)", "http://127.0.0.1:8000", "origin_not_allowed"),
                ("localhost:\(port)", "null", "origin_not_allowed"),
                ("evil.example:\(port)", nil, "host_not_allowed"),
                ("evil.example:\(port)", "http://evil.example:\(port)", "host_not_allowed"),
            ]
            for route in Self.routes {
                for path in [route.path] + Self.nonCanonicalSpellings(of: route.path) + Self.caseSpellings(of: route.path) {
                    for attacker in attackers {
                        let answer = await Self.attack(port: port, method: route.method, path: path, host: attacker.host, origin: attacker.origin)
                        #expect(answer.status == 403 && answer.errorCode == attacker.code,
                                "\(route.method) \(path) Host \(attacker.host) Origin \(attacker.origin ?? "-"): \(answer.status) \(answer.body)")
                        guard route.path == "/ws" else { continue }
                        let upgrade = await Self.attack(port: port, method: "GET", path: path, host: attacker.host, origin: attacker.origin, upgrade: true)
                        #expect(Self.refusedUpgrade(upgrade), "upgrade \(path) Host \(attacker.host): \(upgrade.head)")
                    }
                }
            }
            // Nothing started: no capture, no session, no minutes.
            try await Task.sleep(for: .milliseconds(300))
            let status = await controller.currentStatus()
            #expect(status.link == .idle && status.sessionID == nil, "\(status)")
            #expect(try await fixture.store.liveStreamSessions().isEmpty)
            let license = try #require(try await fixture.store.license(id: id))
            #expect(license.sessionsUsed == 0 && license.usedMs == 0)
        }
    }

    @Test func theRouterMatchesOnlyTheCanonicalSpelling() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, _) = try await fixture.createLicense()
        try await Self.withEdge(fixture, key: key) { port, controller, _ in
            let own = [("Host", "localhost:\(port)"), ("Origin", "http://localhost:\(port)"), ("Content-Type", "application/json")]
            for route in Self.routes {
                let body = route.method == "POST" ? Self.startBody : ""
                // Even the page's own origin gets no route under another spelling.
                for path in Self.nonCanonicalSpellings(of: route.path) {
                    let answer = await RawHTTPExchange.send(port: port, method: route.method, path: path, headers: own, body: body)
                    #expect(answer.status == 400 && answer.errorCode == "invalid_path", "\(route.method) \(path): \(answer.status) \(answer.body)")
                }
                for path in Self.caseSpellings(of: route.path) {
                    let answer = await RawHTTPExchange.send(port: port, method: route.method, path: path, headers: own, body: body)
                    #expect(answer.status == 404, "\(route.method) \(path): \(answer.status) \(answer.body)")
                }
                guard route.path == "/ws" else { continue }
                for path in Self.nonCanonicalSpellings(of: route.path) + Self.caseSpellings(of: route.path) {
                    let answer = await RawHTTPExchange.send(port: port, method: "GET", path: path, headers: own + Self.webSocketUpgrade)
                    #expect(Self.refusedUpgrade(answer), "upgrade \(path): \(answer.head)")
                }
                // The canonical spelling upgrades.
                let upgraded = await RawHTTPExchange.send(port: port, method: "GET", path: "/ws", headers: own + Self.webSocketUpgrade)
                #expect(upgraded.status == 101, "\(upgraded.head)")
            }
            #expect(await controller.currentStatus().link == .idle)
            // The page itself, under its own spelling, from anywhere; other spellings are refused.
            let page = await RawHTTPExchange.send(port: port, method: "GET", path: "/", headers: [("Host", "evil.example")])
            #expect(page.status == 200 && page.body.contains("<html"), "\(page.status)")
            let script = await RawHTTPExchange.send(port: port, method: "GET", path: "/js/app.js", headers: [("Host", "localhost"), ("Origin", "http://127.0.0.1:8000")])
            #expect(script.status == 200)
            for path in ["//js/app.js", "/js/../js/app.js", "/js/%61pp.js", "/js/app.js/", "/%2e%2e/Package.swift", "/js/..%2f..%2fPackage.swift"] {
                let answer = await RawHTTPExchange.send(port: port, method: "GET", path: path, headers: [("Host", "localhost:\(port)")])
                #expect(answer.status == 400 && answer.errorCode == "invalid_path", "\(path): \(answer.status) \(answer.body)")
            }
        }
    }

    @Test func stateChangingRequestsNeedAJSONContentType() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        try await Self.withEdge(fixture, key: key) { port, controller, _ in
            let host = ("Host", "localhost:\(port)")
            // The types a cross-site form or a no-cors fetch can send without a preflight, and none.
            let simple: [String?] = [
                "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                nil, "", "application/jsonp", "text/json", "application/json-seq", "application/x-json",
            ]
            for path in ["/api/translation/start", "/api/translation/stop"] {
                for type in simple {
                    // With the page's own Origin and without one (a local tool): the type decides.
                    for origin in ["http://localhost:\(port)", nil] as [String?] {
                        var headers = [host]
                        if let origin { headers.append(("Origin", origin)) }
                        if let type { headers.append(("Content-Type", type)) }
                        let answer = await RawHTTPExchange.send(port: port, method: "POST", path: path, headers: headers, body: Self.startBody)
                        #expect(answer.status == 415 && answer.errorCode == "unsupported_media_type",
                                "\(path) \(type ?? "no type") \(origin ?? "no origin"): \(answer.status) \(answer.body)")
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(await controller.currentStatus().link == .idle)
            #expect(try await fixture.store.license(id: id)?.sessionsUsed == 0)
            // JSON with parameters, in any case, is what the page sends.
            let start = await RawHTTPExchange.send(
                port: port, method: "POST", path: "/api/translation/start",
                headers: [host, ("Origin", "http://localhost:\(port)"), ("Content-Type", "Application/JSON; charset=utf-8")], body: Self.startBody)
            #expect(start.status == 202, "\(start.body)")
            let stop = await RawHTTPExchange.send(port: port, method: "POST", path: "/api/translation/stop", headers: [host, ("Content-Type", "application/json")])
            #expect(stop.status == 200, "\(stop.body)")
        }
    }

    @Test func onlyDevicesTheEdgeKnowsReachALSA() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("devices-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ran = directory.appendingPathComponent("ran").path
        let written = directory.appendingPathComponent("written").path
        // alsa-lib's PCM names are a configuration language: `file:'|…'` is popen(), `file:'…'` a file.
        let hostile = [
            "file:'|touch \(ran)',raw", "file:\"|touch \(ran)\",raw", "file:'\(written)',raw", "file:\(written)",
            "|touch \(ran)", "hw:99", "plughw:99,0", "hw:CARD=Other,DEV=0", "default'", "default\"", "default ", "DEFAULT",
            "{ type file slave.pcm null file \"\(written)\" }", "hw:CARD=Missing,DEV=0{}", "hw:CARD=Missing,DEV=0 ", "", "browser ", "null",
        ]
        // The system's ALSA configuration, as in production: it defines the `file` plugin.
        let configured = "hw:CARD=Missing,DEV=0"
        try await Self.withEdge(fixture, key: key, audio: ALSAAudioSource(configurationText: nil), device: configured) { port, controller, edge in
            let own: HTTPFields = [Self.origin: "http://localhost:\(port)", .contentType: "application/json"]
            for device in hostile {
                let body = try JSONSerialization.data(withJSONObject: ["source_language": "zh", "target_language": "en", "device": device])
                let answer = try await edge.execute(uri: "/api/translation/start", method: .post, headers: own, body: ByteBuffer(bytes: body)) { $0 }
                #expect(answer.status == .badRequest && String(buffer: answer.body).contains("invalid_device"),
                        "\(device): \(answer.status) \(String(buffer: answer.body))")
            }
            // Give any capture thread time to open what it was given.
            try await Task.sleep(for: .milliseconds(1_500))
            #expect(!FileManager.default.fileExists(atPath: ran), "a device name ran a command")
            #expect(!FileManager.default.fileExists(atPath: written), "a device name wrote a file")
            #expect(await controller.currentStatus().link == .idle)
            #expect(try await fixture.store.license(id: id)?.sessionsUsed == 0)
            // The configured device is always a valid choice (this one is missing: capture says so).
            let body = ByteBuffer(string: #"{"source_language":"zh","target_language":"en","device":"hw:CARD=Missing,DEV=0"}"#)
            let accepted = try await edge.execute(uri: "/api/translation/start", method: .post, headers: own, body: body) { $0 }
            #expect(accepted.status == .accepted, "\(String(buffer: accepted.body))")
            _ = try await edge.execute(uri: "/api/translation/stop", method: .post, headers: own) { $0 }
        }
    }

    @Test func centralsRefusalIsPassedOnAndDoesNotWedgeTheEdge() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, _) = try await fixture.createLicense { $0.concurrent = 1; $0.devices = 5 }
        try await fixture.withLiveServer { central in
            // Another device holds the only stream.
            let other = try await central.admit(key: key, device: "another-edge")
            let otherSession = try #require(try other.json()["session_id"] as? String)
            let (configuration, controller) = try Self.controller(centralPort: central.port, key: key, audio: try Self.microphone(seconds: 1))
            let app = LocalAPI.buildApplication(configuration: configuration, controller: controller, logger: Logger(label: "edge"))
            try await app.test(.live) { edge in
                let body = ByteBuffer(string: #"{"source_language":"zh","target_language":"en"}"#)
                let json: HTTPFields = [.contentType: "application/json"]
                let refused = try await edge.execute(uri: "/api/translation/start", method: .post, headers: json, body: body) { $0 }
                #expect(refused.status == .tooManyRequests)
                #expect(String(buffer: refused.body).contains("concurrency_limit"))
                #expect(try await central.edge(.delete, "/v1/sessions/\(otherSession)", key: key).status == .noContent)
                let accepted = try await edge.execute(uri: "/api/translation/start", method: .post, headers: json, body: body) { $0 }
                #expect(accepted.status == .accepted, "\(String(buffer: accepted.body))")
                _ = try await edge.execute(uri: "/api/translation/stop", method: .post, headers: json) { $0 }
            }
        }
    }
}
