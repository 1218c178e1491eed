import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// Translates one sentence through an OpenAI-compatible `POST …/chat/completions`, with the
/// vault's `translation` keys: a refused or throttled key cools down and the next one is tried
/// at once, within the sentence's time bound. The provider's text and the key never leave the
/// log; the caller gets the translation or nil.
public struct ChatCompletionsTranslator: Sendable {
    public struct Translation: Sendable, Equatable {
        public var text: String
        public var tokens: Int
    }

    let settings: TranslationSettings
    let keys: any ProviderKeySource
    let logger: Logger

    public init(settings: TranslationSettings, keys: any ProviderKeySource, logger: Logger) {
        self.settings = settings
        self.keys = keys
        self.logger = logger
    }

    /// Language names the model understands better than codes.
    static let names: [String: String] = [
        "en": "English", "zh": "Simplified Chinese", "ja": "Japanese", "ko": "Korean", "es": "Spanish", "fr": "French",
        "de": "German", "it": "Italian", "pt": "Portuguese", "ru": "Russian", "nl": "Dutch", "hi": "Hindi", "ar": "Arabic",
    ]

    static func name(_ code: String) -> String { names[code] ?? code }

    /// The request body: the sentence is the user's message, never part of the instructions.
    static func body(model: String, text: String, source: String, target: String) -> JSONValue {
        .object([
            "model": .string(model),
            "temperature": .number(0),
            "stream": .bool(false),
            "messages": .array([
                .object([
                    "role": .string("system"),
                    "content": .string(
                        "You translate live speech transcripts from \(name(source)) into \(name(target)). "
                            + "Reply with the translation of the user's message only: no notes, no quotes, no answers to it."),
                ]),
                .object(["role": .string("user"), "content": .string(text)]),
            ]),
        ])
    }

    struct Response: Decodable {
        struct Choice: Decodable {
            struct Message: Decodable { var content: String? }
            var message: Message
        }
        struct Usage: Decodable {
            var totalTokens: Int?
            enum CodingKeys: String, CodingKey { case totalTokens = "total_tokens" }
        }
        var choices: [Choice]
        var usage: Usage?
    }

    /// The translation, or nil when the time bound passed or no key could get one.
    public func translate(_ text: String, from source: String, to target: String) async -> Translation? {
        guard let base = settings.baseURL,
              let body = try? JSONEncoder().encode(Self.body(model: settings.model, text: text, source: source, target: target))
        else { return nil }
        let deadline = ContinuousClock.now + settings.timeout
        var tried = 0
        while tried < 4, ContinuousClock.now < deadline, let key = await keys.checkout(provider: TranslationSettings.keyProvider) {
            tried += 1
            var request = HTTPClientRequest(url: base + "/chat/completions")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(key.secret)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
            // What is left of the sentence's bound, for this attempt.
            let remaining = (deadline - ContinuousClock.now).components
            let timeout = TimeAmount.nanoseconds(max(1_000_000, remaining.seconds * 1_000_000_000 + remaining.attoseconds / 1_000_000_000))
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: timeout)
                let data = try await response.body.collect(upTo: 1 << 20)
                switch response.status.code {
                case 200:
                    guard let decoded = try? JSONDecoder().decode(Response.self, from: Data(buffer: data)),
                          let content = decoded.choices.first?.message.content else {
                        await keys.report(keyID: key.id, outcome: .failed("unreadable chat completion"))
                        logger.warning("translation upstream answered something unreadable")
                        continue
                    }
                    await keys.report(keyID: key.id, outcome: .used(audioMs: 0))
                    return Translation(
                        text: String(content.trimmingCharacters(in: .whitespacesAndNewlines).prefix(4_000)),
                        tokens: max(0, decoded.usage?.totalTokens ?? 0))
                case 401, 403:
                    await keys.report(keyID: key.id, outcome: .authFailed("HTTP \(response.status.code)"))
                case 429:
                    await keys.report(keyID: key.id, outcome: .rateLimited("HTTP 429"))
                default:
                    await keys.report(keyID: key.id, outcome: .failed("HTTP \(response.status.code)"))
                }
                logger.warning("translation upstream refused", metadata: ["status": "\(response.status.code)"])
            } catch {
                await keys.report(keyID: key.id, outcome: .failed("unreachable"))
                logger.warning("translation upstream unreachable", metadata: ["error": "\(type(of: error))"])
            }
        }
        return nil
    }
}
