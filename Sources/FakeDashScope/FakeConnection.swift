import Central
import FakeProviders
import Foundation
import HummingbirdWebSocket
import Logging
import NIOCore

/// One client connection to the fake: tasks run one after another on it, as on DashScope.
actor FakeConnection {
    private let options: FakeDashScopeServer.Options
    private let state: FakeDashScopeState
    private let outbound: WebSocketOutboundWriter
    private let key: String?
    private let logger: Logger
    private var task: FakeTask?
    private var injection: FakeDashScopeState.Injection?
    private var lastDataAt = ContinuousClock.now
    private var closed = false
    private let encoder = JSONEncoder()

    init(options: FakeDashScopeServer.Options, state: FakeDashScopeState, outbound: WebSocketOutboundWriter, key: String?, logger: Logger) {
        self.options = options
        self.state = state
        self.outbound = outbound
        self.key = key
        self.logger = logger
    }

    nonisolated func run(inbound: WebSocketInboundStream) async {
        let watchdog = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                if await self.checkSilence() { return }
            }
        }
        defer { watchdog.cancel() }
        do {
            for try await message in inbound.messages(maxSize: 1 << 20) {
                let keepGoing: Bool
                switch message {
                case .text(let text): keepGoing = await handle(text: text)
                case .binary(let buffer): keepGoing = await handle(audio: Array(buffer: buffer))
                }
                if !keepGoing { break }
            }
        } catch {}
        await disconnected()
    }

    // MARK: Commands

    private func handle(text: String) async -> Bool {
        lastDataAt = .now
        guard let command = try? JSONDecoder().decode(DashScopeWire.Command.self, from: Data(text.utf8)) else {
            return await fail(taskID: task?.id ?? "", code: "InvalidParameter", message: "the text frame is not a DashScope command")
        }
        switch command.header.action {
        case "run-task": return await runTask(command)
        case "finish-task": return await finishTask(command)
        case "continue-task":
            // Context updates (hot words mid-task) change nothing in the fake's results.
            return true
        default:
            return await fail(taskID: command.header.taskID, code: "InvalidParameter", message: "unknown action \(command.header.action)")
        }
    }

    private func runTask(_ command: DashScopeWire.Command) async -> Bool {
        let id = command.header.taskID
        if let problem = Self.validate(command) {
            return await fail(taskID: id, code: "InvalidParameter", message: problem)
        }
        if task != nil {
            return await fail(taskID: id, code: "InvalidParameter", message: "a task is already running on this connection")
        }
        switch state.keys.status(of: key) {
        case .unknown, .revoked: return await fail(taskID: id, code: "InvalidApiKey", message: "Invalid API-key provided.")
        case .rateLimited: return await fail(taskID: id, code: "Throttling.RateQuota", message: "Requests rate limit exceeded, please try again later.")
        case .valid: break
        }
        guard let model = command.payload.model, let parameters = command.payload.parameters else { return false }
        let task = FakeTask(id: id, model: model, parameters: parameters, keyHint: String((key ?? "").suffix(4)))
        self.task = task
        injection = await state.takeInjection()
        await state.record(task.report)
        if let injection, (injection.afterMs ?? 0) == 0, let outcome = await strike(injection, task: task) {
            return outcome
        }
        return await send(DashScopeWire.Event(header: .init(taskID: id, event: "task-started"), payload: .init(output: nil, usage: nil)))
    }

    private func finishTask(_ command: DashScopeWire.Command) async -> Bool {
        guard let task, command.header.taskID == task.id else {
            return await fail(taskID: command.header.taskID, code: "InvalidParameter", message: "finish-task for a task that is not running")
        }
        let (results, usage) = task.finish()
        for result in results where !(await deliver(result)) { return false }
        var report = task.report
        report.state = "finished"
        await state.record(report)
        self.task = nil
        injection = nil
        return await send(DashScopeWire.Event(
            header: .init(taskID: task.id, event: "task-finished"), payload: .init(output: .init(), usage: usage)))
    }

    // MARK: Audio

    private func handle(audio bytes: [UInt8]) async -> Bool {
        lastDataAt = .now
        guard let task else {
            return await fail(taskID: "", code: "InvalidParameter", message: "audio sent before task-started")
        }
        switch state.keys.status(of: key) {
        case .unknown, .revoked: return await fail(taskID: task.id, code: "InvalidApiKey", message: "Invalid API-key provided.")
        case .rateLimited: return await fail(taskID: task.id, code: "Throttling.RateQuota", message: "Requests rate limit exceeded, please try again later.")
        case .valid: break
        }
        let results = task.feed(bytes)
        await state.record(task.report)
        if let injection, let after = injection.afterMs, after > 0, task.audioMs >= after,
           let outcome = await strike(injection, task: task) {
            return outcome
        }
        for result in results where !(await deliver(result)) { return false }
        return true
    }

    /// Applies an injected failure; nil when it only changes pacing (`slow`).
    private func strike(_ injection: FakeDashScopeState.Injection, task: FakeTask) async -> Bool? {
        switch injection.failure {
        case "task-failed":
            return await fail(taskID: task.id, code: injection.errorCode ?? "InternalError", message: injection.errorMessage ?? "Internal server error.")
        case "auth":
            return await fail(taskID: task.id, code: "InvalidApiKey", message: "Invalid API-key provided.")
        case "rate-limit":
            return await fail(taskID: task.id, code: "Throttling.RateQuota", message: "Requests rate limit exceeded, please try again later.")
        case "disconnect":
            var report = task.report
            report.state = "disconnected"
            await state.record(report)
            self.task = nil
            closed = true
            try? await outbound.close(.unexpectedServerError, reason: nil)
            return false
        default:
            return nil
        }
    }

    private func deliver(_ event: DashScopeWire.Event) async -> Bool {
        let delay = injection?.failure == "slow" ? (injection?.delayMs ?? 1_000) : options.resultDelayMs
        if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
        return await send(event)
    }

    // MARK: Failure and silence

    /// DashScope's no-data limit: 23 s without audio or commands fails the task.
    private func checkSilence() async -> Bool {
        guard !closed else { return true }
        guard let task, ContinuousClock.now - lastDataAt > options.silenceTimeout else { return false }
        _ = await fail(taskID: task.id, code: "CLIENT_ERROR", message: "request timeout after 23 seconds.")
        return true
    }

    private func fail(taskID: String, code: String, message: String) async -> Bool {
        if let task {
            var report = task.report
            report.state = "failed"
            report.failure = "\(code): \(message)"
            await state.record(report)
        }
        task = nil
        _ = await send(DashScopeWire.Event(
            header: .init(taskID: taskID, event: "task-failed", errorCode: code, errorMessage: message), payload: .init(output: nil, usage: nil)))
        closed = true
        try? await outbound.close(.normalClosure, reason: nil)
        return false
    }

    private func disconnected() async {
        closed = true
        if let task {
            var report = task.report
            report.state = "disconnected"
            await state.record(report)
            self.task = nil
        }
    }

    private func send(_ event: DashScopeWire.Event) async -> Bool {
        guard !closed, let data = try? encoder.encode(event) else { return false }
        do {
            try await outbound.write(.text(String(decoding: data, as: UTF8.self)))
            return true
        } catch {
            return false
        }
    }

    /// What DashScope checks in `run-task`; nil when it is acceptable.
    static func validate(_ command: DashScopeWire.Command) -> String? {
        let id = command.header.taskID.replacingOccurrences(of: "-", with: "")
        guard id.count == 32, id.allSatisfy(\.isHexDigit) else { return "task_id must be a 32-character UUID" }
        guard command.header.streaming == "duplex" else { return "header.streaming must be duplex" }
        let payload = command.payload
        guard payload.taskGroup == "audio", payload.task == "asr", payload.function == "recognition" else {
            return "payload must say task_group audio, task asr, function recognition"
        }
        guard let model = payload.model, FakeDashScopeServer.models.contains(model) else { return "Model not found" }
        guard let parameters = payload.parameters else { return "payload.parameters is required" }
        guard FakeDashScopeServer.formats.contains(parameters.format) else { return "unsupported format \(parameters.format)" }
        if model.hasPrefix("gummy") {
            guard parameters.sampleRate >= 16_000 else { return "sample_rate must be 16000 Hz or above" }
            guard (parameters.translationTargetLanguages ?? []).count <= 1 else { return "only one translation target language is supported" }
            if parameters.transcriptionEnabled == false, parameters.translationEnabled != true {
                return "transcription or translation must be enabled"
            }
        }
        if model == "fun-asr-realtime", parameters.sampleRate != 16_000 { return "fun-asr-realtime supports 16000 Hz only" }
        return nil
    }
}
