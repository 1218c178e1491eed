@testable import Central
import Foundation
import Logging
import Protocol
import Synchronization

/// A provider wire driven by a script, for the engine's own tests: no network, no DashScope.
/// Each task "recognises" a final sentence per 10 packets (200 ms of 20 ms frames) and one for
/// the rest at its finish, and records every packet it was sent and the key it ran with.
final class ScriptedWire: ProviderWire {
    enum Behaviour: Sendable {
        case normal
        /// Refused at connect (a key the provider rejects at the upgrade, say).
        case refuse(ProviderFailure)
        /// Fails once the task has been sent this many packets.
        case failAfter(packets: Int, ProviderFailure)
        /// Connects but never accepts the task.
        case neverStart
        /// Accepts audio but never finishes.
        case neverFinish
        /// Takes this long over every write: a provider that falls behind.
        case slowSend(Duration)
        /// Finishes the task this long after it is asked to.
        case slowFinish(Duration)
    }

    struct TaskRecord: Sendable {
        var key: String
        var packets: [[UInt8]] = []
        var finishAsked = false
    }

    static let packetsPerSentence = 10

    let timing: ProviderTiming
    private let script: Mutex<[Behaviour]>
    let recorded = Mutex<[TaskRecord]>([])

    init(timing: ProviderTiming, script: [Behaviour] = []) {
        self.timing = timing
        self.script = Mutex(script)
    }

    var info: ProviderInfo { ProviderInfo(name: "scripted", model: "script-1", demo: false) }
    var displayName: String { "Scripted" }
    var languages: [LanguageCatalog.SourceLanguage] { [.init(source: "en", targets: ["zh"], transcription: true)] }

    var tasks: [TaskRecord] { recorded.withLock { $0 } }

    func withTask(
        key: ProviderKeyLease, configuration: ProviderSessionConfiguration, logger: Logger,
        _ body: @escaping @Sendable (any ProviderTaskChannel) async throws -> Void
    ) async throws {
        let behaviour = script.withLock { $0.isEmpty ? Behaviour.normal : $0.removeFirst() }
        if case .refuse(let failure) = behaviour { throw failure }
        let index = recorded.withLock { tasks in
            tasks.append(TaskRecord(key: key.id))
            return tasks.count - 1
        }
        let channel = Channel(index: index, wire: self, behaviour: behaviour)
        defer { channel.close() }
        try await body(channel)
    }

    final class Channel: ProviderTaskChannel {
        enum Item: Sendable {
            case event(ProviderTaskEvent)
            case finished
            case failed(ProviderFailure)
        }

        let index: Int
        let wire: ScriptedWire
        let behaviour: Behaviour
        private let items: AsyncStream<Item>
        private let sink: AsyncStream<Item>.Continuation
        /// Packets this task was sent, and how many of them a sentence already covers.
        private let counts = Mutex((sent: 0, confirmed: 0, sentences: 0))

        init(index: Int, wire: ScriptedWire, behaviour: Behaviour) {
            self.index = index
            self.wire = wire
            self.behaviour = behaviour
            (items, sink) = AsyncStream<Item>.makeStream()
            if case .neverStart = behaviour {} else { sink.yield(.event(.started)) }
        }

        var taskID: String { "task-\(index)" }

        func close() { sink.finish() }

        func send(_ packets: [[UInt8]]) async throws {
            if case .slowSend(let delay) = behaviour { try await Task.sleep(for: delay) }
            wire.recorded.withLock { $0[index].packets += packets }
            let sent = counts.withLock { counts in
                counts.sent += packets.count
                return counts.sent
            }
            while let sentence = nextSentence(upTo: sent, whole: true) { sink.yield(.event(.results([sentence]))) }
            if case .failAfter(let limit, let failure) = behaviour, sent >= limit { sink.yield(.failed(failure)) }
        }

        func finish() async throws {
            wire.recorded.withLock { $0[index].finishAsked = true }
            switch behaviour {
            case .neverFinish:
                return
            case .slowFinish(let delay):
                Task {
                    try? await Task.sleep(for: delay)
                    self.finishTask()
                }
            default:
                finishTask()
            }
        }

        private func finishTask() {
            let sent = counts.withLock { $0.sent }
            if let last = nextSentence(upTo: sent, whole: false) { sink.yield(.event(.results([last]))) }
            sink.yield(.event(.usage(seconds: (sent * 20 + 999) / 1000)))
            sink.yield(.finished)
        }

        func read(_ deliver: (ProviderTaskEvent) -> Void) async throws {
            for await item in items {
                switch item {
                case .event(let event): deliver(event)
                case .finished: return
                case .failed(let failure): throw failure
                }
            }
            throw ProviderFailure.transient(.providerUnavailable, "the scripted connection closed")
        }

        /// A final sentence over the next unconfirmed packets: 10 of them, or (at the finish)
        /// whatever is left. Times are offsets into the task, 20 ms per packet.
        private func nextSentence(upTo sent: Int, whole: Bool) -> ProviderTaskResult? {
            counts.withLock { counts in
                let available = sent - counts.confirmed
                let take = whole ? (available >= ScriptedWire.packetsPerSentence ? ScriptedWire.packetsPerSentence : 0) : available
                guard take > 0 else { return nil }
                let begin = counts.confirmed * 20
                counts.confirmed += take
                counts.sentences += 1
                return ProviderTaskResult(
                    kind: .transcript, sentenceID: counts.sentences - 1, beginMs: begin, endMs: counts.confirmed * 20,
                    text: "task \(index) sentence \(counts.sentences - 1)", language: nil, final: true)
            }
        }
    }
}

/// Keys for the engine's tests: handed out round-robin, a failed key skipped from then on,
/// and every report kept.
actor ScriptedKeys: ProviderKeySource {
    private let ids: [String]
    private var cursor = 0
    private var cooled: Set<String> = []
    private(set) var reports: [(keyID: String, outcome: ProviderKeyOutcome)] = []

    init(_ ids: [String]) {
        self.ids = ids
    }

    func checkout(provider: String) -> ProviderKeyLease? {
        for offset in 0..<ids.count {
            let id = ids[(cursor + offset) % ids.count]
            guard !cooled.contains(id) else { continue }
            cursor += offset + 1
            return ProviderKeyLease(id: id, secret: "secret-\(id)")
        }
        return nil
    }

    func report(keyID: String, outcome: ProviderKeyOutcome) {
        reports.append((keyID, outcome))
        switch outcome {
        case .authFailed, .rateLimited: cooled.insert(keyID)
        case .used, .failed: break
        }
    }
}
