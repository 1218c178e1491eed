import Foundation

/// The messages the fake sends, in Deepgram's shapes (the deepgram-sdk's `ListenV1Results`,
/// `ListenV1Metadata` and `ListenV1Error`, whose required fields are all here).
enum FakeDeepgramMessages {
    struct Results: Encodable {
        var type = "Results"
        var channelIndex = [0, 1]
        var duration: Double
        var start: Double
        var isFinal: Bool
        var speechFinal: Bool
        var fromFinalize: Bool
        var channel: Channel
        var metadata: ResultsMetadata

        enum CodingKeys: String, CodingKey {
            case type, duration, start, channel, metadata
            case channelIndex = "channel_index"
            case isFinal = "is_final"
            case speechFinal = "speech_final"
            case fromFinalize = "from_finalize"
        }
    }

    struct Channel: Encodable {
        var alternatives: [Alternative]
    }

    struct Alternative: Encodable {
        var transcript: String
        var confidence: Double
        var words: [Word]
    }

    struct Word: Encodable {
        var word: String
        var start: Double
        var end: Double
        var confidence: Double
        var punctuatedWord: String

        enum CodingKeys: String, CodingKey {
            case word, start, end, confidence
            case punctuatedWord = "punctuated_word"
        }
    }

    struct ResultsMetadata: Encodable {
        var requestID: String
        var modelInfo = ModelInfo()
        var modelUUID = "00000000-0000-4000-8000-00000000fa4e"

        enum CodingKeys: String, CodingKey {
            case requestID = "request_id"
            case modelInfo = "model_info"
            case modelUUID = "model_uuid"
        }
    }

    struct ModelInfo: Encodable {
        var name = "fake-nova"
        var version = "2026-12-01.0"
        var arch = "fake"
    }

    struct Metadata: Encodable {
        var type = "Metadata"
        var transactionKey = "deprecated"
        var requestID: String
        var sha256: String
        var created: String
        var duration: Double
        var channels = 1

        enum CodingKeys: String, CodingKey {
            case type, sha256, created, duration, channels
            case transactionKey = "transaction_key"
            case requestID = "request_id"
        }
    }

    struct ErrorMessage: Encodable {
        var type = "Error"
        var variant: String
        var description: String
        var message: String
    }
}
