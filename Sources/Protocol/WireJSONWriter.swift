import Foundation

/// Writes the JSON of the messages central sends several times a second per stream (`ack`,
/// `quota`) without `JSONEncoder`, byte for byte as the encoder would (sorted keys, numbers and
/// strings formatted the same way): the goldens and a property test against the encoder hold
/// it to that.
struct WireJSONWriter {
    private(set) var text = ""
    private var needsComma = [false]

    init(reservingCapacity capacity: Int = 512) {
        text.reserveCapacity(capacity)
    }

    mutating func beginObject() {
        text.append("{")
        needsComma.append(false)
    }

    mutating func endObject() {
        text.append("}")
        needsComma.removeLast()
    }

    mutating func beginArray() {
        text.append("[")
        needsComma.append(false)
    }

    mutating func endArray() {
        text.append("]")
        needsComma.removeLast()
    }

    /// Before each value inside an array (a key does it for a value in an object).
    mutating func element() {
        if needsComma[needsComma.count - 1] { text.append(",") }
        needsComma[needsComma.count - 1] = true
    }

    /// Keys must be written in sorted order, as the encoder's `.sortedKeys` does.
    mutating func key(_ name: StaticString) {
        element()
        text.append("\"")
        text.append(name.description)
        text.append("\":")
    }

    mutating func string(_ value: String) {
        text.append("\"")
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text.append("\\\"")
            case "\\": text.append("\\\\")
            case "\n": text.append("\\n")
            case "\r": text.append("\\r")
            case "\t": text.append("\\t")
            case "\u{08}": text.append("\\b")
            case "\u{0C}": text.append("\\f")
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: text.unicodeScalars.append(scalar)
            }
        }
        text.append("\"")
    }

    mutating func number(_ value: Int64) { text.append(String(value)) }
    mutating func number(_ value: Int) { text.append(String(value)) }
    mutating func number(_ value: UInt32) { text.append(String(value)) }

    /// As the encoder writes a Double: its shortest round-trip form, integral values without ".0".
    mutating func number(_ value: Double) {
        let formatted = value.description
        text.append(formatted.hasSuffix(".0") ? String(formatted.dropLast(2)) : formatted)
    }

    /// A key and its number, or nothing when nil (as `encodeIfPresent`).
    mutating func optional<Number: BinaryInteger & LosslessStringConvertible>(_ name: StaticString, _ value: Number?) {
        guard let value else { return }
        key(name)
        text.append(String(value))
    }

    mutating func optional(_ name: StaticString, _ value: Double?) {
        guard let value else { return }
        key(name)
        number(value)
    }

    mutating func bool(_ value: Bool) { text.append(value ? "true" : "false") }

    mutating func date(_ value: Date) { string(WireCoding.formatTimestamp(value)) }
}
