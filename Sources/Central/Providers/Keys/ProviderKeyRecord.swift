import Foundation

/// A provider key as the store keeps it: the secret only as AES-GCM ciphertext, plus what the
/// operator needs to manage it (a hint, where it came from, how it has been doing).
public struct ProviderKeyRecord: Sendable, Equatable {
    public enum Source: String, Sendable, Codable {
        /// From DASHSCOPE_API_KEYS / DASHSCOPE_API_KEY.
        case environment = "env"
        /// From DASHSCOPE_API_KEY_FILE.
        case file
        /// Added through the admin API or CLI.
        case admin
    }

    public enum Status: String, Sendable, Codable {
        case active
        case disabled
    }

    public var id: String
    public var provider: String
    public var label: String?
    /// nonce ‖ ciphertext ‖ tag (AES-GCM combined form), bound to `id`.
    public var ciphertext: Data
    /// SHA-256 of the secret, hex: finds a key imported again from the environment.
    public var fingerprint: String
    /// The secret's last four characters, for humans.
    public var hint: String
    public var source: Source
    public var status: Status
    public var createdAt: Date
    public var stats: ProviderKeyStats

    public init(
        id: String, provider: String, label: String?, ciphertext: Data, fingerprint: String, hint: String, source: Source,
        status: Status, createdAt: Date, stats: ProviderKeyStats = ProviderKeyStats()
    ) {
        self.id = id
        self.provider = provider
        self.label = label
        self.ciphertext = ciphertext
        self.fingerprint = fingerprint
        self.hint = hint
        self.source = source
        self.status = status
        self.createdAt = createdAt
        self.stats = stats
    }
}

/// How a key has been used.
public struct ProviderKeyStats: Sendable, Equatable, Codable {
    public var tasks: Int = 0
    public var audioMs: Int64 = 0
    public var authFailures: Int = 0
    public var rateLimited: Int = 0
    public var otherFailures: Int = 0
    public var lastUsedAt: Date?
    public var lastError: String?
    public var lastErrorAt: Date?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case tasks
        case audioMs = "audio_ms"
        case authFailures = "auth_failures"
        case rateLimited = "rate_limited"
        case otherFailures = "other_failures"
        case lastUsedAt = "last_used_at"
        case lastError = "last_error"
        case lastErrorAt = "last_error_at"
    }
}
