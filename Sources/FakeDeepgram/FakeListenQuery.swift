import Foundation

/// The `/v1/listen` query as Deepgram validates it before the upgrade: a refused query is a
/// 400 at the upgrade, which a client must not retry.
struct FakeListenQuery: Sendable, Equatable {
    static let models: Set<String> = ["nova-3", "nova-2", "nova", "enhanced", "base"]
    static let encodings: Set<String> = ["linear16"]

    var model: String
    var language: String?
    var encoding: String?
    var sampleRate: Int?
    var interimResults: Bool
    var tag: String?
    /// `utterance_end_ms`: send `UtteranceEnd` after each utterance (needs interim results).
    var utteranceEnd: Bool = false

    /// The query, or why Deepgram would refuse it.
    static func parse(_ items: [(String, String)]) -> Result<FakeListenQuery, FakeQueryError> {
        var values: [String: String] = [:]
        for (name, value) in items { values[name] = value }
        let model = values["model"] ?? "base"
        guard models.contains(model) else { return .failure(.init("No such model: \(model)")) }
        let encoding = values["encoding"]
        var sampleRate: Int?
        if let encoding {
            // Raw audio needs both; containerized audio (Ogg Opus) must have neither.
            guard encodings.contains(encoding) else { return .failure(.init("Unsupported encoding: \(encoding)")) }
            guard let rate = values["sample_rate"].flatMap(Int.init), (8_000...48_000).contains(rate) else {
                return .failure(.init("sample_rate is required with encoding"))
            }
            sampleRate = rate
        } else if values["sample_rate"] != nil {
            return .failure(.init("sample_rate is only valid with encoding"))
        }
        for flag in ["interim_results", "smart_format", "punctuate", "mip_opt_out", "vad_events"] {
            if let value = values[flag], value != "true", value != "false" {
                return .failure(.init("\(flag) must be true or false"))
            }
        }
        if let endpointing = values["endpointing"], endpointing != "false", Int(endpointing) == nil {
            return .failure(.init("endpointing must be a number of milliseconds or false"))
        }
        if let tag = values["tag"], tag.count > 128 { return .failure(.init("tag is longer than 128 characters")) }
        if let gap = values["utterance_end_ms"] {
            guard let ms = Int(gap), ms >= 1_000 else { return .failure(.init("utterance_end_ms must be at least 1000")) }
            guard values["interim_results"] == "true" else { return .failure(.init("utterance_end_ms requires interim_results=true")) }
        }
        return .success(FakeListenQuery(
            model: model, language: values["language"], encoding: encoding, sampleRate: sampleRate,
            interimResults: values["interim_results"] == "true", tag: values["tag"], utteranceEnd: values["utterance_end_ms"] != nil))
    }

    /// Splits `a=1&b=2` (percent-decoded).
    static func items(_ query: String) -> [(String, String)] {
        query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            return (parts.first ?? "", parts.count > 1 ? parts[1] : "")
        }
    }
}

struct FakeQueryError: Error, Equatable {
    let message: String
    init(_ message: String) { self.message = message }
}
