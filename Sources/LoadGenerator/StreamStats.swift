/// What the streams of one event loop did, as running totals: a window's numbers are the
/// difference of two snapshots, several loops' the sum.
struct StreamStats: Sendable {
    /// Streams that received `started`, and that ended (refused, failed, or closed) before it.
    var started = 0
    var failedToStart = 0
    /// Streams streaming right now: a level, not a total.
    var streaming = 0
    var framesSent = 0
    /// Frames not written because the socket was not writable (the server stopped reading).
    var framesHeldBack = 0
    /// Ticks that ran more than 100 ms late and were skipped (the generator could not keep up).
    var ticksSkipped = 0
    var acks = 0
    /// Frames covered by acks (each ack's `last_sequence` beyond the previous one).
    var framesAcked = 0
    var quotas = 0
    var errors: [String: Int] = [:]
    var stopped: [String: Int] = [:]
    /// From sending the newest frame an ack covers to receiving that ack (acks come about twice
    /// a second, so this includes up to one ack interval).
    var ackLag = LagHistogram()

    static func + (lhs: StreamStats, rhs: StreamStats) -> StreamStats {
        StreamStats(
            started: lhs.started + rhs.started, failedToStart: lhs.failedToStart + rhs.failedToStart,
            streaming: lhs.streaming + rhs.streaming, framesSent: lhs.framesSent + rhs.framesSent,
            framesHeldBack: lhs.framesHeldBack + rhs.framesHeldBack, ticksSkipped: lhs.ticksSkipped + rhs.ticksSkipped,
            acks: lhs.acks + rhs.acks, framesAcked: lhs.framesAcked + rhs.framesAcked, quotas: lhs.quotas + rhs.quotas,
            errors: lhs.errors.merging(rhs.errors, uniquingKeysWith: +),
            stopped: lhs.stopped.merging(rhs.stopped, uniquingKeysWith: +),
            ackLag: lhs.ackLag + rhs.ackLag)
    }

    /// What happened between `earlier` and this snapshot; `streaming` stays this snapshot's level.
    func since(_ earlier: StreamStats) -> StreamStats {
        StreamStats(
            started: started - earlier.started, failedToStart: failedToStart - earlier.failedToStart,
            streaming: streaming, framesSent: framesSent - earlier.framesSent,
            framesHeldBack: framesHeldBack - earlier.framesHeldBack, ticksSkipped: ticksSkipped - earlier.ticksSkipped,
            acks: acks - earlier.acks, framesAcked: framesAcked - earlier.framesAcked, quotas: quotas - earlier.quotas,
            errors: Self.difference(errors, earlier.errors), stopped: Self.difference(stopped, earlier.stopped),
            ackLag: ackLag - earlier.ackLag)
    }

    private static func difference(_ later: [String: Int], _ earlier: [String: Int]) -> [String: Int] {
        later.merging(earlier.mapValues { -$0 }, uniquingKeysWith: +).filter { $0.value != 0 }
    }
}
