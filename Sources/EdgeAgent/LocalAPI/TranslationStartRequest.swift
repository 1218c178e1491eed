import Foundation

/// The body of `POST /api/translation/start`: `{"source_language": "zh", "target_language": "en", "device": optional}`.
///
/// Kept apart from the routes (no Hummingbird) so the fuzz target `edge-start-request`
/// (Tests/Fuzz) compiles the exact decoding the edge runs on every local POST body.
struct TranslationStartRequest: Decodable, Equatable {
    var sourceLanguage: String
    var targetLanguage: String?
    var device: String?

    /// Language codes are short (`zh`, `yue`, `zh-Hant`); anything longer is refused.
    static let maxLanguageLength = 16

    enum CodingKeys: String, CodingKey {
        case sourceLanguage = "source_language"
        case targetLanguage = "target_language"
        case device
    }

    /// The request in `body`, or nil when it is not one: not JSON, a missing or mistyped field,
    /// an empty source language or a language code over `maxLanguageLength` characters.
    static func parse(_ body: Data) -> TranslationStartRequest? {
        guard let request = try? JSONDecoder().decode(TranslationStartRequest.self, from: body),
              !request.sourceLanguage.isEmpty, request.sourceLanguage.count <= maxLanguageLength,
              (request.targetLanguage?.count ?? 0) <= maxLanguageLength
        else { return nil }
        return request
    }
}
