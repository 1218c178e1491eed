/// Client-to-server WebSocket frames (RFC 6455 §5.2), masked as §5.3 requires, built once and
/// then written as plain bytes.
///
/// Every frame uses the same mask key: central only checks that frames are masked, and one key
/// lets `AudioFrameTemplates` patch a field of a masked frame by XOR-ing it with `maskWord`.
enum MaskedFrame {
    static let text: UInt8 = 0x1
    static let binary: UInt8 = 0x2
    static let close: UInt8 = 0x8
    static let pong: UInt8 = 0xA

    /// The mask key as one big-endian word.
    static let maskWord: UInt32 = 0x5A3C_96E1
    private static let maskKey: [UInt8] = [0x5A, 0x3C, 0x96, 0xE1]

    /// A final (unfragmented) frame carrying `payload`.
    static func bytes(opcode: UInt8, payload: some Collection<UInt8>) -> [UInt8] {
        var bytes: [UInt8] = [0x80 | opcode]
        bytes.reserveCapacity(headerSize(payloadCount: payload.count) + payload.count)
        switch payload.count {
        case ..<126:
            bytes.append(0x80 | UInt8(payload.count))
        case ..<65_536:
            bytes += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default:
            bytes.append(0x80 | 127)
            bytes += (0..<8).reversed().map { UInt8(truncatingIfNeeded: UInt64(payload.count) >> (8 * $0)) }
        }
        bytes += maskKey
        for (index, byte) in payload.enumerated() { bytes.append(byte ^ maskKey[index & 3]) }
        return bytes
    }

    /// Where the payload starts: 2 header bytes, the extended length, the 4-byte mask key.
    static func headerSize(payloadCount: Int) -> Int {
        switch payloadCount {
        case ..<126: 2 + 4
        case ..<65_536: 4 + 4
        default: 10 + 4
        }
    }
}
