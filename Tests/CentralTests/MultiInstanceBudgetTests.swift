@testable import Central
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Protocol
import Testing

/// Two central instances (each its own connection pool and instance id) on one PostgreSQL
/// database, one session of a license on each: the license's balance is one budget, so together
/// they go at most 1 s past it, and what each forwarded to the provider is what it billed.
@Suite(.bounded, .postgresTestScope, .enabled(if: !PostgresTestServer.optedOut, "CENTRAL_TEST_SKIP_POSTGRES=1"))
struct MultiInstanceBudgetTests {
    static let frameMs: Int64 = 20

    /// Runs `body` with two live instances of central on one fresh database.
    func withTwoInstances<T: Sendable>(
        provider: CountingSpeechProvider, _ body: @Sendable (PostgresCentralStore, LiveCentral, LiveCentral) async throws -> T
    ) async throws -> T {
        let (store, another) = try await PostgresTestServer.freshStore()
        let second = await another()
        var quiet = Logger(label: "central-test")
        quiet.logLevel = .warning
        func app(_ store: PostgresCentralStore, instance: String) throws -> some ApplicationProtocol {
            var configuration = try CentralFixture(realTime: true).configuration
            configuration.instanceID = instance
            return try buildApplication(
                configuration: configuration, store: store, clock: SystemWallClock(),
                providers: ProviderRegistry(single: provider), logger: quiet)
        }
        let first = try app(store, instance: "central-a")
        let other = try app(second, instance: "central-b")
        return try await first.test(.live) { a in
            try await other.test(.live) { b in
                try await body(store, LiveCentral(client: a), LiveCentral(client: b))
            }
        }
    }

    @Test func sessionsOnTwoInstancesShareOneBalance() async throws {
        let provider = CountingSpeechProvider()
        try await withTwoInstances(provider: provider) { store, a, b in
            let administration = StoreLicenseAdministration(
                store: store, clock: SystemWallClock(), actor: AdminOperator(name: "test", ip: nil))
            // A 6 s license, and 5 s of real-time audio on each instance.
            let (key, id) = try await TestLicense.create(with: administration) {
                $0.minutes = 6.0 / 60
                $0.concurrent = 2
                $0.devices = 2
            }
            let (onA, startedA) = try await a.openStream(key: key, device: "device-a")
            let (onB, startedB) = try await b.openStream(key: key, device: "device-b")
            let frames = OpusTestAudio.frames(seconds: 5)
            await withTaskGroup(of: Void.self) { group in
                for client in [onA, onB] {
                    group.addTask { await client.stream(frames, interval: .milliseconds(20)) }
                }
            }
            var stops: [StoppedMessage] = []
            for client in [onA, onB] {
                if let stopped = await client.stopped(timeout: .milliseconds(500)) {
                    stops.append(stopped)
                } else {
                    client.send(.stop(StopMessage()))
                    stops.append(try #require(await client.stopped(), "no stopped: \(client.messages.suffix(3))"))
                }
            }
            #expect(stops.contains { $0.reason == .minutesExhausted }, "\(stops)")
            for (stopped, session) in zip(stops, [startedA.sessionID, startedB.sessionID]) {
                let forwarded = provider.forwardedMs(session)
                #expect(abs(forwarded - stopped.billedMs) <= Self.frameMs, "session \(session) forwarded \(forwarded) ms, billed \(stopped.billedMs) ms")
            }
            let license = try #require(try await store.license(id: id))
            #expect(provider.totalForwardedMs <= 6_000 + 1_000, "forwarded \(provider.totalForwardedMs) ms on a 6 s license")
            #expect(license.usedMs <= 6_000 && license.usedMs >= 6_000 - 2 * Self.frameMs, "billed \(license.usedMs)")
            let ledger = try await store.ledger(licenseID: id).filter { $0.kind == .debit }.reduce(0) { $0 + $1.amountMs }
            #expect(ledger == license.usedMs)
            let sessions = try await [store.streamSession(id: startedA.sessionID), store.streamSession(id: startedB.sessionID)]
            #expect(sessions.map { $0?.owner } == ["central-a", "central-b"])
        }
    }
}
