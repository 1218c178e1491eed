import Protocol
import Synchronization

/// One session of a `TranslatingSpeechProvider`: the inner session's events pass through, and
/// each final transcript is translated on its own task, so a slow upstream delays only its own
/// translation, never the transcripts or the audio. A translation that does not come within the
/// bound is sent marked `failed`; the session goes on. `finish()` waits for the translations
/// under way (each bounded), then reports the tokens they used.
final class TranslatingSession: SpeechProviderSession {
    let events: AsyncStream<ProviderEvent>
    private let inner: any SpeechProviderSession
    private let pump: Task<Void, Never>
    private let tokens: LockedValue<Int>

    init(inner: any SpeechProviderSession, translator: ChatCompletionsTranslator, source: String, target: String, timeout: Duration) {
        let (events, sink) = AsyncStream<ProviderEvent>.makeStream(bufferingPolicy: .bufferingOldest(1_024))
        let tokens = LockedValue(0)
        self.events = events
        self.inner = inner
        self.tokens = tokens
        pump = Task {
            await withTaskGroup(of: Void.self) { translations in
                for await event in inner.events {
                    sink.yield(event)
                    guard case .transcript(let sentence) = event, sentence.final else { continue }
                    let text = sentence.text.trimmingCharacters(in: .whitespacesAndNewlines)
                    guard !text.isEmpty else { continue }
                    translations.addTask {
                        let translated = await Self.bounded(timeout) { await translator.translate(text, from: source, to: target) }
                        var message = ResultMessage(
                            sentenceID: sentence.sentenceID, final: true, startMs: sentence.startMs, endMs: sentence.endMs,
                            text: translated?.text ?? "", language: target)
                        if let translated {
                            tokens.withLock { $0 += translated.tokens }
                        } else {
                            message.failed = true
                        }
                        sink.yield(.translation(message))
                    }
                }
            }
            sink.finish()
        }
    }

    func send(_ frame: AudioFrame) -> Bool {
        inner.send(frame)
    }

    func finish() async -> ProviderUsage {
        var usage = await inner.finish()
        await pump.value
        let used = tokens.value
        usage.translationTokens = used > 0 ? used : nil
        return usage
    }

    func cancel() {
        inner.cancel()
        pump.cancel()
    }

    /// `body`'s answer, or nil once `limit` passed (the translator bounds itself too; this also
    /// covers a key checkout or DNS lookup that hangs).
    static func bounded<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async -> T?) async -> T? {
        await withTaskGroup(of: T?.self) { group in
            group.addTask { await body() }
            group.addTask {
                try? await Task.sleep(for: limit + .seconds(1))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
