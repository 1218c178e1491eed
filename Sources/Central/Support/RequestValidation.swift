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

    public func string(_ key: String, maxLength: Int, required: Bool = false) throws(RequestValidationError) -> String? {
        guard let value = try present(key, required: required) else { return nil }
        guard case .string(let text) = value else { throw typeError(key, "a string", value) }
        guard text.count <= maxLength else {
            throw RequestValidationError(.stringTooLong, field: key, "Field '\(key)' is longer than \(maxLength) characters.")
        }
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
            guard text.count <= maxLength else {
                throw RequestValidationError(.stringTooLong, field: key, "An entry of '\(key)' is longer than \(maxLength) characters.")
            }
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
