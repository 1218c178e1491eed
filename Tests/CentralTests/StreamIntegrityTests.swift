import AsyncHTTPClient
@testable import Central
import Foundation
import NIOCore
import Protocol
import Testing

/// Acked means kept: an acknowledged frame reached the provider, whatever the provider's
/// speed; sequence numbers never wrap or reset; shutdown tells every edge why.
@Suite(.bounded, .serialized) struct StreamIntegrityTests {
    @Test func aReplayBurstIntoASlowProviderLosesNoAckedFrame() async throws {
        // A provider that takes 1 frame per ms into a 20-frame queue: a 500-frame burst fills it.
        let provider = CountingSpeechProvider(capacity: 20, drainInterval: .milliseconds(1))
        let fixture = try CentralFixture(realTime: true)
        let (key, _) = try await fixture.createLicense { $0.minutes = 600; $0.sessions = 100 }
        try await fixture.withLiveServer(provider: provider) { central in
            for round in 0..<20 {
                let (client, started) = try await central.openStream(key: key)
                await client.stream(OpusTestAudio.frames(seconds: 10))
                client.send(.stop(StopMessage()))
                let stopped = try #require(await client.stopped(timeout: .seconds(30)), "round \(round)")
                let acked = try #require(client.lastAck, "round \(round): no ack")
                let received = provider.ledger.sequences[started.sessionID] ?? []
                #expect(acked.lastSequence == 499, "round \(round): acked \(acked.lastSequence)")
                #expect(received == Array(0...acked.lastSequence), "round \(round): \(received.count) frames reached the provider")
                #expect(stopped.billedMs == 10_000)
            }
        }
    }

    @Test func aProviderThatStopsTakingAudioEndsTheSessionWithACode() async throws {
        // A queue of 5 frames drained once a minute: the provider has stalled.
        let provider = CountingSpeechProvider(capacity: 5, drainInterval: .seconds(60))
        let fixture = try CentralFixture(realTime: true) { $0.stream.providerStallTimeout = .milliseconds(500) }
        let (key, _) = try await fixture.createLicense()
        try await fixture.withLiveServer(provider: provider) { central in
            let (client, _) = try await central.openStream(key: key)
            await client.stream(OpusTestAudio.frames(seconds: 1))
            // 0.5 s of stall, then the provider's bounded finish (the counting provider gives
            // a stalled queue 5 s).
            let stopped = try #require(await client.stopped(timeout: .seconds(15)))
            #expect(stopped.reason == .providerTimeout)
            // Nothing the provider did not take was acked.
            #expect((client.lastAck?.lastSequence ?? 0) <= 4)
        }
    }

    @Test func aForwardJumpBeyondTheBoundIsAMalformedFrame() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, _) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let (client, _) = try await central.openStream(key: key)
            let frames = OpusTestAudio.frames(seconds: 0.1)
            client.send(frames[0])
            let far = try AudioFrame(sequence: UInt32.max, captureTimeMicroseconds: 0, packet: frames[1].packet)
            client.send(far)
            let error = try #require(await client.waitFor { if case .error(let e) = $0 { e } else { nil } })
            #expect(error.code == .malformedFrame && !error.fatal)
            // The stream goes on from where it was.
            for frame in frames.dropFirst() { client.send(frame) }
            client.send(.stop(StopMessage()))
            let stopped = try #require(await client.stopped())
            #expect(stopped.billedMs == 100)
            #expect(client.lastAck?.lastSequence == 4)
        }
    }

    @Test func theMeterNeverWrapsOrResets() {
        var meter = SequenceMeter(nextSequence: Int64(UInt32.max) - 1)
        #expect(meter.meter(sequence: UInt32.max - 1, durationMicroseconds: 20_000) == .new(missing: 0))
        #expect(meter.meter(sequence: UInt32.max, durationMicroseconds: 20_000) == .new(missing: 0))
        // Everything after the last number: nothing more, and never "new" again.
        #expect(meter.classify(0) == .exhausted)
        #expect(meter.classify(12) == .exhausted)
        #expect(meter.acceptedMicroseconds == 40_000)
        #expect(meter.lastSequence == Int64(UInt32.max))

        var fresh = SequenceMeter()
        #expect(fresh.classify(UInt32(SequenceMeter.maxForwardJump) + 1) == .jumpTooFar)
        #expect(fresh.meter(sequence: 10, durationMicroseconds: 2_500) == .new(missing: 10))
        #expect(fresh.classify(3) == .duplicate)
        #expect(fresh.acceptedMicroseconds == 2_500)
    }

    @Test func sigtermStopsEveryStreamWithServerShutdownBeforeClosing() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense { $0.concurrent = 2; $0.devices = 2 }
        let port = CentralProcess.freePort()
        let central = try CentralProcess(databasePath: fixture.databasePath, port: port, adminToken: CentralFixture.adminToken)
        defer { central.stop() }
        try await central.waitUntilServing()

        var clients: [StreamTestClient] = []
        for index in 0..<2 {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/sessions")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(key)")
            request.body = .bytes(ByteBuffer(string: #"{"device_id":"shutdown-edge-\#(index)"}"#))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 16)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
            let client = StreamTestClient(port: port, token: try #require(object["stream_token"] as? String))
            client.start()
            #expect(await client.started() != nil)
            await client.stream(OpusTestAudio.frames(seconds: 1))
            clients.append(client)
        }
        _ = await clients[1].waitFor { if case .ack(let a) = $0, a.lastSequence == 49 { a } else { nil } }
        // SIGTERM, then waits for the exit: a graceful shutdown, not an error (container-check saw 1).
        #expect(central.stop() == 0)
        var billed: Int64 = 0
        for client in clients {
            let stopped = try #require(await client.stopped(timeout: .seconds(2)), "no stopped: \(client.messages.suffix(2))")
            #expect(stopped.reason == .serverShutdown)
            #expect(stopped.billedMs == 1_000)
            billed += stopped.billedMs
        }
        #expect(try await fixture.store.license(id: id)?.usedMs == billed)
        #expect(try await fixture.store.activeLeaseCount(now: Date()) == 0)
    }
}
