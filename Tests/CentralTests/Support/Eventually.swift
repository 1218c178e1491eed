/// Polls `condition` until it holds or `timeout` has passed, and says whether it held.
/// A deadline rather than a count of sleeps: CI runs every suite at once on two cores, where
/// each poll can itself take a while.
@discardableResult
func eventually(
    within timeout: Duration = .seconds(20), every interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: interval)
    }
}
