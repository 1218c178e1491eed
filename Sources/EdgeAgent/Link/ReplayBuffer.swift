import Protocol

/// Frames sent but not yet acknowledged by central, oldest first, bounded by duration. On a
/// resume they are replayed from central's `next_sequence`; when the buffer is full the
/// oldest audio is dropped (and counted) rather than memory growing.
struct ReplayBuffer: Sendable {
    private(set) var frames: [AudioFrame] = []
    private var start = 0
    let capacity: Int
    private(set) var dropped = 0

    /// `seconds` of 20 ms frames.
    init(seconds: Double = 10) {
        capacity = max(1, Int(seconds * 50))
    }

    var count: Int { frames.count - start }

    mutating func append(_ frame: AudioFrame) {
        if count >= capacity {
            start += 1
            dropped += 1
        }
        frames.append(frame)
        compact()
    }

    /// Forgets every frame up to and including `sequence`.
    mutating func acknowledge(through sequence: UInt32) {
        while start < frames.count, frames[start].sequence <= sequence { start += 1 }
        compact()
    }

    /// Frames to resend after a resume at `nextSequence`.
    func pending(from nextSequence: UInt32) -> ArraySlice<AudioFrame> {
        frames[start...].drop { $0.sequence < nextSequence }
    }

    mutating func removeAll() {
        frames.removeAll(keepingCapacity: true)
        start = 0
    }

    private mutating func compact() {
        if start > 256, start * 2 > frames.count {
            frames.removeFirst(start)
            start = 0
        }
    }
}
