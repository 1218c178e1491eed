@testable import Central
import Foundation
import Protocol
import Testing

/// RFC 6455 §5.1: a server must close the connection, with 1002, on any client frame that is
/// not masked. Written byte for byte on a raw socket: WebSocket clients always mask.
@Suite(.bounded, .serialized) struct WebSocketMaskingTests {
    /// Opens a raw WebSocket to `/v1/stream` with a fresh stream token; returns the connection
    /// after the 101 and whatever followed it.
    static func upgradedStream(_ central: LiveCentral, key: String) async throws -> RawConnection {
        let admitted = try await central.admit(key: key)
        let token = try #require(try admitted.json()["stream_token"] as? String)
        let connection = try #require(RawConnection(port: central.port))
        connection.send("GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer \(token)\r\n\r\n")
        var head = ""
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        while !head.contains("\r\n\r\n"), clock.now < deadline {
            let part = await connection.read(atLeast: 1, timeout: .seconds(1))
            head += part.text
            if part.closed { break }
        }
        try #require(head.hasPrefix("HTTP/1.1 101"), "no upgrade: \(head)")
        return connection
    }

    /// A frame as a client writes it, masked unless told otherwise.
    static func frame(opcode: UInt8, payload: [UInt8], masked: Bool) -> [UInt8] {
        var bytes: [UInt8] = [0x80 | opcode]
        let maskBit: UInt8 = masked ? 0x80 : 0
        if payload.count < 126 {
            bytes.append(maskBit | UInt8(payload.count))
        } else {
            bytes.append(maskBit | 126)
            bytes += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        }
        guard masked else { return bytes + payload }
        let key: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        return bytes + key + payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
    }

    static let start = Array(ControlMessage.start(StartMessage(sourceLanguage: "zh", targetLanguage: "en")).encodedText().utf8)

    /// The close frame a server sends for a protocol error: FIN + close, length 2, code 1002.
    static let closeProtocolError: [UInt8] = [0x88, 0x02, 0x03, 0xEA]

    @Test func anUnmaskedFrameClosesTheStreamWith1002() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, _) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let connection = try await Self.upgradedStream(central, key: key)
            connection.send(Self.frame(opcode: 0x1, payload: Self.start, masked: false))
            let outcome = await connection.waitForClose(timeout: .seconds(3))
            #expect(outcome.closed, "an unmasked frame left the stream open")
            #expect(outcome.bytes.starts(with: Self.closeProtocolError), "expected close 1002, got \(outcome.bytes.prefix(16))")
            #expect(!outcome.text.contains("\"started\""), "central acted on an unmasked frame")
        }
    }

    @Test func anUnmaskedFrameAfterMaskedOnesAlsoCloses() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, _) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let connection = try await Self.upgradedStream(central, key: key)
            connection.send(Self.frame(opcode: 0x1, payload: Self.start, masked: true))
            let started = await connection.read(atLeast: 40, timeout: .seconds(3))
            #expect(started.text.contains("\"started\""), "a masked start was not answered: \(started.text)")
            // A ping with 130 bytes (extended length) unmasked, in the same write as a masked one.
            let ping = Self.frame(opcode: 0x9, payload: [UInt8](repeating: 7, count: 120), masked: true)
            let unmasked = Self.frame(opcode: 0x2, payload: [UInt8](repeating: 1, count: 300), masked: false)
            connection.send(ping + unmasked)
            let outcome = await connection.waitForClose(timeout: .seconds(3))
            #expect(outcome.closed, "an unmasked frame left the stream open")
            #expect(outcome.bytes.windows(ofCount: 4).contains { Array($0) == Self.closeProtocolError },
                    "expected close 1002, got \(outcome.bytes.suffix(16))")
        }
    }
}

private extension Array where Element == UInt8 {
    func windows(ofCount count: Int) -> [ArraySlice<UInt8>] {
        guard self.count >= count else { return [] }
        return (0...(self.count - count)).map { self[$0..<($0 + count)] }
    }
}
