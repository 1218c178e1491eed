/// The shape of a license key, shared so the edge can refuse a mistyped key before calling
/// central: a kind (`TRIAL` or `LIC`) and four groups of eight Crockford base32 characters.
public enum LicenseKeyFormat {
    public static let kinds = ["TRIAL", "LIC"]
    /// Crockford base32 without I, L, O, U: unambiguous when read aloud or retyped.
    public static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    public static let groups = 4
    public static let groupSize = 8

    /// People retype keys: case and surrounding spaces do not matter.
    public static func normalize(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0 != " " && $0 != "\t" && $0 != "\n" && $0 != "\r" }).uppercased()
    }

    public static func isWellFormed(_ text: String) -> Bool {
        guard text.count <= 80 else { return false }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 1 + groups, kinds.contains(String(parts[0])) else { return false }
        let allowed = Set(alphabet)
        return parts.dropFirst().allSatisfy { $0.count == groupSize && $0.allSatisfy(allowed.contains) }
    }
}
