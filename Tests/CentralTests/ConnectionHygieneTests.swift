@testable import Central
import Foundation
import Protocol
import Testing

/// What central does with clients that stall, drip bytes or send garbage: raw sockets against a
/// live central on a real port. Timeouts are short here (1 s header, 1 s body, 2 s idle) so each
/// case shows within a few seconds; the defaults are checked on their own.
@Suite(.bounded, .serialized) struct ConnectionHygieneTests {
    static func fixture() throws -> CentralFixture {
        try CentralFixture(realTime: true) { configuration in
            configuration.http.headerTimeout = .seconds(1)
            configuration.http.bodyTimeout = .seconds(1)
            configuration.http.idleTimeout = .seconds(2)
        }
    }

    /// Slack for scheduling on a loaded test machine.
    static let slack: Duration = .milliseconds(1_500)

    static func connect(_ central: LiveCentral) throws -> RawConnection {
        try #require(RawConnection(port: central.port), "cannot connect to central")
    }

    /// A GET on a connection of its own (the test client's shared connection may itself have
    /// been closed for idling), answered with `Connection: close`.
    static func get(_ central: LiveCentral, _ path: String) async -> RawConnection.Outcome {
        guard let connection = RawConnection(port: central.port) else { return RawConnection.Outcome(bytes: [], closed: true, elapsed: .zero) }
        connection.send("GET \(path) HTTP/1.1\r\nHost: central\r\nConnection: close\r\n\r\n")
        return await connection.waitForClose(timeout: .seconds(3))
    }

    static func healthz(_ central: LiveCentral) async -> Int { await get(central, "/healthz").status }

    @Test func theDefaultsAreTheDocumentedOnes() {
        let limits = HTTPConnectionLimits()
        #expect(limits.headerTimeout == .seconds(10))
        #expect(limits.bodyTimeout == .seconds(30))
        #expect(limits.idleTimeout == .seconds(75))
        #expect(limits.maxHeaderFieldBytes == 8 * 1024)
        #expect(limits.maxHeaderBytes == 16 * 1024)
        #expect(limits.maxHeaderCount == 100)
    }

    @Test func aSilentSocketIsClosedWithinTheHeaderTimeout() async throws {
        try await Self.fixture().withLiveServer { central in
            let connection = try Self.connect(central)
            let outcome = await connection.waitForClose(timeout: .seconds(1) + Self.slack)
            #expect(outcome.closed, "a socket that sends nothing is still open after \(outcome.elapsed)")
            #expect(outcome.elapsed >= .milliseconds(900))
        }
    }

    @Test func aPartialHeadIsClosedWithinTheHeaderTimeoutEvenWhileBytesDrip() async throws {
        try await Self.fixture().withLiveServer { central in
            let connection = try Self.connect(central)
            connection.send("GET /healthz HTTP/1.1\r\nHost: central\r\n")
            // One header byte every 200 ms: each byte must not restart the clock.
            let drip = Task {
                for byte in Array("X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".utf8) {
                    try await Task.sleep(for: .milliseconds(200))
                    guard connection.send([byte]) else { return }
                }
            }
            let outcome = await connection.waitForClose(timeout: .seconds(1) + Self.slack)
            drip.cancel()
            #expect(outcome.closed, "a dripped head is still open after \(outcome.elapsed)")
        }
    }

    @Test func aControlCharacterInAHeaderIsAnswered400AtOnce() async throws {
        try await Self.fixture().withLiveServer { central in
            let connection = try Self.connect(central)
            connection.send("GET /healthz HTTP/1.1\r\nHost: central\r\nX-Evil: a\u{01}b\r\n\r\n")
            // The head is whole, so no timeout applies: only the guard answers 400
            // malformed_request (800 ms was too tight with every suite running on two cores).
            let outcome = await connection.waitForClose(timeout: .seconds(3))
            #expect(outcome.status == 400, "\(outcome.text)")
            #expect(outcome.text.contains(#""code":"malformed_request""#), "\(outcome.text)")
            #expect(outcome.closed, "still open after answering a malformed head")
        }
    }

