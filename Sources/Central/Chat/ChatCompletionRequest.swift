import Foundation
import Protocol

/// A client's `POST /v1/chat/completions` body, read as far as central needs it (model,
/// messages, stream, stream options, token caps); every other field goes upstream unchanged.
struct ChatCompletionRequest {
    var object: [String: JSONValue]
    var model: String
    var messageCount: Int
    /// The messages' JSON size, for the prompt's token estimate.
    var messageBytes: Int
    var stream: Bool
    var clientWantsUsage: Bool
    /// `max_completion_tokens` (newer clients) or `max_tokens`, whichever the client used.
    var maxTokensField: String?
    var maxTokens: Int64?

    init(data: Data) throws(RequestValidationError) {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw RequestValidationError(.malformedJSON, field: nil, "The request body is not valid JSON.")
        }
        guard case .object(let object) = value else {
            throw RequestValidationError(.invalidType, field: nil, "The request body must be a JSON object.")
        }
        self.object = object
        guard case .string(let model)? = object["model"], ChatModelRoute.isName(model) else {
            throw RequestValidationError(.missingField, field: "model", "Field 'model' must name a model (GET /v1/models lists them).")
        }
        self.model = model
        guard case .array(let messages)? = object["messages"], !messages.isEmpty else {
            throw RequestValidationError(.missingField, field: "messages", "Field 'messages' must be a non-empty array.")
        }
        messageCount = messages.count
        messageBytes = (try? JSONEncoder().encode(JSONValue.array(messages)).count) ?? data.count
        switch object["stream"] {
        case nil, .null?: stream = false
        case .bool(let flag)?: stream = flag
        default: throw RequestValidationError(.invalidType, field: "stream", "Field 'stream' must be true or false.")
        }
        clientWantsUsage = false
        if case .object(let options)? = object["stream_options"], case .bool(true)? = options["include_usage"] {
            clientWantsUsage = true
        }
        if let n = object["n"], n != .null, n != .number(1) {
            throw RequestValidationError(.invalidValue, field: "n", "Only one choice per request is supported ('n' must be 1).")
        }
        for field in ["max_completion_tokens", "max_tokens"] {
            guard let value = object[field], value != .null else { continue }
            guard case .number(let number) = value, number >= 1, number <= 10_000_000, number == number.rounded() else {
                throw RequestValidationError(.invalidValue, field: field, "Field '\(field)' must be a whole number of at least 1.")
            }
            if maxTokensField == nil {
                maxTokensField = field
                maxTokens = Int64(number)
            }
        }
    }

    var estimatedInputTokens: Int64 {
        ChatQuotaPolicy.estimatedTokens(utf8Bytes: messageBytes, messages: messageCount)
    }

    /// The body for the upstream: its model name, the answer capped at what the reservation
    /// holds, and, for a stream, the final usage chunk asked for (central bills from it).
    func upstreamBody(model upstreamModel: String, maxOutputTokens: Int64?) -> Data {
        var object = object
        object["model"] = .string(upstreamModel)
        if let cap = maxOutputTokens, maxTokens.map({ $0 > cap }) ?? true {
            object[maxTokensField ?? "max_tokens"] = .number(Double(cap))
        }
        if stream {
            var options: [String: JSONValue] = [:]
            if case .object(let given)? = object["stream_options"] { options = given }
            options["include_usage"] = .bool(true)
            object["stream_options"] = .object(options)
        }
        return (try? JSONEncoder().encode(JSONValue.object(object))) ?? Data()
    }
}
