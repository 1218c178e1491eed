/// Meters audio by sequence number: a frame is billed once, duplicates (replays after a
/// resume) are ignored, and frames that never arrived (a gap) are never billed.
struct SequenceMeter: Sendable, Equatable {
    enum Outcome: Equatable {
        case accepted
        /// Already metered; dropped.
        case duplicate
        /// Accepted after `missing` frames that never came.
        case acceptedAfterGap(missing: UInt32)
    }

    /// The sequence number expected next.
    private(set) var nextSequence: UInt32 = 0
    private(set) var acceptedMicroseconds: Int64 = 0

    init(nextSequence: UInt32 = 0, acceptedMicroseconds: Int64 = 0) {
        self.nextSequence = nextSequence
        self.acceptedMicroseconds = acceptedMicroseconds
    }

    var acceptedMs: Int64 { acceptedMicroseconds / 1000 }
    /// The last accepted sequence number, or -1 before any.
    var lastSequence: Int64 { Int64(nextSequence) - 1 }

    /// Whether a frame would be metered, without metering it.
    func isDuplicate(_ sequence: UInt32) -> Bool { sequence < nextSequence }

    mutating func meter(sequence: UInt32, durationMicroseconds: UInt32) -> Outcome {
        guard sequence >= nextSequence else { return .duplicate }
        let missing = sequence - nextSequence
        nextSequence = sequence &+ 1
        acceptedMicroseconds += Int64(durationMicroseconds)
        return missing == 0 ? .accepted : .acceptedAfterGap(missing: missing)
    }
}
