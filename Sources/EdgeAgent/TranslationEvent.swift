import Protocol

/// What the page hears on `/ws`: one JSON object per event, `{"type": …}`.
public enum TranslationEvent: Sendable, Equatable, Encodable {
    case state(EdgeStatus)
    case quota(QuotaMessage)
    case transcript(ResultMessage)
    case translation(ResultMessage)
    case level(InputLevel)
    case error(code: ErrorCode, message: String)

    enum Keys: String, CodingKey {
        case type, status, quota, result, level, code, message
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        switch self {
        case .state(let status):
            try container.encode("state", forKey: .type)
            try container.encode(status, forKey: .status)
        case .quota(let quota):
            try container.encode("quota", forKey: .type)
            try container.encode(quota, forKey: .quota)
        case .transcript(let result):
            try container.encode("transcript", forKey: .type)
            try container.encode(result, forKey: .result)
        case .translation(let result):
            try container.encode("translation", forKey: .type)
            try container.encode(result, forKey: .result)
        case .level(let level):
            try container.encode("level", forKey: .type)
            try container.encode(level, forKey: .level)
        case .error(let code, let message):
            try container.encode("error", forKey: .type)
            try container.encode(code, forKey: .code)
            try container.encode(message, forKey: .message)
        }
    }
}
