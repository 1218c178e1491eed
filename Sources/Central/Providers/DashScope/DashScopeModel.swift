import Protocol

/// The DashScope realtime models central can relay to, and the languages each accepts.
public enum DashScopeModel: String, Sendable, CaseIterable {
    /// Live transcription plus one translation target.
    case gummyRealtime = "gummy-realtime-v1"
    /// Recognition only.
    case paraformerRealtime = "paraformer-realtime-v2"
    /// Recognition only, 16 kHz.
    case funASRRealtime = "fun-asr-realtime"

    public var translates: Bool { self == .gummyRealtime }

    /// Gummy: zh → en/ja/ko, en → zh/ja/ko, the others → zh/en (one target per task).
    /// Paraformer and Fun-ASR: transcription only.
    public var languages: [LanguageCatalog.SourceLanguage] {
        switch self {
        case .gummyRealtime:
            [
                .init(source: "zh", targets: ["en", "ja", "ko"], transcription: true),
                .init(source: "en", targets: ["zh", "ja", "ko"], transcription: true),
            ] + ["ja", "ko", "yue", "de", "fr", "ru", "it", "es"].map {
                .init(source: $0, targets: ["zh", "en"], transcription: true)
            }
        case .paraformerRealtime:
            ["zh", "en", "ja", "yue", "ko", "de", "fr", "ru"].map { .init(source: $0, targets: [], transcription: true) }
        case .funASRRealtime:
            ["zh", "en", "ja"].map { .init(source: $0, targets: [], transcription: true) }
        }
    }

    /// `run-task` parameters for Ogg Opus at the edge's capture rate.
    func parameters(source: String, target: String?, sampleRate: Int) -> DashScopeWire.TaskParameters {
        switch self {
        case .gummyRealtime:
            DashScopeWire.TaskParameters(
                sampleRate: sampleRate, format: "opus", sourceLanguage: source, transcriptionEnabled: true,
                translationEnabled: target != nil, translationTargetLanguages: target.map { [$0] } ?? [])
        case .paraformerRealtime, .funASRRealtime:
            DashScopeWire.TaskParameters(sampleRate: sampleRate, format: "opus", languageHints: [source])
        }
    }
}
