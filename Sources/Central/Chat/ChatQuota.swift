import ArgumentParser
import Foundation
import Protocol

/// A plan's or license's chat allowance for the OpenAI-compatible proxy: which models it may
/// ask for (each mapped to an upstream and the upstream's model name), and its limits. Absent
/// limits are unlimited. Days are counted in `timeZone`.
public struct ChatQuota: Sendable, Equatable, Codable {
    /// The model name a client sends → where central sends it.
    public var models: [String: ChatModelRoute]
    public var requestsPerDay: Int?
    public var tokensPerDay: Int64?
    /// Over the license's life.
    public var tokensTotal: Int64?
    public var requestsPerMinute: Int?
    /// An IANA name, e.g. `UTC`, `Asia/Shanghai`.
    public var timeZone: String

    public init(
        models: [String: ChatModelRoute], requestsPerDay: Int? = nil, tokensPerDay: Int64? = nil, tokensTotal: Int64? = nil,
        requestsPerMinute: Int? = nil, timeZone: String = "UTC"
    ) {
        self.models = models
        self.requestsPerDay = requestsPerDay
        self.tokensPerDay = tokensPerDay
        self.tokensTotal = tokensTotal
        self.requestsPerMinute = requestsPerMinute
        self.timeZone = timeZone
    }

    /// The zone days are counted in; `timeZone` was checked when the quota was set.
    public var zone: TimeZone { TimeZone(identifier: timeZone) ?? .gmt }

    enum CodingKeys: String, CodingKey {
        case models
        case requestsPerDay = "requests_per_day"
        case tokensPerDay = "tokens_per_day"
        case tokensTotal = "tokens_total"
        case requestsPerMinute = "requests_per_minute"
        case timeZone = "time_zone"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let routes = try c.decode([String: String].self, forKey: .models)
        var models: [String: ChatModelRoute] = [:]
        for (name, text) in routes {
            guard let route = ChatModelRoute(text) else {
                throw DecodingError.dataCorruptedError(forKey: .models, in: c, debugDescription: "bad route \(text)")
            }
            models[name] = route
        }
        self.models = models
        requestsPerDay = try c.decodeIfPresent(Int.self, forKey: .requestsPerDay)
        tokensPerDay = try c.decodeIfPresent(Int64.self, forKey: .tokensPerDay)
        tokensTotal = try c.decodeIfPresent(Int64.self, forKey: .tokensTotal)
        requestsPerMinute = try c.decodeIfPresent(Int.self, forKey: .requestsPerMinute)
        timeZone = try c.decodeIfPresent(String.self, forKey: .timeZone) ?? "UTC"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(models.mapValues(\.description), forKey: .models)
        try c.encodeIfPresent(requestsPerDay, forKey: .requestsPerDay)
        try c.encodeIfPresent(tokensPerDay, forKey: .tokensPerDay)
        try c.encodeIfPresent(tokensTotal, forKey: .tokensTotal)
        try c.encodeIfPresent(requestsPerMinute, forKey: .requestsPerMinute)
        try c.encode(timeZone, forKey: .timeZone)
    }

    /// As stored in a `chat_quota` column.
    var storedJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// A `chat_quota` column read back; a row that cannot be read is refused, not guessed at.
    static func stored(_ text: String?, owner: String) throws -> ChatQuota? {
        guard let text else { return nil }
        do {
            return try JSONDecoder().decode(ChatQuota.self, from: Data(text.utf8))
        } catch {
            throw StoreError.corruptRow("chat quota of \(owner)")
        }
    }

    static let fields: Set<String> = ["models", "requests_per_day", "tokens_per_day", "tokens_total", "requests_per_minute", "time_zone"]
    static let maxModels = 50
    static let maxCount = 1_000_000_000
    static let maxTokens = 1_000_000_000_000

    /// The admin API's `chat` object, every field checked. Model names are what an OpenAI
    /// client sends; routes are `upstream/model`. Errors name the field as `chat.<name>`.
    init(json value: JSONValue, field: String) throws(RequestValidationError) {
        do {
            try self.init(checking: value, field: field)
        } catch {
            var named = error
            if let inner = error.field, !inner.hasPrefix(field + ".") { named.field = "\(field).\(inner)" }
            if error.field == nil { named.field = field }
            throw named
        }
    }

