/// How the engine paces and bounds one provider's sessions. Each adapter's settings supply it
/// (DashScope's from `DashScopeSettings`, whose fields have environment variables).
public struct ProviderTiming: Sendable, Equatable {
    /// How long the provider may take to accept a task.
    public var startTimeout: Duration
    /// How long the last results may take after a task is finished.
    public var finishTimeout: Duration
    /// With no audio for this long the task is finished, and a new one starts with the next
    /// audio: an edge that is reconnecting costs no provider time.
    public var idleFinishAfter: Duration
    /// A long session moves to a fresh task after this much audio, at the next sentence end (or
    /// 30 s later at the latest).
    public var rotateAfterMs: Int
    /// Consecutive connection or provider errors retried before the session stops.
    public var retries: Int
    /// Frames queued for the provider: covers a reconnect or a key failover.
    public var inboxCapacity: Int
    /// How often the worker wakes to notice idle audio and overdue replies.
    public var tickInterval: Duration
    /// Key failures (auth, throttling) in a row before the session stops: each moves to the next
    /// key, so this bounds a session whose every key keeps failing.
    public var maxKeyFailures: Int

    public init(
        startTimeout: Duration, finishTimeout: Duration, idleFinishAfter: Duration, rotateAfterMs: Int, retries: Int,
        inboxCapacity: Int, tickInterval: Duration, maxKeyFailures: Int = 16
    ) {
        self.startTimeout = startTimeout
        self.finishTimeout = finishTimeout
        self.idleFinishAfter = idleFinishAfter
        self.rotateAfterMs = rotateAfterMs
        self.retries = retries
        self.inboxCapacity = inboxCapacity
        self.tickInterval = tickInterval
        self.maxKeyFailures = maxKeyFailures
    }
}
