/// The administrative state of a license.
public enum LicenseStatus: String, Codable, Sendable, CaseIterable {
    case active
    case suspended
    case revoked
}