    private init(checking value: JSONValue, field: String) throws(RequestValidationError) {
        let reader = try JSONObjectReader(value: value, allowed: Self.fields)
        guard case .object(let routes)? = reader.fields["models"], !routes.isEmpty else {
            throw RequestValidationError(
                .invalidValue, field: "models",
                "Field '\(field).models' must be an object of model names to \"upstream/model\" routes, with at least one entry.")
        }
        guard routes.count <= Self.maxModels else {
            throw RequestValidationError(.invalidValue, field: "models", "Field '\(field).models' has more than \(Self.maxModels) entries.")
        }
        var models: [String: ChatModelRoute] = [:]
        for (name, target) in routes {
            guard ChatModelRoute.isName(name) else {
                throw RequestValidationError(
                    .invalidValue, field: "models", "A model name must be 1–100 ASCII letters, digits or . _ - : /.")
            }
            guard case .string(let text) = target, let route = ChatModelRoute(text) else {
                throw RequestValidationError(
                    .invalidValue, field: "models",
                    "The route of model '\(name)' must be \"upstream/model\", e.g. \"deepseek/deepseek-chat\".")
            }
            models[name] = route
        }
        self.models = models
        requestsPerDay = try reader.int("requests_per_day", max: Self.maxCount)
        tokensPerDay = try reader.int("tokens_per_day", max: Self.maxTokens).map(Int64.init)
        tokensTotal = try reader.int("tokens_total", max: Self.maxTokens).map(Int64.init)
        requestsPerMinute = try reader.int("requests_per_minute", max: Self.maxCount)
        let zone = try reader.string("time_zone", maxLength: 64) ?? "UTC"
        guard TimeZone(identifier: zone) != nil else {
            throw RequestValidationError(
                .invalidValue, field: "time_zone", "Field '\(field).time_zone' must be an IANA time zone such as UTC or Asia/Shanghai.")
        }
        timeZone = zone
    }

    /// A `--chat` argument of the CLI: the admin API's `chat` object as JSON text.
    init(argument text: String) throws {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        } catch {
            throw ValidationError("--chat must be a JSON object, e.g. '{\"models\":{\"deepseek-chat\":\"deepseek/deepseek-chat\"}}'.")
        }
        do {
            try self.init(json: value, field: "chat")
        } catch {
            throw ValidationError("--chat: \(error.message)")
        }
    }

    /// The JSON body the admin API accepts, for the CLI talking to a remote central.
    var json: JSONValue {
        var object: [String: JSONValue] = ["models": .object(models.mapValues { .string($0.description) }), "time_zone": .string(timeZone)]
        object["requests_per_day"] = requestsPerDay.map { .number(Double($0)) }
        object["tokens_per_day"] = tokensPerDay.map { .number(Double($0)) }
        object["tokens_total"] = tokensTotal.map { .number(Double($0)) }
        object["requests_per_minute"] = requestsPerMinute.map { .number(Double($0)) }
        return .object(object)
    }
}

/// Where a model name goes: an upstream configured in `CHAT_UPSTREAMS` and its model name.
public struct ChatModelRoute: Sendable, Equatable, CustomStringConvertible {
    public var upstream: String
    public var model: String

    public init(upstream: String, model: String) {
        self.upstream = upstream
        self.model = model
    }

    /// `upstream/model`; the model part may itself hold slashes (`Qwen/Qwen2.5-7B`).
    public init?(_ text: String) {
        guard let slash = text.firstIndex(of: "/") else { return nil }
        let upstream = String(text[..<slash])
        let model = String(text[text.index(after: slash)...])
        guard ChatUpstream.isName(upstream), Self.isName(model) else { return nil }
        self.init(upstream: upstream, model: model)
    }

    public var description: String { "\(upstream)/\(model)" }

    /// What a model name may be: what providers use, nothing that could break a log line or a URL.
    static func isName(_ text: String) -> Bool {
        (1...100).contains(text.count)
            && text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-:/".unicodeScalars.contains($0)) }
    }
}
