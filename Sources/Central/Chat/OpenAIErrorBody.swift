import Foundation

/// OpenAI's error body, `{"error":{"message","type","param","code"}}`, which OpenAI clients
/// parse (the Python SDK raises by status and exposes `code`). `code` is our stable code.
struct OpenAIErrorBody: Encodable {
    struct Detail: Encodable {
        var message: String
        var type: String
        var param: String?
        var code: String

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(message, forKey: .message)
            try c.encode(type, forKey: .type)
            // OpenAI sends `param: null` rather than leaving it out.
            try c.encode(param, forKey: .param)
            try c.encode(code, forKey: .code)
        }

        enum CodingKeys: String, CodingKey { case message, type, param, code }
    }

    var error: Detail

    init(message: String, type: String, param: String? = nil, code: String) {
        error = Detail(message: message, type: type, param: param, code: code)
    }

    /// OpenAI's error `type` for a status.
    static func type(for status: Int) -> String {
        switch status {
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 429: "rate_limit_error"
        case 400..<500: "invalid_request_error"
        default: "api_error"
        }
    }
}
