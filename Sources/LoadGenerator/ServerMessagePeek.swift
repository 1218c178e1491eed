import NIOCore

/// Reads single fields of central's JSON text messages without a JSON decoder (acks and quotas
/// arrive thousands of times a second). Central writes compact JSON objects; none of the fields
/// read here occurs in a nested object.
enum ServerMessagePeek {
    static let type = Array(#""type":"#.utf8)
    static let lastSequence = Array(#""last_sequence":"#.utf8)
    static let code = Array(#""code":"#.utf8)
    static let reason = Array(#""reason":"#.utf8)

    /// The string value of `key` (a `"name":` pattern), or nil.
    static func string(_ key: [UInt8], in buffer: ByteBuffer) -> String? {
        buffer.withUnsafeReadableBytes { bytes in
            guard var index = valueStart(key, in: bytes), index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            index += 1
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") { index += 1 }
            guard index < bytes.count else { return nil }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        }
    }

    /// The unsigned integer value of `key`, or nil.
    static func integer(_ key: [UInt8], in buffer: ByteBuffer) -> UInt64? {
        buffer.withUnsafeReadableBytes { bytes in
            guard var index = valueStart(key, in: bytes) else { return nil }
            var value: UInt64 = 0
            var digits = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9"), digits < 19 {
                value = value * 10 + UInt64(bytes[index] - UInt8(ascii: "0"))
                index += 1
                digits += 1
            }
            return digits > 0 ? value : nil
        }
    }

    /// The index just after `key` and any spaces, or nil when `key` does not occur.
    private static func valueStart(_ key: [UInt8], in bytes: UnsafeRawBufferPointer) -> Int? {
        guard let first = key.first, bytes.count >= key.count else { return nil }
        var index = 0
        while index <= bytes.count - key.count {
            if bytes[index] == first, zip(key.indices, index...).allSatisfy({ key[$0.0] == bytes[$0.1] }) {
                var end = index + key.count
                while end < bytes.count, bytes[end] == UInt8(ascii: " ") { end += 1 }
                return end
            }
            index += 1
        }
        return nil
    }
}
