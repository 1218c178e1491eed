import Foundation

/// Timings of the live stream. Defaults are the documented contract; tests shorten them.
public struct StreamSettings: Sendable {
    /// How often a live session checkpoints its usage and pushes quota (the contract says at
    /// least every 2 s and every 1 s respectively).
    public var tickInterval: Duration = .milliseconds(900)
    /// A connected edge that sends nothing (no audio, no heartbeat) for this long is stopped.
    public var edgeTimeout: TimeInterval = 15
    /// A session whose connection dropped waits this long for the edge to resume it.
    public var resumeWindow: TimeInterval = 30
    /// How long a connection may take to send `start` after the upgrade.
    public var startTimeout: Duration = .seconds(10)
    /// Central's own heartbeat period.
    public var heartbeatInterval: TimeInterval = 5
    /// Accepted frames between acks (25 × 20 ms: twice a second).
    public var framesPerAck = 25
    /// Control messages queued for a slow edge before the newest are dropped.
    public var outboundCapacity = 128

    /// The share of the license's balance a session reserves at each checkpoint: it may forward
    /// this much audio beyond what is billed before it must ask again (`StreamBudgetPolicy`).
    public var reservationMs: Int64 = 2_000
    /// How far a session's audio may run ahead of the wall clock since it opened: the edge's
    /// 10 s replay buffer plus slack. Faster audio is refused, not forwarded.
    public var paceAllowanceMs: Int64 = 12_000
    /// How long a frame may wait for a provider that stopped taking audio before the session
    /// ends with `provider_timeout` (the socket is not read meanwhile).
    public var providerStallTimeout: Duration = .seconds(10)
    /// How long a stream waits for one store call (a checkpoint) before it treats the store as
    /// away for now: PostgreSQL's pool waits for as long as the server is unreachable.
    public var storeCallTimeout: Duration = .seconds(3)
    /// How long a session whose reservation is spent keeps asking an unreachable store before
    /// it ends with `unavailable` (its last audio is billed once the store is back).
    public var storeOutageAllowance: Duration = .seconds(10)

    public init() {}
}
