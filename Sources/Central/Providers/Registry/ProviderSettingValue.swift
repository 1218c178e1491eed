import Foundation

/// The provider settings that end up in a provider's URL or request (a model name, language
/// codes), read from the environment and checked against what may appear there unescaped.
enum ProviderSettingValue {
    typealias ConfigurationError = CentralConfiguration.ConfigurationError

    /// Letters, digits, `-`, `_` and `.`, at most 64.
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 64
            && text.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "-_.".unicodeScalars.contains($0) }
    }

    /// `name`'s value when it is set: one token (a model name such as `example`).
    static func token(_ environment: [String: String], _ name: String, example: String) throws -> String? {
        guard let value = environment[name], !value.isEmpty else { return nil }
        guard isToken(value) else { throw ConfigurationError.invalid(name: name, value: value, expected: "a model name such as \(example)") }
        return value
    }

    /// `name`'s value when it is set: comma-separated codes (languages such as `example`).
    static func codes(_ environment: [String: String], _ name: String, example: String) throws -> [String]? {
        guard let list = environment[name], !list.isEmpty else { return nil }
        let codes = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !codes.isEmpty, codes.allSatisfy(isToken) else {
            throw ConfigurationError.invalid(name: name, value: list, expected: "comma-separated language codes such as \(example)")
        }
        return codes
    }

    /// `name`'s value when it is set: a ws:// or wss:// URL with no query (central adds its own).
    static func webSocketURL(_ environment: [String: String], _ name: String) throws -> String? {
        guard let url = environment[name], !url.isEmpty else { return nil }
        guard url.hasPrefix("wss://") || url.hasPrefix("ws://"), !url.contains("?") else {
            throw ConfigurationError.invalid(name: name, value: url, expected: "a wss:// (or ws://) URL without a query")
        }
        return url
    }
}
