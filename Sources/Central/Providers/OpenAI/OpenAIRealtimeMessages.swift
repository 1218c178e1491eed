/// OpenAI Realtime events as a transcription session uses them (GA shapes; the `openai`
/// SDK's `types/realtime`).
enum OpenAIRealtimeMessages {
    /// `session.update` for a transcription session: PCM16 at 24 kHz, the model and language,
    /// server VAD or none (`turn_detection: null`).
    static func sessionUpdate(model: String, language: String, serverVAD: Bool) -> JSONValue {
        let turnDetection: JSONValue = serverVAD
            ? .object([
                "type": .string("server_vad"), "threshold": .number(0.5), "prefix_padding_ms": .number(300),
                "silence_duration_ms": .number(500),
            ])
            : .null
        return .object([
            "type": .string("session.update"),
            "session": .object([
                "type": .string("transcription"),
                "audio": .object([
                    "input": .object([
                        "format": .object(["type": .string("audio/pcm"), "rate": .number(24_000)]),
                        "transcription": .object(["model": .string(model), "language": .string(language)]),
                        "turn_detection": turnDetection,
                    ]),
                ]),
            ]),
        ])
    }

    static func append(base64 audio: String) -> JSONValue {
        .object(["type": .string("input_audio_buffer.append"), "audio": .string(audio)])
    }

    static let commit: JSONValue = .object(["type": .string("input_audio_buffer.commit")])

    /// A server event; its `type` says which fields are there.
    struct ServerEvent: Decodable, Equatable {
        var type: String
        var itemID: String?
        var delta: String?
        var transcript: String?
        var usage: Usage?
        var error: ErrorBody?

        enum CodingKeys: String, CodingKey {
            case type, delta, transcript, usage, error
            case itemID = "item_id"
        }
    }

    /// `{type: "duration", seconds}` or `{type: "tokens", input_tokens, output_tokens, …}`.
    struct Usage: Decodable, Equatable {
        var type: String?
        var seconds: Double?
        var inputTokens: Int?
        var outputTokens: Int?

        enum CodingKeys: String, CodingKey {
            case type, seconds
            case inputTokens = "input_tokens"
            case outputTokens = "output_tokens"
        }
    }

    struct ErrorBody: Decodable, Equatable {
        var type: String?
        var code: String?
        var message: String?
    }
}
