import Foundation
import Logging
import Protocol

/// Central's provider keys: decrypted only in memory, handed out round-robin, cooled down after
/// an auth failure or throttling, and counted in the store. Secrets never leave this type except
/// as a `ProviderKeyLease` for a provider's auth header.
public actor ProviderKeyVault: ProviderKeySource {
    /// An auth failure usually means a revoked key: leave it alone for a long while.
    public static let authCooldown: TimeInterval = 15 * 60
    public static let rateLimitCooldown: TimeInterval = 60

    private struct Loaded {
        var record: ProviderKeyRecord
        var secret: String
    }

    private let store: any CentralStore
    /// Also seals webhook secrets (`WebhookSecretSeal`).
    let cipher: ProviderKeyCipher?
    private let clock: any WallClock
    private let logger: Logger
    private var keys: [Loaded] = []
    private var cursor: [String: Int] = [:]
    private var coolingUntil: [String: Date] = [:]
    /// Tasks running on each key now, in this instance.
    private var inUse: [String: Int] = [:]
    /// The most tasks one key of a provider may run at once (providers cap concurrency per
    /// account); absent: no limit.
    private var capacity: [String: Int] = [:]

    public enum VaultError: Error, Equatable {
        case masterKeyMissing
        case duplicate
        case notFound
    }

    public init(store: any CentralStore, cipher: ProviderKeyCipher?, clock: any WallClock, logger: Logger) {
        self.store = store
        self.cipher = cipher
        self.clock = clock
        self.logger = logger
    }

    /// Reads and decrypts every stored key. Fails when the master key does not open them.
    public func load() async throws {
        let records = try await store.providerKeys()
        guard !records.isEmpty else {
            keys = []
            return
        }
        guard let cipher else { throw VaultError.masterKeyMissing }
        keys = try records.map { Loaded(record: $0, secret: try cipher.open($0.ciphertext, id: $0.id)) }
    }

    /// Stores keys from the environment or a file unless already stored (same secret).
    public func importKeys(_ secrets: [String], provider: String, source: ProviderKeyRecord.Source) async throws {
        for secret in secrets where !secret.isEmpty {
            do {
                _ = try await add(secret: secret, provider: provider, label: source == .file ? "from file" : "from environment", source: source)
            } catch VaultError.duplicate {
                continue
            }
        }
    }

    /// Adds a key; the answer is its masked view.
    public func add(secret: String, provider: String, label: String?, source: ProviderKeyRecord.Source) async throws -> ProviderKeyView {
        guard let cipher else { throw VaultError.masterKeyMissing }
        let fingerprint = ProviderKeyCipher.fingerprint(secret)
        guard !keys.contains(where: { $0.record.provider == provider && $0.record.fingerprint == fingerprint }) else {
            throw VaultError.duplicate
        }
        let id = "pk_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let record = ProviderKeyRecord(
            id: id, provider: provider, label: label, ciphertext: try cipher.seal(secret, id: id), fingerprint: fingerprint,
            hint: String(secret.suffix(4)), source: source, status: .active, createdAt: clock.now())
        try await store.insertProviderKey(record)
        keys.append(Loaded(record: record, secret: secret))
        logger.notice("provider key added", metadata: ["key": "\(id)", "provider": "\(provider)", "source": "\(source.rawValue)"])
        return view(record)
    }

    public func setStatus(id: String, _ status: ProviderKeyRecord.Status) async throws -> ProviderKeyView {
        guard let index = keys.firstIndex(where: { $0.record.id == id }), try await store.setProviderKeyStatus(id: id, status: status)
        else { throw VaultError.notFound }
        keys[index].record.status = status
        if status == .active { coolingUntil[id] = nil }
        return view(keys[index].record)
    }

    public func delete(id: String) async throws {
        guard try await store.deleteProviderKey(id: id) else { throw VaultError.notFound }
        keys.removeAll { $0.record.id == id }
        coolingUntil[id] = nil
    }

    /// Every key, masked, with its usage read fresh from the store.
    public func list() async throws -> [ProviderKeyView] {
        let stored = try await store.providerKeys()
        return stored.map(view)
    }

    /// `<PREFIX>_MAX_TASKS_PER_KEY`: at most `tasks` at once on each key of `provider`.
    public func setCapacity(provider: String, tasksPerKey tasks: Int?) {
        capacity[provider] = tasks
    }

    public func hasKeys(provider: String) -> Bool {
        keys.contains { $0.record.provider == provider }
    }

    // MARK: ProviderKeySource

    public func checkout(provider: String) async -> ProviderKeyLease? {
        let now = clock.now()
        let candidates = keys.filter { $0.record.provider == provider && $0.record.status == .active }
        guard !candidates.isEmpty else { return nil }
        let start = cursor[provider, default: 0]
        let limit = capacity[provider] ?? .max
        for offset in 0..<candidates.count {
            let key = candidates[(start + offset) % candidates.count]
            if let until = coolingUntil[key.record.id], until > now { continue }
            if inUse[key.record.id, default: 0] >= limit { continue }
            cursor[provider] = start + offset + 1
            inUse[key.record.id, default: 0] += 1
            return ProviderKeyLease(id: key.record.id, secret: key.secret)
        }
        return nil
    }

    public func release(keyID: String) async {
        giveBack(keyID)
    }

    private func giveBack(_ keyID: String) {
        if let count = inUse[keyID], count > 1 { inUse[keyID] = count - 1 } else { inUse[keyID] = nil }
    }

    /// True when keys are usable (active, not cooling) but every one is at its task limit:
    /// a start is then refused with `provider_at_capacity`, not `provider_unavailable`.
    public func atCapacity(provider: String) async -> Bool {
        guard let limit = capacity[provider] else { return false }
        let now = clock.now()
        let usable = keys.filter {
            $0.record.provider == provider && $0.record.status == .active && (coolingUntil[$0.record.id].map { $0 <= now } ?? true)
        }
        return !usable.isEmpty && usable.allSatisfy { inUse[$0.record.id, default: 0] >= limit }
    }

    /// Tasks running on each key now (`GET /v1/admin/provider-keys`, `in_use`).
    public func tasksInUse(keyID: String) -> Int {
        inUse[keyID, default: 0]
    }

    public func report(keyID: String, outcome: ProviderKeyOutcome) async {
        giveBack(keyID)
        let now = clock.now()
        switch outcome {
        case .authFailed: coolingUntil[keyID] = now.addingTimeInterval(Self.authCooldown)
        case .rateLimited: coolingUntil[keyID] = now.addingTimeInterval(Self.rateLimitCooldown)
        case .used, .failed: break
        }
        if case .used = outcome {} else {
            logger.warning("provider key failed", metadata: ["key": "\(keyID)", "outcome": "\(Self.kind(outcome))"])
        }
        do {
            try await store.recordProviderKeyOutcome(id: keyID, outcome: outcome, now: now)
        } catch {
            logger.error("could not record provider key use", metadata: ["key": "\(keyID)", "error": "\(error)"])
        }
    }

    private static func kind(_ outcome: ProviderKeyOutcome) -> String {
        switch outcome {
        case .used: "used"
        case .authFailed: "auth_failed"
        case .rateLimited: "rate_limited"
        case .failed: "failed"
        }
    }

    private func view(_ record: ProviderKeyRecord) -> ProviderKeyView {
        let until = coolingUntil[record.id].flatMap { $0 > clock.now() ? $0 : nil }
        return ProviderKeyView(
            id: record.id, provider: record.provider, label: record.label, masked: "…" + record.hint,
            source: record.source, status: record.status, createdAt: record.createdAt, coolingUntil: until, usage: record.stats,
            inUse: inUse[record.id, default: 0], maxTasks: capacity[record.provider])
    }
}

/// A key as the admin API shows it: never the secret, only its last four characters.
public struct ProviderKeyView: Sendable, Equatable, Codable {
    public var id: String
    public var provider: String
    public var label: String?
    public var masked: String
    public var source: ProviderKeyRecord.Source
    public var status: ProviderKeyRecord.Status
    public var createdAt: Date
    public var coolingUntil: Date?
    public var usage: ProviderKeyStats
    /// Tasks running on the key now, on this instance.
    public var inUse: Int = 0
    /// The most it may run at once (`<PREFIX>_MAX_TASKS_PER_KEY`); absent: no limit.
    public var maxTasks: Int?

    enum CodingKeys: String, CodingKey {
        case id, provider, label, masked, source, status
        case createdAt = "created_at"
        case coolingUntil = "cooling_until"
        case usage
        case inUse = "in_use"
        case maxTasks = "max_tasks"
    }
}
