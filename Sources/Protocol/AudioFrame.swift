/// One binary WebSocket frame carrying one Opus packet.
///
/// Layout, big-endian:
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 1 | message type, `0x01` = audio |
/// | 1 | 1 | protocol version (1) |
/// | 2 | 2 | flags, 0 (reserved) |
/// | 4 | 4 | sequence number, from 0, +1 per frame within a session |
/// | 8 | 4 | duration in microseconds (must match the Opus packet's own) |
/// | 12 | 8 | capture time, microseconds since the Unix epoch |
/// | 20 | 1…1275 | one Opus packet |
public struct AudioFrame: Equatable, Sendable {
    public static let type: UInt8 = 0x01
    public static let headerSize = 20
    public static let maxSize = headerSize + OpusPacketInfo.maxPacketBytes

    public var sequence: UInt32
    public var durationMicroseconds: UInt32
    public var captureTimeMicroseconds: UInt64
    public var packet: [UInt8]

    public init(sequence: UInt32, durationMicroseconds: UInt32, captureTimeMicroseconds: UInt64, packet: [UInt8]) {
        self.sequence = sequence
        self.durationMicroseconds = durationMicroseconds
        self.captureTimeMicroseconds = captureTimeMicroseconds
        self.packet = packet
    }

    /// A frame whose duration is read from the packet itself.
    public init(sequence: UInt32, captureTimeMicroseconds: UInt64, packet: [UInt8]) throws(ProtocolError) {
        self.init(
            sequence: sequence, durationMicroseconds: try OpusPacketInfo.durationMicroseconds(packet),
            captureTimeMicroseconds: captureTimeMicroseconds, packet: packet)
    }

    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.headerSize + packet.count)
        bytes.append(Self.type)
        bytes.append(ProtocolVersion.current)
        bytes.append(contentsOf: [0, 0])
        Self.append(sequence, to: &bytes)
        Self.append(durationMicroseconds, to: &bytes)
        Self.append(UInt32(truncatingIfNeeded: captureTimeMicroseconds >> 32), to: &bytes)
        Self.append(UInt32(truncatingIfNeeded: captureTimeMicroseconds), to: &bytes)
        bytes.append(contentsOf: packet)
        return bytes
    }

    /// Decodes and validates one frame. Any malformed input is a `ProtocolError`, never a trap.
    public static func decode(_ bytes: some Collection<UInt8>) throws(ProtocolError) -> AudioFrame {
        let data = Array(bytes)
        guard data.count <= maxSize else {
            throw ProtocolError(.frameTooLarge, "audio frame of \(data.count) bytes; at most \(maxSize)")
        }
        guard data.count > headerSize else {
            throw ProtocolError(.malformedFrame, "audio frame of \(data.count) bytes is shorter than its header and one packet byte")
        }
        guard data[0] == type else {
            throw ProtocolError(.malformedFrame, "unknown binary message type \(data[0])")
        }
        guard data[1] == ProtocolVersion.current else {
            throw ProtocolError(.unsupportedVersion, "audio frame version \(data[1]); this peer speaks \(ProtocolVersion.current)")
        }
        guard data[2] == 0, data[3] == 0 else {
            throw ProtocolError(.malformedFrame, "reserved flags must be 0")
        }
        let sequence = read32(data, 4)
        let duration = read32(data, 8)
        let captureTime = UInt64(read32(data, 12)) << 32 | UInt64(read32(data, 16))
        // Per frame on central's hot path: the bytes become the packet in place (the header
        // shifted out of a buffer nobody else holds), no second allocation.
        var packet = consume data
        packet.removeFirst(headerSize)
        let frame = AudioFrame(
            sequence: sequence, durationMicroseconds: duration, captureTimeMicroseconds: captureTime, packet: packet)
        let actual = try OpusPacketInfo.durationMicroseconds(frame.packet)
        guard actual == frame.durationMicroseconds else {
            throw ProtocolError(.malformedFrame, "frame says \(frame.durationMicroseconds) µs but its Opus packet holds \(actual) µs")
        }
        return frame
    }

    private static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 24))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    private static func read32(_ data: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(data[offset]) << 24 | UInt32(data[offset + 1]) << 16 | UInt32(data[offset + 2]) << 8 | UInt32(data[offset + 3])
    }
}
