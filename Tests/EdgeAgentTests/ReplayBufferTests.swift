@testable import EdgeAgent
import Protocol
import Testing

@Suite(.bounded) struct ReplayBufferTests {
    static func frame(_ sequence: UInt32) -> AudioFrame {
        AudioFrame(sequence: sequence, durationMicroseconds: 20_000, captureTimeMicroseconds: 0, packet: [0x78, 0])
    }

    @Test func keepsUnacknowledgedFramesForReplay() {
        var buffer = ReplayBuffer(seconds: 1)
        for sequence in 0..<30 { buffer.append(Self.frame(UInt32(sequence))) }
        buffer.acknowledge(through: 19)
        #expect(buffer.count == 10)
        #expect(buffer.pending(from: 25).map(\.sequence) == Array(25..<30))
        #expect(buffer.pending(from: 0).map(\.sequence) == Array(20..<30))
    }

    @Test func overflowDropsTheOldestAudioAndCountsIt() {
        var buffer = ReplayBuffer(seconds: 1) // 50 frames
        for sequence in 0..<1_000 { buffer.append(Self.frame(UInt32(sequence))) }
        #expect(buffer.count == 50)
        #expect(buffer.dropped == 950)
        #expect(buffer.pending(from: 0).first?.sequence == 950)
        #expect(buffer.frames.count < 400, "storage stays bounded")
    }
}
