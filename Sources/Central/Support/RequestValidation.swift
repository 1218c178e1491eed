import Foundation
import Protocol

/// A request that failed validation: one stable code, the field at fault, and a sentence.
public struct RequestValidationError: Error, Equatable, CustomStringConvertible {
    public var code: ErrorCode
    public var field: String?
    public var message: String

    public init(_ code: ErrorCode, field: String?, _ message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String { "\(code)\(field.map { " (\($0))" } ?? ""): \(message)" }
}

/// What a text field may hold.
public enum TextKind: Sendable {
    /// A name, an id, an address: one line, no control characters.
    case line
    /// Free text (notes, descriptions): line breaks and tabs allowed, no other control characters.
    case multiline

    /// C0 and C1 controls and DEL, the line and paragraph separators, and the bidirectional
    /// embeddings, overrides and isolates that make a name display in an order other than its
    /// own are refused; free text keeps LF, CR and tab.
    func allows(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A, 0x0D, 0x09: self == .multiline
        case 0x00...0x1F, 0x7F...0x9F: false
        case 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: false
        default: true
        }
    }
}

/// Reads typed fields out of a JSON object, refusing unknown fields, wrong types, over-long
/// strings and out-of-range numbers with the field's name.
public struct JSONObjectReader {
    public let fields: [String: JSONValue]

    /// Parses `data` as a JSON object whose keys must all be in `allowed`.
    public init(data: Data, allowed: Set<String>) throws(RequestValidationError) {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: data.isEmpty ? Data("{}".utf8) : data)
        } catch {
            throw RequestValidationError(.malformedJSON, field: nil, "The request body is not valid JSON.")
        }
        try self.init(value: value, allowed: allowed)
    }

    public init(value: JSONValue, allowed: Set<String>) throws(RequestValidationError) {
        guard case .object(let fields) = value else {
            throw RequestValidationError(.invalidType, field: nil, "The request body must be a JSON object.")
        }
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw RequestValidationError(.unknownField, field: unknown, "Unknown field '\(unknown)'.")
        }
        self.fields = fields
    }

    public func has(_ key: String) -> Bool { fields[key] != nil }

    /// True when the field is present and explicitly `null` (used by PATCH to clear a value).
    public func isNull(_ key: String) -> Bool { fields[key] == .null }

    public func string(
        _ key: String, maxLength: Int, required: Bool = false, text kind: TextKind = .line
    ) throws(RequestValidationError) -> String? {
        guard let value = try present(key, required: required) else { return nil }
        guard case .string(let text) = value else { throw typeError(key, "a string", value) }
        try Self.check(text, key: key, maxLength: maxLength, kind: kind, entry: false)
        if required && text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw RequestValidationError(.missingField, field: key, "Field '\(key)' must not be empty.")
        }
        return text
    }

    public func int(_ key: String, max upper: Int, required: Bool = false) throws(RequestValidationError) -> Int? {
        guard let number = try number(key, max: Double(upper), required: required) else { return nil }
        guard number == number.rounded() else {
            throw RequestValidationError(.invalidType, field: key, "Field '\(key)' must be a whole number.")
        }
        return Int(number)
    }

    public func number(_ key: String, max upper: Double, required: Bool = false) throws(RequestValidationError) -> Double? {
        guard let value = try present(key, required: required) else { return nil }
        guard case .number(let number) = value, number.isFinite else { throw typeError(key, "a number", value) }
        guard number >= 0 else {
            throw RequestValidationError(.negativeNumber, field: key, "Field '\(key)' must not be negative.")
        }
        guard number <= upper else {
            throw RequestValidationError(.invalidValue, field: key, "Field '\(key)' must be at most \(upper.formatted()).")
        }
        return number
    }

    public func bool(_ key: String) throws(RequestValidationError) -> Bool? {
        guard let value = try present(key, required: false) else { return nil }
        guard case .bool(let flag) = value else { throw typeError(key, "true or false", value) }
        return flag
    }

    public func stringArray(_ key: String, maxCount: Int, maxLength: Int) throws(RequestValidationError) -> [String]? {
        guard let value = try present(key, required: false) else { return nil }
        guard case .array(let items) = value else { throw typeError(key, "an array of strings", value) }
        guard items.count <= maxCount else {
            throw RequestValidationError(.invalidValue, field: key, "Field '\(key)' has more than \(maxCount) entries.")
        }
        var strings: [String] = []
        for item in items {
            guard case .string(let text) = item else { throw typeError(key, "an array of strings", item) }
            try Self.check(text, key: key, maxLength: maxLength, kind: .line, entry: true)
            strings.append(text)
        }
        return strings
    }

    public func timestamp(_ key: String) throws(RequestValidationError) -> Date? {
        guard let text = try string(key, maxLength: 40) else { return nil }
        guard let date = WireCoding.parseTimestamp(text) else {
            throw RequestValidationError(.invalidValue, field: key, "Field '\(key)' must be an ISO 8601 timestamp.")
        }
        return date
    }

    /// Characters are what a reader sees (grapheme clusters); one of them can hold any number of
    /// bytes (a letter and 20 000 combining accents), so the UTF-8 size is bounded too, at four
    /// bytes a character: the most a character of plain text needs.
    static func check(_ text: String, key: String, maxLength: Int, kind: TextKind, entry: Bool) throws(RequestValidationError) {
        let subject = entry ? "An entry of '\(key)'" : "Field '\(key)'"
        guard text.utf8.count <= maxLength * 4 else {
            throw RequestValidationError(.stringTooLong, field: key, "\(subject) is longer than \(maxLength * 4) bytes of UTF-8.")
        }
        guard text.count <= maxLength else {
            throw RequestValidationError(.stringTooLong, field: key, "\(subject) is longer than \(maxLength) characters.")
        }
        if text.unicodeScalars.contains(where: { !kind.allows($0) }) {
            throw RequestValidationError(
                .invalidValue, field: key,
                kind == .line
                    ? "\(subject) must not contain control characters (line breaks, tabs, escapes, direction overrides)."
                    : "\(subject) must not contain control characters other than line breaks and tabs.")
        }
    }

    /// nil when absent or null (unless required).
    private func present(_ key: String, required: Bool) throws(RequestValidationError) -> JSONValue? {
        guard let value = fields[key], value != .null else {
            if required {
                throw RequestValidationError(.missingField, field: key, "Field '\(key)' is required.")
            }
            return nil
        }
        return value
    }

    private func typeError(_ key: String, _ expected: String, _ value: JSONValue) -> RequestValidationError {
        RequestValidationError(.invalidType, field: key, "Field '\(key)' must be \(expected), not \(value.typeName).")
    }
}
