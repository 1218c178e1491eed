import Central
import FakeProviders
import Foundation

/// The fake's knobs and memory: which keys are good, revoked or throttled, the failures queued
/// for the next tasks, and a report per task.
actor FakeDashScopeState {
    /// A failure to inject into the next task(s).
    struct Injection: FakeInjection {
        /// `task-failed`, `disconnect`, `slow`, `auth`, `rate-limit`.
        var failure: String
        /// Audio (ms) into the task at which it strikes; 0 = at run-task.
        var afterMs: Int?
        /// DashScope error code for `task-failed` (default InternalError).
        var errorCode: String?
        var errorMessage: String?
        /// `slow`: delay before each result, ms.
        var delayMs: Int?
        /// How many tasks it applies to (default 1).
        var count: Int?

        enum CodingKeys: String, CodingKey {
            case failure
            case afterMs = "after_ms"
            case errorCode = "error_code"
            case errorMessage = "error_message"
            case delayMs = "delay_ms"
            case count
        }
    }

    let keys: FakeKeyBook
    private var injections = FakeInjectionQueue<Injection>()
    private var reports: [FakeTaskReport] = []
    let resultDelayMs: Int

    init(validKeys: Set<String>, resultDelayMs: Int) {
        self.keys = FakeKeyBook(valid: validKeys)
        self.resultDelayMs = resultDelayMs
    }


    func inject(_ injection: Injection) { injections.push(injection) }

    /// The injection for a new task, if any.
    func takeInjection() -> Injection? { injections.take() }

    func record(_ report: FakeTaskReport) {
        if let index = reports.firstIndex(where: { $0.taskID == report.taskID }) {
            reports[index] = report
        } else {
            reports.append(report)
        }
    }

    func allReports() -> [FakeTaskReport] { reports }

    func reset() {
        injections.removeAll()
        reports = []
    }
}
