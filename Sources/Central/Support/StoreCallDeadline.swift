/// Waits for a store call at most a while. The call is not cancelled: a transaction cut half-way
/// would leave its connection to be cleaned up, and every call the stream core makes is
/// idempotent (checkpoints by their watermark), so a late answer is simply dropped.
enum StoreCallDeadline {
    /// The call's result, or nil when it had none (it failed) or did not answer within `timeout`.
    static func value<Result: Sendable>(within timeout: Duration, of call: Task<Result?, Never>) async -> Result? {
        let waiter = LockedValue<CheckedContinuation<Result?, Never>?>(nil)
        let take: @Sendable () -> CheckedContinuation<Result?, Never>? = { waiter.withLock { value in defer { value = nil }; return value } }
        return await withCheckedContinuation { continuation in
            waiter.set(continuation)
            Task {
                let result = await call.value
                take()?.resume(returning: result)
            }
            Task {
                try? await Task.sleep(for: timeout)
                take()?.resume(returning: nil)
            }
        }
    }
}
