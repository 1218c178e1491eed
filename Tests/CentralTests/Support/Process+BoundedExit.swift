import Foundation
import Testing

extension Process {
    /// SIGTERM, then waits at most `grace` for the exit. A child still running then is a test
    /// failure (a shutdown that hangs) and is killed, so one stuck child cannot stall the whole run.
    @discardableResult
    func terminateAndWait(grace: Duration = .seconds(30)) -> Int32 {
        guard isRunning else { return terminationStatus }
        terminate()
        if !waitForExit(within: grace) {
            let name = executableURL?.lastPathComponent ?? "child process"
            Issue.record("\(name) did not exit within \(grace) of SIGTERM; killed")
            killAndWait()
        }
        return terminationStatus
    }

    /// SIGKILL and the exit (which the kernel does not let a process refuse).
    func killAndWait() {
        if isRunning { kill(processIdentifier, SIGKILL) }
        waitUntilExit()
    }

    /// Polls for the exit instead of `waitUntilExit`, which has no bound.
    func waitForExit(within limit: Duration) -> Bool {
        let deadline = ContinuousClock.now + limit
        while isRunning {
            if ContinuousClock.now >= deadline { return false }
            usleep(20_000)
        }
        return true
    }
}
