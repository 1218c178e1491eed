import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization

/// One OpenAI Realtime transcription session: the edge's Opus decoded with libopus at 24 kHz,
/// base64 PCM16 in ~100 ms `input_audio_buffer.append` events, a commit at each turn end when
/// OpenAI does not detect turns itself, and a last commit before closing so the last words and
/// their `usage` come back.
final class OpenAIRealtimeTaskChannel: ProviderTaskChannel {
    let taskID: String
    private let inbound: WebSocketInboundStream
    private let outbound: WebSocketOutboundWriter
    private let logger: Logger
    private let serverVAD: Bool
    private let appendBytes: Int
    /// The writer's: only `send` and `finish` touch it, one call at a time.
    private let audio: Mutex<AudioState>
    /// Shared by the writer and the reader.
    private let progress = Mutex(Progress())

    /// The writer's side: decoder, the PCM not yet appended, the turn finder.
    private struct AudioState {
        let decoder: OpusFrameDecoder?
        var pcm: [UInt8] = []
        var segmenter = SpeechSegmenter()
    }

    private struct Progress {
        /// Audio appended so far, ms.
        var appendedMs = 0
        /// Audio appended since the last commit (ours, or OpenAI's under server VAD), ms.
        var uncommittedMs = 0
        var finishRequested = false
        var finalCommitOutstanding = false
        var closedByUs = false
        /// Committed items whose transcription has not come yet (the reader's count).
        var pendingItems = 0
    }

    /// OpenAI refuses a commit of less than 100 ms of audio.
    static let minimumCommitMs = 100
    static let sampleRate: Int32 = 24_000

    init(taskID: String, serverVAD: Bool, appendMs: Int, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger) {
        self.taskID = taskID
        self.inbound = inbound
        self.outbound = outbound
        self.logger = logger
        self.serverVAD = serverVAD
        appendBytes = Int(Self.sampleRate) / 1000 * max(20, appendMs) * 2
        audio = Mutex(AudioState(decoder: OpusFrameDecoder(sampleRate: Self.sampleRate)))
    }

    func send(_ packets: [[UInt8]]) async throws {
        var outgoing: [String] = []
        audio.withLock { state in
            for packet in packets {
                // A packet libopus rejects is concealed as 20 ms of silence, keeping the timeline.
                let samples = state.decoder?.decode(packet) ?? ArraySlice(repeating: 0, count: Int(Self.sampleRate) / 50)
                for sample in samples {
                    let bits = UInt16(bitPattern: sample)
                    state.pcm.append(UInt8(truncatingIfNeeded: bits))
                    state.pcm.append(UInt8(truncatingIfNeeded: bits >> 8))
                }
                let turnEnded: Bool
                if serverVAD {
                    turnEnded = false
                } else if case .ended = state.segmenter.process(
                    levelDBFS: SpeechSegmenter.levelDBFS(samples), durationMs: samples.count * 1000 / Int(Self.sampleRate)) {
                    turnEnded = true
                } else {
                    turnEnded = false
                }
                while state.pcm.count >= appendBytes {
                    outgoing.append(append(Array(state.pcm.prefix(appendBytes))))
                    state.pcm.removeFirst(appendBytes)
                }
                if turnEnded {
                    if !state.pcm.isEmpty {
                        outgoing.append(append(state.pcm))
                        state.pcm.removeAll(keepingCapacity: true)
                    }
                    if let commit = commitIfWorthIt() { outgoing.append(commit) }
                }
            }
        }
        for text in outgoing { try await outbound.write(.text(text)) }
    }

    func finish() async throws {
        let rest = audio.withLock { state -> [UInt8] in
            defer { state.pcm.removeAll() }
            return state.pcm
        }
        if !rest.isEmpty { try await outbound.write(.text(append(rest))) }
        let commit = commitIfWorthIt()
        // Nothing committed and nothing awaited: the reader would wait on a silent socket.
        let closeNow = progress.withLock { progress -> Bool in
            progress.finishRequested = true
            progress.finalCommitOutstanding = commit != nil
            progress.closedByUs = commit == nil && progress.pendingItems == 0
            return progress.closedByUs
        }
        if let commit { try await outbound.write(.text(commit)) }
        if closeNow { try await outbound.close(.normalClosure, reason: nil) }
    }

    func read(_ deliver: (ProviderTaskEvent) -> Void) async throws {
        var events = OpenAIRealtimeEvents()
        let decoder = JSONDecoder()
        for try await message in inbound.messages(maxSize: 1 << 22) {
            guard case .text(let text) = message else { continue }
            guard let event = try? decoder.decode(OpenAIRealtimeMessages.ServerEvent.self, from: Data(text.utf8)) else {
                logger.warning("unreadable OpenAI event ignored", metadata: ["bytes": "\(text.utf8.count)"])
                continue
            }
            let appended = progress.withLock { progress -> Int in
                if event.type == "input_audio_buffer.committed" {
                    // Under server VAD OpenAI commits by itself; either way nothing is left uncommitted.
                    progress.uncommittedMs = 0
                    if progress.finishRequested { progress.finalCommitOutstanding = false }
                }
                if event.type == "error", event.error?.code == "input_audio_buffer_commit_empty" {
                    progress.finalCommitOutstanding = false
                }
                return progress.appendedMs
            }
            switch events.step(event, appendedMs: appended) {
            case .events(let list): list.forEach(deliver)
            case .failed(let failure): throw failure
            case .ignored: break
            }
            let pending = events.pending.count
            let done = progress.withLock { progress -> Bool in
                progress.pendingItems = pending
                return progress.finishRequested && !progress.finalCommitOutstanding && pending == 0
            }
            if done { return }
        }
        if progress.withLock({ $0.closedByUs }) { return }
        throw ProviderFailure.transient(.providerUnavailable, "OpenAI closed the connection mid-session")
    }

    /// A commit when enough audio is uncommitted (counted as it is appended).
    private func commitIfWorthIt() -> String? {
        progress.withLock { progress -> String? in
            guard progress.uncommittedMs >= Self.minimumCommitMs else { return nil }
            progress.uncommittedMs = 0
            return Self.text(OpenAIRealtimeMessages.commit)
        }
    }

    private func append(_ bytes: [UInt8]) -> String {
        let ms = bytes.count / 2 * 1000 / Int(Self.sampleRate)
        progress.withLock {
            $0.appendedMs += ms
            $0.uncommittedMs += ms
        }
        return Self.text(OpenAIRealtimeMessages.append(base64: Data(bytes).base64EncodedString()))
    }

    static func text(_ value: JSONValue) -> String {
        (try? String(decoding: JSONEncoder().encode(value), as: UTF8.self)) ?? "{}"
    }
}
