import Foundation
import Protocol

/// Plain aligned columns for humans; `--json` is for scripts.
enum TextTable {
    static func render(headers: [String], rows: [[String]]) -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(headers), line(widths.map { String(repeating: "-", count: $0) })] + rows.map(line))
            .joined(separator: "\n")
    }
}

/// How the CLI writes values: JSON for scripts, text for people.
enum CLIOutput {
    static func json(_ value: some Encodable) throws {
        let encoder = WireCoding.encoder()
        encoder.outputFormatting.insert(.prettyPrinted)
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func minutes(_ ms: Int64) -> String {
        String(format: "%.2f", Double(ms) / 60_000)
    }

    static func date(_ date: Date?) -> String {
        date.map(WireCoding.formatTimestamp) ?? "-"
    }

    static func licenseRow(_ license: LicenseView) -> [String] {
        [
            license.id, license.keyPrefix, license.customerName, license.plan, license.status.rawValue,
            "\(minutes(license.usedMs))/\(minutes(license.limitMs))",
            "\(license.sessionsUsed)/\(license.sessionLimit.map(String.init) ?? "∞")",
            date(license.expiresAt),
        ]
    }

    static let licenseHeaders = ["ID", "KEY", "CUSTOMER", "PLAN", "STATUS", "MINUTES USED", "SESSIONS", "EXPIRES"]

    static func detail(_ license: LicenseView) -> String {
        var lines = [
            "id:               \(license.id)",
            "key prefix:       \(license.keyPrefix)",
            "customer:         \(license.customerName)\(license.customerEmail.map { " <\($0)>" } ?? "")",
            "plan:             \(license.plan)",
            "provider:         \(license.provider ?? "default")",
            "status:           \(license.status.rawValue)",
            "starts:           \(date(license.startsAt))",
            "expires:          \(license.expiresAt.map(WireCoding.formatTimestamp) ?? (license.expiryFromFirstUse ? "\(license.validityDays) days from first use" : "-"))",
            "minutes:          \(minutes(license.usedMs)) used of \(minutes(license.limitMs)) (\(minutes(license.remainingMs)) left)",
            "sessions:         \(license.sessionsUsed) used of \(license.sessionLimit.map(String.init) ?? "unlimited")",
            "daily cap:        \(license.dailyCapMs.map { minutes($0) + " minutes" } ?? "none")",
            "concurrent:       \(license.activeLeases?.count ?? 0) of \(license.maxConcurrent)",
            "devices:          \(license.devices?.count ?? 0) of \(license.maxDevices)",
            "ip allowlist:     \(license.ipAllowlist.isEmpty ? "any" : license.ipAllowlist.joined(separator: ", "))",
            "last used:        \(date(license.lastUsedAt))",
            "created:          \(date(license.createdAt))",
        ]
        if !license.notes.isEmpty { lines.append("notes:            \(license.notes)") }
        for device in license.devices ?? [] {
            lines.append("  device \(device.fingerprint) bound \(date(device.boundAt)), seen \(date(device.lastSeenAt))")
        }
        return lines.joined(separator: "\n")
    }
}
