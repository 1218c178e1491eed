@testable import EdgeAgent
import Protocol
import Testing

@Suite(.bounded) struct OutboundQueueTests {
    static func drain(_ queue: OutboundQueue) async -> [OutboundQueue.Item] {
        queue.finish()
        var items: [OutboundQueue.Item] = []
        while let item = await queue.next() { items.append(item) }
        return items
    }

    @Test func keepsOrderAndDropsTheOldestFramesButNoControlMessage() async {
        let queue = OutboundQueue(frameCapacity: 3)
        queue.push(.text("start"))
        for index in 0..<3 { #expect(!queue.push(.frame([UInt8(index)]))) }
        queue.push(.text("heartbeat"))
        #expect(queue.push(.frame([3])), "full: frame 0 goes")
        #expect(queue.push(.frame([4])), "full: frame 1 goes")
        queue.push(.text("stop"))
        #expect(queue.droppedFrames == 2 && queue.queuedFrames == 3)
        #expect(await Self.drain(queue) == [.text("start"), .frame([2]), .text("heartbeat"), .frame([3]), .frame([4]), .text("stop")])
        // Nothing after finish.
        #expect(!queue.push(.frame([9])))
        #expect(await queue.next() == nil)
    }

    @Test func aWaitingWriterGetsTheNextItemAndEndsWithTheQueue() async {
        let queue = OutboundQueue(frameCapacity: 10)
        let writer = Task { () -> [OutboundQueue.Item] in
            var items: [OutboundQueue.Item] = []
            while let item = await queue.next() { items.append(item) }
            return items
        }
        for index in 0..<5 {
            try? await Task.sleep(for: .milliseconds(5))
            queue.push(.frame([UInt8(index)]))
        }
        queue.push(.close)
        queue.finish()
        #expect(await writer.value == [.frame([0]), .frame([1]), .frame([2]), .frame([3]), .frame([4]), .close])
        #expect(queue.droppedFrames == 0)
    }

    @Test func cancellingTheWriterEndsItsWait() async {
        let queue = OutboundQueue(frameCapacity: 10)
        let writer = Task { await queue.next() }
        try? await Task.sleep(for: .milliseconds(20))
        writer.cancel()
        #expect(await writer.value == nil)
        // Cancelled before it waits at all.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await queue.next()
        }
        #expect(await early.value == nil)
    }

    /// Sized like the replay buffer, the queue only drops frames the replay buffer no longer
    /// holds: a resume can still replay everything the queue had.
    @Test func dropsOnlyWhatTheReplayBufferAlreadyDropped() async throws {
        var replay = ReplayBuffer(seconds: 1)
        let queue = OutboundQueue(frameCapacity: replay.capacity)
        // Central reads nothing and acknowledges nothing for 1.6 s.
        for sequence in 0..<80 {
            let frame = AudioFrame(sequence: UInt32(sequence), durationMicroseconds: 20_000, captureTimeMicroseconds: 0, packet: [0x78, 0])
            replay.append(frame)
            queue.push(.frame(frame.encoded()))
        }
        #expect(queue.droppedFrames == 30 && replay.dropped == 30)
        let items = await Self.drain(queue)
        let queued = try items.compactMap { item -> UInt32? in
            guard case .frame(let bytes) = item else { return nil }
            return try AudioFrame.decode(bytes).sequence
        }
        #expect(queued.count == items.count)
        #expect(queued == replay.pending(from: 0).map(\.sequence))
        #expect(queued == Array(30..<80))
    }
}
