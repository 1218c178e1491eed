@testable import Central
import Foundation
import Protocol
import Testing

/// One budget per license, held in the store and shared by every live session: what the
/// provider was sent equals what was billed, and the license never goes more than 1 s past
/// its total or its daily cap, whatever the number of sessions and however fast they send.
@Suite(.bounded, .serialized) struct LicenseBudgetTests {
    /// A 20 ms frame: the metering grain a session may be off by.
    static let frameMs: Int64 = 20

    struct Outcome {
        var forwardedMs: Int64
        var billedMs: Int64
        var stops: [StoppedMessage]
    }

    /// `realTime` sessions send at 20 ms per frame, `fast` ones as fast as the socket takes it.
    func race(
        limitMinutes: Double? = nil, dailyMinutes: Double? = nil, realTime: Int, fast: Int, seconds: Double
    ) async throws -> Outcome {
        let provider = CountingSpeechProvider()
        let fixture = try CentralFixture(realTime: true)
        let sessions = realTime + fast
        let (key, id) = try await fixture.createLicense {
            $0.minutes = limitMinutes ?? 60
            $0.dailyMinutes = dailyMinutes
            $0.concurrent = sessions
            $0.devices = sessions
        }
        return try await fixture.withLiveServer(provider: provider) { central in
            var clients: [(StreamTestClient, String)] = []
            for index in 0..<sessions {
                let (client, started) = try await central.openStream(key: key, device: "device-\(index)")
                clients.append((client, started.sessionID))
            }
            let frames = OpusTestAudio.frames(seconds: seconds)
            await withTaskGroup(of: Void.self) { group in
                for (index, (client, _)) in clients.enumerated() {
                    group.addTask { await client.stream(frames, interval: index < realTime ? .milliseconds(20) : nil) }
                }
            }
            var stops: [StoppedMessage] = []
            for (client, _) in clients {
                if let stopped = await client.stopped(timeout: .milliseconds(500)) {
                    stops.append(stopped)
                } else {
                    client.send(.stop(StopMessage()))
                    stops.append(try #require(await client.stopped(), "no stopped: \(client.messages.suffix(3))"))
                }
            }
            for (stopped, (_, session)) in zip(stops, clients) {
                // Per session: forwarded = billed, within one frame.
                let forwarded = provider.forwardedMs(session)
                #expect(abs(forwarded - stopped.billedMs) <= Self.frameMs, "session \(session) forwarded \(forwarded) ms, billed \(stopped.billedMs) ms")
            }
            let license = try #require(try await fixture.store.license(id: id))
            let ledger = try await fixture.store.ledger(licenseID: id).filter { $0.kind == .debit }.reduce(0) { $0 + $1.amountMs }
            #expect(ledger == license.usedMs)
            return Outcome(forwardedMs: provider.totalForwardedMs, billedMs: license.usedMs, stops: stops)
        }
    }

    @Test func realTimeSessionsShareTheLastSeconds() async throws {
        // 4 real-time sessions on a 6 s license, each with 4 s to send.
        let outcome = try await race(limitMinutes: 6.0 / 60, realTime: 4, fast: 0, seconds: 4)
        #expect(outcome.forwardedMs <= 6_000 + 1_000, "forwarded \(outcome.forwardedMs) ms on a 6 s license")
        #expect(outcome.billedMs <= 6_000)
        #expect(outcome.billedMs >= 6_000 - 4 * Self.frameMs, "the license was not spent: \(outcome.billedMs)")
        #expect(outcome.stops.contains { $0.reason == .minutesExhausted })
    }

    @Test func fastSendersCannotSpendPastTheTotal() async throws {
        // 3 senders faster than real time plus one real-time, on a 10 s license.
        let outcome = try await race(limitMinutes: 10.0 / 60, realTime: 1, fast: 3, seconds: 10)
        #expect(outcome.forwardedMs <= 10_000 + 1_000, "forwarded \(outcome.forwardedMs) ms on a 10 s license")
        #expect(outcome.billedMs <= 10_000)
        #expect(outcome.stops.contains { $0.reason == .minutesExhausted })
    }

    @Test func fastSendersCannotSpendPastTheDailyCap() async throws {
        let outcome = try await race(dailyMinutes: 10.0 / 60, realTime: 1, fast: 3, seconds: 10)
        #expect(outcome.forwardedMs <= 10_000 + 1_000, "forwarded \(outcome.forwardedMs) ms against a 10 s daily cap")
        #expect(outcome.billedMs <= 10_000)
        #expect(outcome.stops.contains { $0.reason == .dailyLimitReached })
    }

    @Test func audioAheadOfTheWallClockIsRefusedAndNotForwarded() async throws {
        let provider = CountingSpeechProvider()
        let fixture = try CentralFixture(realTime: true) { $0.stream.paceAllowanceMs = 2_000 }
        let (key, _) = try await fixture.createLicense()
        try await fixture.withLiveServer(provider: provider) { central in
            let (client, started) = try await central.openStream(key: key)
            // 6 s of audio in one burst: only the allowance (and the little time that passed) is taken.
            await client.stream(OpusTestAudio.frames(seconds: 6))
            let refusal = try #require(await client.waitFor { if case .error(let e) = $0, e.code == .audioTooFast { e } else { nil } })
            #expect(!refusal.fatal)
            client.send(.stop(StopMessage()))
            let stopped = try #require(await client.stopped())
            let forwarded = provider.forwardedMs(started.sessionID)
            #expect(forwarded < 4_000, "forwarded \(forwarded) ms of a 6 s burst with a 2 s allowance")
            #expect(abs(forwarded - stopped.billedMs) <= Self.frameMs)
        }
    }
}
