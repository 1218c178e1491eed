import Foundation
import Protocol
import Synchronization

/// The provider central uses when it holds no provider keys. It really decodes the Opus it is
/// sent and finds speech by energy, and every result says plainly that it is the demo:
/// "[demo] speech 1.4 s". The started and quota messages mark it with `demo: true`.
public struct DemoSpeechProvider: SpeechProvider {
    public static let name = "demo"

    public init() {}

    public var info: ProviderInfo { ProviderInfo(name: Self.name, model: "energy-segmenter", demo: true) }

    /// The page offers Gummy's pairs, so switching to DashScope changes nothing for the customer.
    /// The demo serves exactly these (the protocol's default `supports`): a start outside them is
    /// refused with `unsupported_language_pair` and close 4003, as DashScope would refuse it.
    public var catalog: LanguageCatalog { LanguageCatalog(provider: info, languages: DashScopeModel.gummyRealtime.languages) }

    public func openSession(_ configuration: ProviderSessionConfiguration) async throws -> any SpeechProviderSession {
        guard let session = DemoProviderSession(configuration: configuration) else {
            throw ProviderError(.providerUnavailable, "the demo provider could not create an Opus decoder")
        }
        return session
    }
}

final class DemoProviderSession: SpeechProviderSession {
    /// About 5 s of 20 ms frames; beyond that the provider is not keeping up and frames are refused.
    static let queueCapacity = 250

    let events: AsyncStream<ProviderEvent>
    private let input: AsyncStream<AudioFrame>.Continuation
    private let worker: Task<ProviderUsage, Never>

    init?(configuration: ProviderSessionConfiguration) {
        guard let decoder = OpusFrameDecoder(sampleRate: 16_000) else { return nil }
        let (events, eventSink) = AsyncStream<ProviderEvent>.makeStream(bufferingPolicy: .bufferingOldest(256))
        let (frames, input) = AsyncStream<AudioFrame>.makeStream(bufferingPolicy: .bufferingOldest(Self.queueCapacity))
        self.events = events
        self.input = input
        self.worker = Task {
            var segmenter = SpeechSegmenter()
            var processedUs: Int64 = 0
            for await frame in frames {
                // Whole milliseconds from microsecond positions: 2.5 ms frames tile the timeline
                // (2, 3, 2, 3 …) instead of drifting 20 % short.
                let durationMs = Int((processedUs + Int64(frame.durationMicroseconds)) / 1000 - processedUs / 1000)
                processedUs += Int64(frame.durationMicroseconds)
                let level = decoder.decode(frame.packet).map(SpeechSegmenter.levelDBFS) ?? -120
                if let event = segmenter.process(levelDBFS: level, durationMs: durationMs) {
                    Self.emit(event, configuration: configuration, to: eventSink)
                }
            }
            if let event = segmenter.flush() {
                Self.emit(event, configuration: configuration, to: eventSink)
            }
            eventSink.finish()
            return ProviderUsage(audioMs: processedUs / 1000)
        }
    }

    func send(_ frame: AudioFrame) -> Bool {
        if case .enqueued = input.yield(frame) { return true }
        return false
    }

    func finish() async -> ProviderUsage {
        input.finish()
        return await worker.value
    }

    func cancel() {
        input.finish()
        worker.cancel()
    }

    private static func emit(
        _ event: SpeechSegmenter.Event, configuration: ProviderSessionConfiguration,
        to sink: AsyncStream<ProviderEvent>.Continuation
    ) {
        let (index, startMs, endMs, final): (Int, Int, Int, Bool) = switch event {
        case .ongoing(let index, let start, let end): (index, start, end, false)
        case .ended(let index, let start, let end): (index, start, end, true)
        }
        let seconds = String(format: "%.1f", Double(endMs - startMs) / 1000)
        let text = final ? "[demo] speech \(seconds) s" : "[demo] listening… \(seconds) s"
        sink.yield(.transcript(ResultMessage(
            sentenceID: index, final: final, startMs: startMs, endMs: endMs, text: text,
            language: configuration.sourceLanguage)))
        if final, let target = configuration.targetLanguage {
            sink.yield(.translation(ResultMessage(
                sentenceID: index, final: true, startMs: startMs, endMs: endMs,
                text: "[demo] translation to \(target) of speech \(seconds) s", language: target)))
        }
    }
}
