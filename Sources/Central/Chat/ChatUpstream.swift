import Foundation

/// One OpenAI-compatible chat upstream (DeepSeek, Qwen's compatible mode, …) the chat proxy
/// forwards to, named in `CHAT_UPSTREAMS`. Its keys are in the vault as `chat-<name>`.
public struct ChatUpstream: Sendable, Equatable {
    public var name: String
    /// The API base, e.g. `https://api.deepseek.com/v1`; `/chat/completions` is added.
    public var baseURL: String

    public init(name: String, baseURL: String) {
        self.name = name
        self.baseURL = baseURL
    }

    /// The vault's provider name for this upstream's keys.
    public var keyProvider: String { "chat-" + name }

    /// `CHAT_DEEPSEEK` for `CHAT_DEEPSEEK_API_KEYS`, `…_API_KEY`, `…_API_KEY_FILE`, `…_MAX_TASKS_PER_KEY`.
    public var keyVariablePrefix: String { "CHAT_" + name.uppercased().replacingOccurrences(of: "-", with: "_") }

    /// Lower-case letters, digits and inner dashes, at most 24: it appears in a vault name, an
    /// environment variable, a metric label and a model route.
    static func isName(_ text: String) -> Bool {
        (1...24).contains(text.count) && !text.hasPrefix("-") && !text.hasSuffix("-")
            && text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }
}

/// The chat proxy's settings: `CHAT_UPSTREAMS`, `CHAT_TIMEOUT_SECONDS`, `CHAT_MAX_OUTPUT_TOKENS`,
/// `CHAT_MAX_BODY_BYTES`. With no upstream, `/v1/chat/completions` answers `chat_not_enabled`.
public struct ChatSettings: Sendable {
    /// `CHAT_UPSTREAMS=deepseek=https://api.deepseek.com/v1,qwen=https://dashscope.aliyuncs.com/compatible-mode/v1`.
    public var upstreams: [ChatUpstream] = []
    /// `CHAT_TIMEOUT_SECONDS`: how long an upstream may take to start answering (per key tried),
    /// and the longest pause between two parts of a streamed answer.
    public var timeout: Duration = .seconds(60)
    /// `CHAT_MAX_OUTPUT_TOKENS`: what a request that names no `max_tokens` reserves for its
    /// answer when the license has a token limit; the upstream is asked for no more.
    public var maxOutputTokens: Int64 = 4096
    /// `CHAT_MAX_BODY_BYTES`: the largest request body accepted.
    public var maxBodyBytes = 1 << 20
    /// A reservation whose request never settled (the instance died mid-answer) stops holding
    /// tokens after this; its request still counts.
    public var reservationLifetime: TimeInterval = 15 * 60

    public init() {}

    public func upstream(named name: String) -> ChatUpstream? {
        upstreams.first { $0.name == name }
    }

    /// The vault names and key-variable prefixes of every upstream.
    var keyedServices: [(name: String, prefix: String)] {
        upstreams.map { ($0.keyProvider, $0.keyVariablePrefix) }
    }

    mutating func read(_ environment: [String: String]) throws {
        typealias ConfigurationError = CentralConfiguration.ConfigurationError
        if let list = environment["CHAT_UPSTREAMS"], !list.isEmpty {
            var upstreams: [ChatUpstream] = []
            for entry in list.split(separator: ",") {
                let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, ChatUpstream.isName(parts[0]), !upstreams.contains(where: { $0.name == parts[0] }),
                      parts[1].hasPrefix("https://") || parts[1].hasPrefix("http://"), !parts[1].contains("?"),
                      URL(string: parts[1]) != nil
                else {
                    throw ConfigurationError.invalid(
                        name: "CHAT_UPSTREAMS", value: list,
                        expected: "comma-separated name=base_url pairs with distinct lower-case names, e.g. deepseek=https://api.deepseek.com/v1")
                }
                upstreams.append(ChatUpstream(name: parts[0], baseURL: parts[1].hasSuffix("/") ? String(parts[1].dropLast()) : parts[1]))
            }
            self.upstreams = upstreams
        }
        if let text = environment["CHAT_TIMEOUT_SECONDS"] {
            timeout = .milliseconds(Int(try CentralConfiguration.parseSeconds(text, name: "CHAT_TIMEOUT_SECONDS") * 1000))
        }
        if let text = environment["CHAT_MAX_OUTPUT_TOKENS"], !text.isEmpty {
            guard let tokens = Int64(text), (1...1_000_000).contains(tokens) else {
                throw ConfigurationError.invalid(name: "CHAT_MAX_OUTPUT_TOKENS", value: text, expected: "an integer from 1 to 1000000")
            }
            maxOutputTokens = tokens
        }
        if let text = environment["CHAT_MAX_BODY_BYTES"], !text.isEmpty {
            guard let bytes = Int(text), (1024...(64 << 20)).contains(bytes) else {
                throw ConfigurationError.invalid(name: "CHAT_MAX_BODY_BYTES", value: text, expected: "an integer from 1024 to 67108864")
            }
            maxBodyBytes = bytes
        }
    }
}
