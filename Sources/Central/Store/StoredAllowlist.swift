import Foundation

/// How every store keeps a license's IP allowlist: a JSON array of CIDR texts.
enum StoredAllowlist {
    static func json(_ allowlist: IPAllowlist) -> String {
        let data = (try? JSONEncoder().encode(allowlist.entries)) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// A damaged allowlist must not open the license to every address: the read fails instead.
    static func parse(_ json: String, licenseID: String) throws -> IPAllowlist {
        guard json != "[]" else { return IPAllowlist(blocks: []) }
        guard let entries = try? JSONDecoder().decode([String].self, from: Data(json.utf8)),
              case .success(let parsed) = IPAllowlist.parse(entries)
        else { throw StoreError.corruptRow("license \(licenseID) has an unreadable ip_allowlist") }
        return parsed
    }
}
