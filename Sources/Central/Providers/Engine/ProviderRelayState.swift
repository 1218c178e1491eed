import Protocol
import Synchronization

/// What one provider session remembers across its tasks: the audio not yet covered by a final
/// sentence (replayed into the next task after a failure, so a key failover loses no speech),
/// the mapping from each task's times and sentence ids to the session's, and usage.
/// Shared by a task's reader (events) and writer (audio) under one lock.
final class ProviderRelayState: Sendable {
    struct Entry {
        var ordinal: Int
        var packet: [UInt8]
        /// Where the frame begins in the session's audio, and its length, in whole milliseconds
        /// taken from microsecond positions, so the frames of a session tile it without drift.
        var sessionStartMs: Int
        var durationMs: Int
        var durationUs: Int64
    }

    struct State {
        var unconfirmed: [Entry] = []
        var nextOrdinal = 0
        /// Durations add in microseconds: a 2.5 ms frame is 2 500 µs, not 2 ms (−20 %).
        var sessionAudioUs: Int64 = 0
        var sessionAudioMs: Int { Int(sessionAudioUs / 1000) }
        var inputEnded = false
        // The running task.
        var taskStarted = false
        var taskBaseSessionMs = 0
        var nextOrdinalToSend = 0
        var lastSentOrdinal = -1
        var taskSentUs: Int64 = 0
        var taskSentMs: Int { Int(taskSentUs / 1000) }
        var taskReportedSeconds = 0
        var taskReportedTokens = 0
        var sentenceMap: [Int: Int] = [:]
        var lastFinalSessionMs = 0
        var lastInterimID: Int?
        // The session.
        var nextSentenceID = 0
        /// The session id of a sentence a failed task left unfinished: the replay reuses it.
        var openSentenceID: Int?
        var providerAudioUs: Int64 = 0
        var providerAudioMs: Int64 { providerAudioUs / 1000 }
        var reportedSeconds = 0
        var reportedTokens = 0
    }

    private let state = Mutex(State())
    let sourceLanguage: String
    let targetLanguage: String?

    init(sourceLanguage: String, targetLanguage: String?) {
        self.sourceLanguage = sourceLanguage
        self.targetLanguage = targetLanguage
    }

    func read<T>(_ body: (State) -> T) -> T {
        state.withLock { body($0) }
    }

    // MARK: Writer

    /// Takes a frame from the session into the relay's keeping.
    func accept(_ frame: AudioFrame) {
        state.withLock { state in
            let startMs = state.sessionAudioMs
            state.sessionAudioUs += Int64(frame.durationMicroseconds)
            state.unconfirmed.append(Entry(
                ordinal: state.nextOrdinal, packet: frame.packet, sessionStartMs: startMs,
                durationMs: state.sessionAudioMs - startMs, durationUs: Int64(frame.durationMicroseconds)))
            state.nextOrdinal += 1
            // Speech with no sentence end for a long while: keep at most the last 30 s of sent
            // audio for a replay. Trimmed a second at a time, not a frame at a time.
            if state.unconfirmed.count > Self.replayLimitFrames + Self.trimSlackFrames, let first = state.unconfirmed.first {
                let sentAtFront = state.lastSentOrdinal - first.ordinal + 1
                state.unconfirmed.removeFirst(max(0, min(state.unconfirmed.count - Self.replayLimitFrames, sentAtFront)))
            }
        }
    }

    /// 30 s of 20 ms frames.
    static let replayLimitFrames = 1_500
    /// Trimming waits for this much excess (1 s), so it runs once a second rather than per frame.
    static let trimSlackFrames = 50

    /// Provider times are offsets into one task, and a task rotates long before a day: a time
    /// outside 0…1 day is clamped, so a broken or hostile response can neither overflow the
    /// session's times (a trap ends central, every session with it) nor hand the edge a negative one.
    static let maxTaskOffsetMs = 86_400_000
    /// The same bound for a task's reported usage, in seconds.
    static let maxTaskReportedSeconds = 86_400

    private static func taskOffsetMs(_ ms: Int?) -> Int? {
        ms.map { min(max($0, 0), maxTaskOffsetMs) }
    }

    private static func taskSeconds(_ seconds: Int) -> Int {
        min(max(seconds, 0), maxTaskReportedSeconds)
    }

    func markInputEnded() {
        state.withLock { $0.inputEnded = true }
    }

    /// A new task begins with the oldest unconfirmed frame: after a failure that replays the
    /// audio the failed task never finished; after a clean finish nothing is unconfirmed.
    func beginTask() {
        state.withLock { state in
            state.taskStarted = false
            state.taskBaseSessionMs = state.unconfirmed.first?.sessionStartMs ?? state.sessionAudioMs
            state.nextOrdinalToSend = state.unconfirmed.first?.ordinal ?? state.nextOrdinal
            state.lastSentOrdinal = state.nextOrdinalToSend - 1
            state.taskSentUs = 0
            state.taskReportedSeconds = 0
            state.taskReportedTokens = 0
            state.sentenceMap = [:]
            state.lastInterimID = nil
        }
    }

