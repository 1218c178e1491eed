/// Deepgram's live messages, as far as central reads and writes them
/// (developers.deepgram.com, "Live audio"; the deepgram-sdk's listen v1 socket types).
enum DeepgramWire {
    /// A text frame central sends.
    struct Control: Encodable, Equatable {
        /// `KeepAlive`, `Finalize` or `CloseStream`.
        var type: String

        static let keepAlive = Control(type: "KeepAlive")
        static let finalize = Control(type: "Finalize")
        static let closeStream = Control(type: "CloseStream")
    }

    /// Any message Deepgram sends: its `type` says which fields are there.
    struct Message: Decodable, Equatable {
        var type: String
        // Results
        var start: Double?
        var duration: Double?
        var isFinal: Bool?
        var speechFinal: Bool?
        var channel: Channel?
        // Metadata (duration above), Error
        var requestID: String?
        var description: String?
        var message: String?
        var variant: String?

        enum CodingKeys: String, CodingKey {
            case type, start, duration, channel, description, message, variant
            case isFinal = "is_final"
            case speechFinal = "speech_final"
            case requestID = "request_id"
        }

        /// By `type`: `channel` is an object in `Results` but an array in `SpeechStarted` and
        /// `UtteranceEnd`, so it is read only where it is the results' channel.
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            type = try container.decode(String.self, forKey: .type)
            start = try container.decodeIfPresent(Double.self, forKey: .start)
            duration = try container.decodeIfPresent(Double.self, forKey: .duration)
            isFinal = try container.decodeIfPresent(Bool.self, forKey: .isFinal)
            speechFinal = try container.decodeIfPresent(Bool.self, forKey: .speechFinal)
            channel = type == "Results" ? try container.decodeIfPresent(Channel.self, forKey: .channel) : nil
            requestID = try container.decodeIfPresent(String.self, forKey: .requestID)
            description = try container.decodeIfPresent(String.self, forKey: .description)
            message = try container.decodeIfPresent(String.self, forKey: .message)
            variant = try container.decodeIfPresent(String.self, forKey: .variant)
        }
    }

    struct Channel: Decodable, Equatable {
        var alternatives: [Alternative]
    }

    struct Alternative: Decodable, Equatable {
        var transcript: String
        var confidence: Double?
    }
}
