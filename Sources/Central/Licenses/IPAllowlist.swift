import Foundation

/// One CIDR block, IPv4 or IPv6, e.g. `203.0.113.0/24` or `2001:db8::/32`.
/// A bare address is a block of one.
public struct CIDRBlock: Sendable, Equatable, CustomStringConvertible {
    let address: [UInt8]
    let prefixLength: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2,
              let bytes = IPAddressParser.parse(String(parts[0]))
        else { return nil }
        let maxLength = bytes.count * 8
        var length = maxLength
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), (0...maxLength).contains(parsed), parts[1].allSatisfy(\.isNumber) else {
                return nil
            }
            length = parsed
        }
        self.address = Self.masked(bytes, length)
        self.prefixLength = length
    }

    public func contains(_ ip: String) -> Bool {
        guard let bytes = IPAddressParser.parse(ip), bytes.count == address.count else { return false }
        return Self.masked(bytes, prefixLength) == address
    }

    public var description: String {
        "\(IPAddressParser.format(address))/\(prefixLength)"
    }

    private static func masked(_ bytes: [UInt8], _ length: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bitsInByte = max(0, min(8, length - index * 8))
            return bitsInByte == 8 ? byte : byte & ~(UInt8(0xFF) >> bitsInByte)
        }
    }
}

/// A license's IP allowlist. Empty means any address is allowed.
public struct IPAllowlist: Sendable, Equatable {
    public let blocks: [CIDRBlock]

    public init(blocks: [CIDRBlock]) {
        self.blocks = blocks
    }

    /// Parses each entry; returns the first entry that is not a valid CIDR block as the failure.
    public static func parse(_ entries: [String]) -> Result<IPAllowlist, InvalidEntry> {
        var blocks: [CIDRBlock] = []
        for entry in entries {
            guard let block = CIDRBlock(entry.trimmingCharacters(in: .whitespaces)) else {
                return .failure(InvalidEntry(entry: entry))
            }
            blocks.append(block)
        }
        return .success(IPAllowlist(blocks: blocks))
    }

    public struct InvalidEntry: Error, Sendable {
        public let entry: String
    }

    public var isUnrestricted: Bool { blocks.isEmpty }

    public func allows(_ ip: String) -> Bool {
        isUnrestricted || blocks.contains { $0.contains(ip) }
    }

    public var entries: [String] { blocks.map(\.description) }
}

/// Textual IPv4 / IPv6 addresses to bytes and back, via inet_pton/inet_ntop.
enum IPAddressParser {
    static func parse(_ text: String) -> [UInt8]? {
        // IPv4-mapped IPv6 peers (::ffff:a.b.c.d) are treated as the IPv4 address they carry.
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            let bytes = withUnsafeBytes(of: &v6) { Array($0) }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                return Array(bytes[12..<16])
            }
            return bytes
        }
        return nil
    }

    static func format(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