    func markStarted() {
        state.withLock { $0.taskStarted = true }
    }

    /// Frames the running task has not been sent yet, marked as sent.
    func takeUnsent() -> [[UInt8]] {
        state.withLock { state in
            // Ordinals in `unconfirmed` are contiguous, so the unsent frames are a suffix.
            guard state.taskStarted, let first = state.unconfirmed.first else { return [] }
            let start = max(0, state.nextOrdinalToSend - first.ordinal)
            guard start < state.unconfirmed.count else { return [] }
            let unsent = state.unconfirmed[start...]
            guard let last = unsent.last else { return [] }
            state.nextOrdinalToSend = last.ordinal + 1
            state.lastSentOrdinal = last.ordinal
            let sentUs = unsent.reduce(0) { $0 + $1.durationUs }
            state.taskSentUs += sentUs
            state.providerAudioUs += sentUs
            return unsent.map(\.packet)
        }
    }

    /// The task finished cleanly: everything it was sent is recognised.
    func completeTask() {
        state.withLock { state in
            let last = state.lastSentOrdinal
            state.unconfirmed.removeAll { $0.ordinal <= last }
            state.reportedSeconds += state.taskReportedSeconds
            state.reportedTokens += state.taskReportedTokens
            state.nextSentenceID = max(state.nextSentenceID, (state.sentenceMap.values.max() ?? -1) + 1)
            state.openSentenceID = nil
            state.taskStarted = false
        }
    }

    /// The task failed: its unconfirmed audio stays for the next task; an unfinished sentence's
    /// id is kept so the replayed sentence replaces it on the page.
    func abortTask() {
        state.withLock { state in
            state.reportedSeconds += state.taskReportedSeconds
            state.taskReportedSeconds = 0
            state.reportedTokens += state.taskReportedTokens
            state.taskReportedTokens = 0
            state.openSentenceID = state.lastInterimID
            state.nextSentenceID = max(state.nextSentenceID, (state.sentenceMap.values.max() ?? -1) + 1)
            state.taskStarted = false
        }
    }

    // MARK: Reader

    /// Takes in one event of the running task; returns what the session's edge gets from it.
    func apply(_ event: ProviderTaskEvent) -> [ProviderEvent] {
        switch event {
        case .started:
            markStarted()
            return []
        case .results(let results):
            return self.results(from: results)
        case .usage(let seconds):
            recordTaskUsage(seconds: seconds)
            return []
        case .tokens(let tokens):
            // A running total, bounded like the seconds so no response can overflow a sum.
            state.withLock { $0.taskReportedTokens = max($0.taskReportedTokens, min(max(tokens, 0), 1_000_000_000)) }
            return []
        }
    }

    /// Makes a task's results the session's, trimming the audio they confirm.
    func results(from results: [ProviderTaskResult]) -> [ProviderEvent] {
        state.withLock { state in
            results.compactMap { result in
                switch result.kind {
                case .transcript:
                    Self.result(result, language: result.language ?? sourceLanguage, state: &state).map(ProviderEvent.transcript)
                case .translation:
                    Self.result(result, language: result.language ?? targetLanguage ?? "", state: &state).map(ProviderEvent.translation)
                }
            }
        }
    }

    private static func result(_ sentence: ProviderTaskResult, language: String, state: inout State) -> ResultMessage? {
        let final = sentence.final
        let text = sentence.text
        // An empty interim says nothing new.
        guard final || !text.isEmpty else { return nil }
        let providerID = sentence.sentenceID
        let id: Int
        if let known = state.sentenceMap[providerID] {
            id = known
        } else {
            id = state.openSentenceID ?? max(state.nextSentenceID, (state.sentenceMap.values.max() ?? -1) + 1)
            state.openSentenceID = nil
            state.sentenceMap[providerID] = id
        }
        let base = state.taskBaseSessionMs
        let beginOffset = taskOffsetMs(sentence.beginMs) ?? 0
        let startMs = base + beginOffset
        let endMs = base + (taskOffsetMs(sentence.endMs) ?? beginOffset)
        if final {
            if state.lastInterimID == id { state.lastInterimID = nil }
            state.lastFinalSessionMs = max(state.lastFinalSessionMs, endMs)
            // Audio wholly before the end of a final sentence never needs a replay.
            state.unconfirmed.removeAll { $0.sessionStartMs + $0.durationMs <= endMs && $0.ordinal <= state.lastSentOrdinal }
        } else {
            state.lastInterimID = id
        }
        return ResultMessage(sentenceID: id, final: final, startMs: startMs, endMs: max(startMs, endMs), text: text, language: language)
    }

    /// The provider's billed seconds for the running task so far (it reports a running total).
    func recordTaskUsage(seconds: Int) {
        state.withLock { $0.taskReportedSeconds = max($0.taskReportedSeconds, Self.taskSeconds(seconds)) }
    }
}
