import Central
import FakeProviders
import Foundation

/// One task on the fake: validates the audio it is sent, finds speech segments by energy and
/// answers with DashScope-shaped results ("[fake] segment 1 (1.23 s)").
final class FakeTask {
    let id: String
    let model: String
    let parameters: DashScopeWire.TaskParameters
    let keyHint: String
    private let validator: OggOpusValidator?
    private var segmenter = SpeechSegmenter()
    private var pending: [Int16] = []
    private var oddByte: UInt8?
    private(set) var receivedBytes = 0
    private(set) var audioMs = 0
    private(set) var finals = 0
    private(set) var errors: [String] = []
    private var translates: Bool { model.hasPrefix("gummy") && parameters.translationEnabled == true }
    private var sampleRate: Int { parameters.sampleRate }

    init(id: String, model: String, parameters: DashScopeWire.TaskParameters, keyHint: String) {
        self.id = id
        self.model = model
        self.parameters = parameters
        self.keyHint = keyHint
        validator = parameters.format == "opus" ? OggOpusValidator(sampleRate: Int32(parameters.sampleRate)) : nil
    }

    /// Audio in; results for the speech it completed.
    func feed(_ bytes: [UInt8]) -> [DashScopeWire.Event] {
        receivedBytes += bytes.count
        let samples: [Int16]
        if let validator {
            samples = validator.feed(bytes)
        } else {
            samples = pcm(bytes)
        }
        pending.append(contentsOf: samples)
        var events: [DashScopeWire.Event] = []
        let chunk = max(1, sampleRate / 50)
        var offset = 0
        while pending.count - offset >= chunk {
            let slice = pending[offset..<(offset + chunk)]
            offset += chunk
            audioMs += 20
            if let event = segmenter.process(levelDBFS: SpeechSegmenter.levelDBFS(slice), durationMs: 20) {
                events += results(event)
            }
        }
        pending.removeFirst(offset)
        return events
    }

    /// finish-task: the last sentence, then the billed duration.
    func finish() -> (results: [DashScopeWire.Event], usage: DashScopeWire.Usage) {
        var events: [DashScopeWire.Event] = []
        if let event = segmenter.flush() { events += results(event) }
        if let validator, validator.audioPackets > 0, !validator.sawEndOfStream {
            errors.append("the Ogg stream ended without an end-of-stream page")
        }
        return (events, usage)
    }

    var usage: DashScopeWire.Usage { DashScopeWire.Usage(duration: (audioMs + 999) / 1000) }

    var report: FakeTaskReport {
        FakeTaskReport(
            taskID: id, model: model, keyHint: keyHint, format: parameters.format, sampleRate: parameters.sampleRate,
            sourceLanguage: parameters.sourceLanguage ?? parameters.languageHints?.first,
            targetLanguages: parameters.translationTargetLanguages, receivedBytes: receivedBytes, audioMs: audioMs,
            pages: validator?.pages, audioPackets: validator?.audioPackets,
            decodedSamples48k: validator?.decodedSamples48k, preSkip: validator?.preSkip,
            inputSampleRate: validator?.inputSampleRate, endOfStream: validator?.sawEndOfStream,
            finalSentences: finals, errors: errors + (validator?.errors ?? []), state: "open")
    }

    private func pcm(_ bytes: [UInt8]) -> [Int16] {
        var data = bytes
        if let odd = oddByte {
            data.insert(odd, at: 0)
            oddByte = nil
        }
        if data.count % 2 == 1 { oddByte = data.removeLast() }
        return stride(from: 0, to: data.count, by: 2).map { Int16(bitPattern: UInt16(data[$0]) | UInt16(data[$0 + 1]) << 8) }
    }

    private func results(_ event: SpeechSegmenter.Event) -> [DashScopeWire.Event] {
        // The segmenter numbers segments from 1; Gummy's sentence ids start at 0, Paraformer's at 1.
        let (number, startMs, endMs, final): (Int, Int, Int, Bool) = switch event {
        case .ongoing(let number, let start, let end): (number, start, end, false)
        case .ended(let number, let start, let end): (number, start, end, true)
        }
        let index = number - 1
        if final { finals += 1 }
        let seconds = String(format: "%.2f", Double(endMs - startMs) / 1000)
        let text = "[fake] segment \(index + 1) (\(seconds) s)"
        let header = DashScopeWire.EventHeader(taskID: id, event: "result-generated")
        if model.hasPrefix("gummy") {
            let source = parameters.sourceLanguage ?? "auto"
            let transcription = parameters.transcriptionEnabled == false ? nil : DashScopeWire.Sentence(
                sentenceID: index, beginTime: startMs, endTime: endMs, text: text, lang: source, sentenceEnd: final,
                words: [word(text, startMs, endMs, final)])
            let translations = translates ? (parameters.translationTargetLanguages ?? []).map { target in
                DashScopeWire.Sentence(
                    sentenceID: index, beginTime: startMs, endTime: endMs,
                    text: "[fake \(source)→\(target)] segment \(index + 1) (\(seconds) s)", lang: target, sentenceEnd: final,
                    words: [word(text, startMs, endMs, final)])
            } : nil
            return [DashScopeWire.Event(
                header: header,
                payload: .init(output: .init(transcription: transcription, translations: translations), usage: final ? usage : nil))]
        }
        // Paraformer / Fun-ASR: sentence ids from 1, end_time null while interim, usage on finals.
        let sentence = DashScopeWire.Sentence(
            sentenceID: index + 1, beginTime: startMs, endTime: final ? endMs : nil, text: text, sentenceEnd: final,
            heartbeat: false, words: [word(text, startMs, endMs, final)])
        return [DashScopeWire.Event(header: header, payload: .init(output: .init(sentence: sentence), usage: final ? usage : nil))]
    }

    private func word(_ text: String, _ start: Int, _ end: Int, _ final: Bool) -> DashScopeWire.Word {
        DashScopeWire.Word(beginTime: start, endTime: end, text: text, punctuation: "", fixed: final)
    }
}

/// What the fake saw in one task, for `GET /control/tasks` and the tests.
struct FakeTaskReport: Codable, Sendable {
    var taskID: String
    var model: String
    var keyHint: String
    var format: String
    var sampleRate: Int
    var sourceLanguage: String?
    var targetLanguages: [String]?
    var receivedBytes: Int
    var audioMs: Int
    var pages: Int?
    var audioPackets: Int?
    var decodedSamples48k: Int64?
    var preSkip: Int?
    var inputSampleRate: Int?
    var endOfStream: Bool?
    var finalSentences: Int
    var errors: [String]
    /// `open`, `finished`, `failed` or `disconnected`.
    var state: String
    var failure: String?

    enum CodingKeys: String, CodingKey {
        case taskID = "task_id"
        case model
        case keyHint = "key_hint"
        case format
        case sampleRate = "sample_rate"
        case sourceLanguage = "source_language"
        case targetLanguages = "target_languages"
        case receivedBytes = "received_bytes"
        case audioMs = "audio_ms"
        case pages
        case audioPackets = "audio_packets"
        case decodedSamples48k = "decoded_samples_48k"
        case preSkip = "pre_skip"
        case inputSampleRate = "input_sample_rate"
        case endOfStream = "end_of_stream"
        case finalSentences = "final_sentences"
        case errors, state, failure
    }
}