    @Test(arguments: [
        "X-Evil: a\u{7F}b", "X-Evil: a\u{0B}b", "X-Evil: line\rbreak", "X\u{01}Name: value",
    ])
    func controlCharactersAnywhereInTheHeadAreRefused(header: String) async throws {
        try await Self.fixture().withLiveServer { central in
            let connection = try Self.connect(central)
            connection.send("GET /healthz HTTP/1.1\r\nHost: central\r\n\(header)\r\n\r\n")
            // A whole head: only the guard answers 400 (see aControlCharacterInAHeader…).
            let outcome = await connection.waitForClose(timeout: .seconds(3))
            #expect(outcome.status == 400, "\(header.debugDescription): \(outcome.text)")
            #expect(outcome.closed)
        }
    }

    @Test func aHundredKilobyteURIIsRefusedBeforeItIsRead() async throws {
        try await Self.fixture().withLiveServer { central in
            let connection = try Self.connect(central)
            // Sent in one go; central must answer without waiting for a head that never ends.
            connection.send("GET /healthz?" + String(repeating: "a", count: 100_000) + " HTTP/1.1\r\nHost: central\r\n\r\n")
            let outcome = await connection.waitForClose(timeout: .seconds(3))
            #expect(outcome.status == 431 || outcome.status == 414, "\(outcome.text.prefix(200))")
            #expect(outcome.closed)
        }
    }

    @Test func anOversizeHeaderBlockIsRefused() async throws {
        try await Self.fixture().withLiveServer { central in
            let connection = try Self.connect(central)
            // Every field is small; together they pass 16 KB.
            let fields = (0..<40).map { "X-Pad-\($0): " + String(repeating: "b", count: 500) }.joined(separator: "\r\n")
            connection.send("GET /healthz HTTP/1.1\r\nHost: central\r\n\(fields)\r\n\r\n")
            let outcome = await connection.waitForClose(timeout: .seconds(3))
            #expect(outcome.status == 431, "\(outcome.text.prefix(200))")
            #expect(outcome.closed)
        }
    }

    @Test func tooManyHeaderFieldsAreRefused() async throws {
        try await Self.fixture().withLiveServer { central in
            let connection = try Self.connect(central)
            let fields = (0..<150).map { "X-\($0): v" }.joined(separator: "\r\n")
            connection.send("GET /healthz HTTP/1.1\r\nHost: central\r\n\(fields)\r\n\r\n")
            let outcome = await connection.waitForClose(timeout: .seconds(3))
            #expect(outcome.status == 431, "\(outcome.text.prefix(200))")
            #expect(outcome.closed)
        }
    }

    @Test func aHeadThatIsNotHTTPIsAnswered400() async throws {
        try await Self.fixture().withLiveServer { central in
            let connection = try Self.connect(central)
            connection.send("\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}\u{00}\u{01}\u{fc}\u{03}\u{03}\r\n\r\n")
            let outcome = await connection.waitForClose(timeout: .seconds(3))
            #expect(outcome.status == 400, "\(outcome.text)")
            #expect(outcome.closed)
        }
    }

    @Test func aBodyThatStopsHalfWayIsClosedWithinTheBodyTimeout() async throws {
        let fixture = try Self.fixture()
        try await fixture.withLiveServer { central in
            let connection = try Self.connect(central)
            connection.send("POST /v1/admin/licenses HTTP/1.1\r\nHost: central\r\nAuthorization: Bearer \(CentralFixture.adminToken)\r\n"
                + "Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"name\":")
            let outcome = await connection.waitForClose(timeout: .seconds(1) + Self.slack)
            #expect(outcome.closed, "a half-sent body is still open after \(outcome.elapsed)")
        }
    }

