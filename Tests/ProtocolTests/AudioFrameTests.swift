import Protocol
import Testing

@Suite(.bounded) struct AudioFrameTests {
    /// TOC 0x78: CELT config 15 (20 ms), one frame.
    static let twentyMsPacket: [UInt8] = [0x78, 0x01, 0x02, 0x03]

    @Test func goldenBytes() throws {
        let frame = try AudioFrame(sequence: 258, captureTimeMicroseconds: 0x0102_0304_0506_0708, packet: Self.twentyMsPacket)
        #expect(frame.durationMicroseconds == 20_000)
        #expect(frame.encoded() == [
            0x01, 0x01, 0x00, 0x00,
            0x00, 0x00, 0x01, 0x02,
            0x00, 0x00, 0x4E, 0x20,
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
            0x78, 0x01, 0x02, 0x03,
        ])
    }

    @Test func durationsComeFromTheOpusTableOfContents() throws {
        // SILK NB 10/20/40/60 ms, Hybrid 10/20 ms, CELT 2.5/5/10/20 ms.
        let expectations: [(UInt8, Int)] = [
            (0 << 3, 480), (1 << 3, 960), (2 << 3, 1920), (3 << 3, 2880), (12 << 3, 480), (13 << 3, 960),
            (16 << 3, 120), (17 << 3, 240), (18 << 3, 480), (19 << 3, 960), (31 << 3, 960),
        ]
        for (toc, samples) in expectations {
            #expect(try OpusPacketInfo.samplesAt48kHz([toc, 0]) == samples, "toc \(toc)")
            #expect(try OpusPacketInfo.samplesAt48kHz([toc | 1, 0]) == 2 * samples)
            #expect(try OpusPacketInfo.samplesAt48kHz([toc | 2, 0]) == 2 * samples)
        }
        #expect(try OpusPacketInfo.samplesAt48kHz([(19 << 3) | 3, 3, 0]) == 2880)
        #expect(throws: ProtocolError.self) { try OpusPacketInfo.samplesAt48kHz([(19 << 3) | 3]) }
        #expect(throws: ProtocolError.self) { try OpusPacketInfo.samplesAt48kHz([(19 << 3) | 3, 0]) }
        #expect(throws: ProtocolError.self) { try OpusPacketInfo.samplesAt48kHz([(3 << 3) | 3, 3]) } // 180 ms > 120 ms
        #expect(throws: ProtocolError.self) { try OpusPacketInfo.samplesAt48kHz([UInt8]()) }
    }

    @Test func rejectionsCarryStableCodes() throws {
        let valid = try AudioFrame(sequence: 1, captureTimeMicroseconds: 0, packet: Self.twentyMsPacket).encoded()
        func code(_ bytes: [UInt8]) -> ErrorCode? {
            do { _ = try AudioFrame.decode(bytes); return nil } catch { return error.code }
        }
        #expect(code(valid) == nil)
        #expect(code([]) == .malformedFrame)
        #expect(code(Array(valid.prefix(20))) == .malformedFrame)                 // header without packet
        var wrongType = valid; wrongType[0] = 0x02
        #expect(code(wrongType) == .malformedFrame)
        var wrongVersion = valid; wrongVersion[1] = 9
        #expect(code(wrongVersion) == .unsupportedVersion)
        var flags = valid; flags[3] = 1
        #expect(code(flags) == .malformedFrame)
        var lying = valid; lying[10] = 0; lying[11] = 0                           // claims 0 µs
        #expect(code(lying) == .malformedFrame)
        #expect(code(valid + [UInt8](repeating: 0, count: 1_300)) == .frameTooLarge)
    }
}
