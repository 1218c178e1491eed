import Foundation
import Protocol
import Testing

/// A small deterministic generator, so a failing case can be reproduced from its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SeededGenerator {
    mutating func text(maxLength: Int = 24) -> String {
        let alphabet = Array("abcXYZ019 _-\"\\/\n\t你好🎤é")
        return String((0..<Int.random(in: 0...maxLength, using: &self)).map { _ in alphabet.randomElement(using: &self) ?? "a" })
    }

    mutating func date() -> Date {
        Date(timeIntervalSince1970: Double(Int64.random(in: 0...4_000_000_000_000, using: &self)) / 1000)
    }

    mutating func quota() -> QuotaSnapshot {
        let limit = Double(Int.random(in: 0...10_000_000, using: &self)) / 1000
        let used = Double(Int.random(in: 0...10_000_000, using: &self)) / 1000
        return QuotaSnapshot(
            status: LicenseStatus.allCases.randomElement(using: &self) ?? .active,
            startsAt: Bool.random(using: &self) ? date() : nil, expiresAt: Bool.random(using: &self) ? date() : nil,
            secondsUsed: used, secondsLimit: limit, secondsRemaining: max(0, limit - used),
            sessionsUsed: Int.random(in: 0...1000, using: &self), sessionsLimit: Bool.random(using: &self) ? Int.random(in: 0...1000, using: &self) : nil,
            sessionsRemaining: nil, dailyLimitSeconds: Bool.random(using: &self) ? limit : nil, dailyRemainingSeconds: nil,
            concurrentInUse: Int.random(in: 0...10, using: &self), concurrentLimit: Int.random(in: 0...10, using: &self))
    }

    mutating func message() -> ControlMessage {
        let result = ResultMessage(
            sentenceID: Int.random(in: 0...100_000, using: &self), final: Bool.random(using: &self),
            startMs: Int.random(in: 0...10_000_000, using: &self), endMs: Int.random(in: 0...10_000_000, using: &self),
            text: text(maxLength: 200), language: text(maxLength: 5))
        switch Int.random(in: 0..<10, using: &self) {
        case 0:
            return .start(StartMessage(
                sourceLanguage: text(maxLength: 5), targetLanguage: Bool.random(using: &self) ? text(maxLength: 5) : nil,
                codec: CodecParameters(sampleRate: [8_000, 16_000, 48_000].randomElement(using: &self) ?? 16_000, preSkip: Int.random(in: 0...3840, using: &self)),
                resumeSessionID: Bool.random(using: &self) ? text() : nil))
        case 1:
            return .started(StartedMessage(
                sessionID: text(), resumed: Bool.random(using: &self), nextSequence: UInt32.random(in: 0...UInt32.max, using: &self),
                provider: ProviderInfo(name: text(), model: Bool.random(using: &self) ? text() : nil, demo: Bool.random(using: &self)),
                quota: quota(), warning: QuotaWarning.allCases.randomElement(using: &self) ?? .none))
        case 2: return .stop(StopMessage())
        case 3: return .stopped(StoppedMessage(sessionID: text(), reason: ErrorCode(text()), message: text(maxLength: 100), billedMs: Int64.random(in: 0...Int64(Int32.max), using: &self)))
        case 4: return .quota(QuotaMessage(quota: quota(), warning: QuotaWarning.allCases.randomElement(using: &self) ?? .none, sessionBilledMs: Bool.random(using: &self) ? Int64.random(in: 0...1_000_000, using: &self) : nil))
        case 5: return .transcript(result)
        case 6: return .translation(result)
        case 7: return .heartbeat(HeartbeatMessage(sentAt: date()))
        case 8: return .ack(AckMessage(lastSequence: UInt32.random(in: 0...UInt32.max, using: &self), billedMs: Int64.random(in: 0...1_000_000_000, using: &self)))
        default: return .error(ErrorMessage(code: ErrorCode(text()), message: text(maxLength: 100), fatal: Bool.random(using: &self)))
        }
    }
}

@Suite(.bounded) struct ProtocolPropertyTests {
    @Test func everyControlMessageRoundTrips() throws {
        var generator = SeededGenerator(seed: 20_261_124)
        for _ in 0..<2_000 {
            let message = generator.message()
            let decoded = try ControlMessage.decode(message.encodedText())
            #expect(decoded == message, "\(message.encodedText())")
        }
    }

    @Test func everyAudioFrameRoundTrips() throws {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<2_000 {
            // A CELT/SILK/Hybrid TOC with a code-0 (one frame) packet of random length.
            let toc = UInt8.random(in: 0...255, using: &generator) & 0xFC
            let packet = [toc] + (0..<Int.random(in: 0...1_274, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let frame = try AudioFrame(
                sequence: UInt32.random(in: 0...UInt32.max, using: &generator),
                captureTimeMicroseconds: UInt64.random(in: 0...UInt64.max, using: &generator), packet: packet)
            #expect(try AudioFrame.decode(frame.encoded()) == frame)
        }
    }

    @Test func garbageNeverTrapsAndAlwaysMapsToAProtocolError() {
        var generator = SeededGenerator(seed: 99)
        var textErrors = 0, frameErrors = 0
        for round in 0..<5_000 {
            let length = Int.random(in: 0...(round % 10 == 0 ? 20_000 : 64), using: &generator)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if round % 3 == 0, !bytes.isEmpty { bytes[0] = AudioFrame.type }
            if round % 5 == 0, bytes.count > 1 { bytes[1] = ProtocolVersion.current }
            do { _ = try AudioFrame.decode(bytes) } catch { frameErrors += 1 }
            do { _ = try ControlMessage.decode(bytes) } catch { textErrors += 1 }
        }
        // Random bytes essentially never form a valid message; each failure was a thrown ProtocolError.
        #expect(textErrors == 5_000)
        #expect(frameErrors > 4_900)
    }

    @Test func mutatedValidMessagesNeverTrap() {
        var generator = SeededGenerator(seed: 3)
        for _ in 0..<3_000 {
            var bytes = Array(generator.message().encodedText().utf8)
            for _ in 0..<Int.random(in: 1...4, using: &generator) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? ControlMessage.decode(bytes)
        }
    }
}