    @Test func aDrippedBodyIsClosedAtTheBodyTimeout() async throws {
        try await Self.fixture().withLiveServer { central in
            let connection = try Self.connect(central)
            connection.send("POST /v1/sessions HTTP/1.1\r\nHost: central\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
            let drip = Task {
                for _ in 0..<100 {
                    try await Task.sleep(for: .milliseconds(100))
                    guard connection.send(" ") else { return }
                }
            }
            let outcome = await connection.waitForClose(timeout: .seconds(1) + Self.slack)
            drip.cancel()
            #expect(outcome.closed, "a dripped body is still open after \(outcome.elapsed)")
        }
    }

    @Test func aKeptAliveConnectionIsClosedAtTheIdleTimeoutNotBefore() async throws {
        try await Self.fixture().withLiveServer { central in
            let connection = try Self.connect(central)
            connection.send("GET /healthz HTTP/1.1\r\nHost: central\r\n\r\n")
            let answer = await connection.read(atLeast: 12, timeout: .seconds(2))
            #expect(answer.status == 200, "\(answer.text)")
            // Past the header timeout the connection is still kept alive for the next request…
            let early = await connection.waitForClose(timeout: .milliseconds(1_300))
            #expect(!early.closed, "a kept-alive connection closed after \(early.elapsed), before the idle timeout")
            connection.send("GET /healthz HTTP/1.1\r\nHost: central\r\n\r\n")
            #expect(await connection.read(atLeast: 12, timeout: .seconds(2)).status == 200)
            // …and closed once it has been idle for the idle timeout.
            let late = await connection.waitForClose(timeout: .seconds(2) + Self.slack)
            #expect(late.closed, "an idle kept-alive connection is still open after \(late.elapsed)")
            #expect(late.elapsed >= .milliseconds(1_800))
        }
    }

    @Test func aSlowlorisBatchIsShedAndCentralKeepsAnswering() async throws {
        try await Self.fixture().withLiveServer { central in
            // 300 silent sockets and 300 that send half a head.
            var connections: [RawConnection] = []
            for index in 0..<600 {
                let connection = try Self.connect(central)
                if index % 2 == 1 { connection.send("GET /healthz HTTP/1.1\r\nHost: central\r\nX-Wait: ") }
                connections.append(connection)
            }
            // Meanwhile an honest client on a fresh connection is served.
            #expect(await Self.healthz(central) == 200)
            let closed = await RawConnection.waitUntilClosed(connections, timeout: .seconds(1) + .seconds(3))
            #expect(closed == connections.count, "\(connections.count - closed) of \(connections.count) stalled sockets still open")
            #expect(await Self.healthz(central) == 200)
            let metrics = await Self.get(central, "/metrics")
            #expect(PrometheusText(metrics.text).value("central_http_connections_shed_total", ["reason": "header_timeout"]) ?? 0 > 0,
                    "\(metrics.text.suffix(300))")
        }
    }

    @Test func anUpgradedStreamIsNotCutByTheHTTPTimeouts() async throws {
        let fixture = try Self.fixture()
        let (key, _) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let (client, _) = try await central.openStream(key: key)
            // Longer than the header, body and idle timeouts together; the stream's own edge
            // timeout (15 s) is what applies to it.
            try await Task.sleep(for: .milliseconds(4_500))
            client.send(.stop(StopMessage()))
            let stopped = try #require(await client.stopped(), "the stream was cut: \(client.messages.suffix(3))")
            #expect(stopped.reason == .clientStop)
        }
    }

    /// Holds connections past the server's closure, so they are open while it shuts down.
    final class Held: @unchecked Sendable {
        // @unchecked: written inside the server closure, read after it returned.
        var connections: [RawConnection] = []
        var shutdownStarted = ContinuousClock.now
    }

    @Test func aGracefulShutdownDoesNotWaitForSocketsThatNeverSentARequest() async throws {
        let fixture = try CentralFixture(realTime: true) { $0.http.headerTimeout = .seconds(30) }
        let held = Held()
        let clock = ContinuousClock()
        try await fixture.withLiveServer { central in
            for _ in 0..<20 { held.connections.append(try Self.connect(central)) }
            let partial = try Self.connect(central)
            partial.send("GET /healthz HTTP/1.1\r\nHost: central\r\n")
            held.connections.append(partial)
            try await Task.sleep(for: .milliseconds(200))
            held.shutdownStarted = clock.now
        }
        // Without quiescing them the server waits out the 30 s header timeout.
        let took = clock.now - held.shutdownStarted
        #expect(took < .seconds(5), "shutdown took \(took)")
        #expect(await RawConnection.waitUntilClosed(held.connections, timeout: .seconds(1)) == held.connections.count)
    }

    @Test func theTimeoutsComeFromTheEnvironment() throws {
        let configuration = try CentralConfiguration.fromEnvironment([
            "HTTP_HEADER_TIMEOUT_SECONDS": "5", "HTTP_BODY_TIMEOUT_SECONDS": "20", "HTTP_IDLE_TIMEOUT_SECONDS": "90",
        ])
        #expect(configuration.http.headerTimeout == .seconds(5))
        #expect(configuration.http.bodyTimeout == .seconds(20))
        #expect(configuration.http.idleTimeout == .seconds(90))
        #expect(throws: CentralConfiguration.ConfigurationError.self) {
            try CentralConfiguration.fromEnvironment(["HTTP_HEADER_TIMEOUT_SECONDS": "0"])
        }
    }
}
