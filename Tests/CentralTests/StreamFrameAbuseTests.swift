import Foundation
import Protocol
import Testing

/// A hostile or sloppy edge against the event-loop frame path: audio the protocol does not
/// allow is refused with a code, never forwarded, never billed, and never acked; the stream
/// carries on.
struct StreamFrameAbuseTests {
    /// A fragmented binary message is one audio frame in two WebSocket frames: refused
    /// (`malformed_frame`, non-fatal), and the next ack shows it missing so the edge re-sends it.
    @Test func aFragmentedAudioFrameIsRefusedAndNeitherForwardedNorBilled() async throws {
        let provider = CountingSpeechProvider()
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer(provider: provider) { central in
            let (client, started) = try await central.openStream(key: key)
            let frames = OpusTestAudio.frames(seconds: 0.2)
            client.send(frames[0])
            client.sendFragmented(frames[1])
            let error = try #require(await client.waitFor { if case .error(let e) = $0 { e } else { nil } })
            #expect(error.code == .malformedFrame && !error.fatal)
            // The edge re-sends it whole, and the rest follows.
            for frame in frames.dropFirst() { client.send(frame) }
            let stopped = try await StreamTests.stoppedAfterStop(client)
            #expect(stopped.billedMs == 200)
            #expect(provider.ledger.sequences[started.sessionID] == Array(0..<10))
            #expect(try await fixture.store.license(id: id)?.usedMs == 200)
        }
    }

    /// Audio as the first message (before `start`): `unexpected_message`, close 4002, nothing
    /// opened, the lease given back.
    @Test func audioBeforeStartEndsTheConnectionAndReturnsTheLease() async throws {
        let provider = CountingSpeechProvider()
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer(provider: provider) { central in
            let client = try await central.connectStream(key: key)
            client.send(OpusTestAudio.frames(seconds: 0.02)[0])
            let error = try #require(await client.waitFor { if case .error(let e) = $0 { e } else { nil } })
            #expect(error.code == .unexpectedMessage && error.fatal)
            let close = try await client.connection.value
            #expect(close?.closeCode == .unknown(4002))
            #expect(provider.ledger.opened == 0)
            // The lease went back: the one-stream license admits again at once.
            #expect(try await central.admit(key: key).status == .created)
            #expect(try await fixture.store.license(id: id)?.usedMs == 0)
        }
    }

    /// Audio sent with `start`, before the `started` answer: no session is bound yet to meter
    /// it, so it is refused (`malformed_frame`, non-fatal) and the stream opens as usual.
    @Test func audioBeforeStartedIsRefusedAndNotBilled() async throws {
        let provider = CountingSpeechProvider()
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer(provider: provider) { central in
            let client = try await central.connectStream(key: key)
            let frames = OpusTestAudio.frames(seconds: 0.2)
            client.start()
            client.send(frames[0])
            let started = try #require(await client.started(), "\(client.messages)")
            #expect(started.nextSequence == 0)
            _ = await client.waitFor { if case .error(let e) = $0 { e } else { nil } }
            #expect(client.errors.map(\.code) == [.malformedFrame])
            #expect(client.errors.allSatisfy { !$0.fatal })
            for frame in frames { client.send(frame) }
            let stopped = try await StreamTests.stoppedAfterStop(client)
            #expect(stopped.billedMs == 200)
            #expect(provider.ledger.sequences[started.sessionID] == Array(0..<10))
            #expect(try await fixture.store.license(id: id)?.usedMs == 200)
        }
    }

    /// A connection taken over by a resume keeps sending: nothing it sends after the takeover
    /// reaches the provider twice or is billed twice, however the two race.
    @Test func aTakenOverConnectionCannotAddAudio() async throws {
        let provider = CountingSpeechProvider()
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer(provider: provider) { central in
            let (old, started) = try await central.openStream(key: key)
            let frames = OpusTestAudio.frames(seconds: 2)
            await old.stream(Array(frames[0..<25]))
            _ = await old.waitFor { if case .ack(let a) = $0, a.lastSequence == 24 { a } else { nil } }
            let resumed = try await central.edge(
                .post, "/v1/sessions", key: key, body: #"{"device_id":"device-1","resume_session_id":"\#(started.sessionID)"}"#)
            let fresh = StreamTestClient(port: central.port, token: try #require(try resumed.json()["stream_token"] as? String))
            // The old socket goes on sending the same audio while the new one takes over.
            let stale = Task { await old.stream(Array(frames[25..<100]), interval: .milliseconds(2)) }
            fresh.start(resume: started.sessionID)
            let again = try #require(await fresh.started())
            await fresh.stream(Array(frames[Int(again.nextSequence)..<100]))
            await stale.value
            let stopped = try await StreamTests.stoppedAfterStop(fresh)
            #expect(stopped.billedMs == 2_000)
            let sequences = provider.ledger.sequences[started.sessionID] ?? []
            #expect(sequences == Array(0..<100), "forwarded \(sequences.count) frames")
            #expect(try await fixture.store.license(id: id)?.usedMs == 2_000)
        }
    }
}
