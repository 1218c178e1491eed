import Central
import Crypto
import Foundation
import FakeProviders

/// What one connection to the fake hears: Ogg Opus checked page by page and decoded with libopus
/// (a container: no `encoding`), or raw `linear16` at `sample_rate`; speech found by energy and
/// answered with interim and final `Results` ("[fake] segment 1 (1.23 s)").
final class FakeListenStream {
    let requestID = UUID().uuidString.lowercased()
    let query: FakeListenQuery
    let keyHint: String
    private let validator: OggOpusValidator?
    private var segmenter = SpeechSegmenter()
    private var pending: [Int16] = []
    private var oddByte: UInt8?
    private var hash = SHA256()
    private(set) var receivedBytes = 0
    private(set) var audioMs = 0
    private(set) var finals = 0
    private(set) var keepAlives = 0
    private(set) var finalizes = 0
    private(set) var closedStream = false
    private(set) var errors: [String] = []

    init(query: FakeListenQuery, keyHint: String) {
        self.query = query
        self.keyHint = keyHint
        // Deepgram decodes Opus at 48 kHz; the segmenter only needs 20 ms blocks at any rate.
        validator = query.encoding == nil ? OggOpusValidator(sampleRate: 16_000) : nil
    }

    private var sampleRate: Int { query.encoding == nil ? 16_000 : query.sampleRate ?? 16_000 }

    /// Audio in; `Results` for the speech it heard.
    func feed(_ bytes: [UInt8]) -> [FakeDeepgramMessages.Results] {
        receivedBytes += bytes.count
        hash.update(data: bytes)
        let samples = validator?.feed(bytes) ?? pcm(bytes)
        pending.append(contentsOf: samples)
        var results: [FakeDeepgramMessages.Results] = []
        let chunk = max(1, sampleRate / 50)
        var offset = 0
        while pending.count - offset >= chunk {
            let slice = pending[offset..<(offset + chunk)]
            offset += chunk
            audioMs += 20
            if let event = segmenter.process(levelDBFS: SpeechSegmenter.levelDBFS(slice), durationMs: 20) {
                results += self.results(event, fromFinalize: false)
            }
        }
        pending.removeFirst(offset)
        return results
    }

    func keepAlive() { keepAlives += 1 }

    /// `Finalize`: the sentence under way ends now.
    func finalize() -> [FakeDeepgramMessages.Results] {
        finalizes += 1
        return segmenter.flush().map { results($0, fromFinalize: true) } ?? []
    }

    /// `CloseStream`: the last results, then the connection's `Metadata`.
    func close() -> (results: [FakeDeepgramMessages.Results], metadata: FakeDeepgramMessages.Metadata) {
        closedStream = true
        let last = segmenter.flush().map { results($0, fromFinalize: false) } ?? []
        if let validator, validator.audioPackets > 0, !validator.sawEndOfStream {
            errors.append("the Ogg stream ended without an end-of-stream page")
        }
        let digest = hash.finalize().map { String(format: "%02x", $0) }.joined()
        let metadata = FakeDeepgramMessages.Metadata(
            requestID: requestID, sha256: digest, created: ISO8601DateFormatter().string(from: Date()),
            duration: Double(audioMs) / 1000)
        return (last, metadata)
    }

    var report: FakeListenReport {
        FakeListenReport(
            requestID: requestID, keyHint: keyHint, model: query.model, language: query.language, tag: query.tag,
            encoding: query.encoding, interimResults: query.interimResults, receivedBytes: receivedBytes, audioMs: audioMs,
            pages: validator?.pages, audioPackets: validator?.audioPackets, decodedSamples48k: validator?.decodedSamples48k,
            preSkip: validator?.preSkip, endOfStream: validator?.sawEndOfStream, finalResults: finals,
            keepAlives: keepAlives, finalizes: finalizes, closeStream: closedStream,
            errors: errors + (validator?.errors ?? []), state: "open")
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

    private func results(_ event: SpeechSegmenter.Event, fromFinalize: Bool) -> [FakeDeepgramMessages.Results] {
        let (number, startMs, endMs, final): (Int, Int, Int, Bool) = switch event {
        case .ongoing(let number, let start, let end): (number, start, end, false)
        case .ended(let number, let start, let end): (number, start, end, true)
        }
        // Without interim_results Deepgram sends finals only.
        guard final || query.interimResults else { return [] }
        if final { finals += 1 }
        let start = Double(startMs) / 1000, end = Double(endMs) / 1000
        let text = "[fake] segment \(number) (\(String(format: "%.2f", end - start)) s)"
        let words = text.split(separator: " ").map {
            FakeDeepgramMessages.Word(word: String($0), start: start, end: end, confidence: 0.99, punctuatedWord: String($0))
        }
        return [FakeDeepgramMessages.Results(
            duration: end - start, start: start, isFinal: final, speechFinal: final && !fromFinalize, fromFinalize: fromFinalize,
            channel: .init(alternatives: [.init(transcript: text, confidence: 0.99, words: words)]),
            metadata: .init(requestID: requestID))]
    }
}

/// What the fake saw on one connection, for `GET /control/connections` and the tests.
struct FakeListenReport: Codable, Sendable {
    var requestID: String
    var keyHint: String
    var model: String
    var language: String?
    var tag: String?
    var encoding: String?
    var interimResults: Bool
    var receivedBytes: Int
    var audioMs: Int
    var pages: Int?
    var audioPackets: Int?
    var decodedSamples48k: Int64?
    var preSkip: Int?
    var endOfStream: Bool?
    var finalResults: Int
    var keepAlives: Int
    var finalizes: Int
    var closeStream: Bool
    var errors: [String]
    /// `open`, `closed` (after CloseStream), `failed`, `timed-out` or `disconnected`.
    var state: String
    var failure: String?

    enum CodingKeys: String, CodingKey {
        case requestID = "request_id"
        case keyHint = "key_hint"
        case model, language, tag, encoding
        case interimResults = "interim_results"
        case receivedBytes = "received_bytes"
        case audioMs = "audio_ms"
        case pages
        case audioPackets = "audio_packets"
        case decodedSamples48k = "decoded_samples_48k"
        case preSkip = "pre_skip"
        case endOfStream = "end_of_stream"
        case finalResults = "final_results"
        case keepAlives = "keep_alives"
        case finalizes
        case closeStream = "close_stream"
        case errors, state, failure
    }
}
