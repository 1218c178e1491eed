import Foundation

/// The central instances sharing a database, each heartbeating (`InstanceHeartbeatService`).
/// A live stream session names the instance that owns it; the sessions of an instance whose
/// heartbeat lapsed are settled by the others (`MeteringStore.settleStreamSessions`).
public protocol InstanceStore: Sendable {
    /// Records the instance as alive at `now` (first registration or heartbeat alike).
    func heartbeatInstance(id: String, now: Date) async throws
    /// A graceful shutdown: the instance is gone and owns nothing any more.
    func removeInstance(id: String) async throws
    func instances() async throws -> [InstanceRecord]
}

public struct InstanceRecord: Sendable, Equatable, Codable {
    public var id: String
    public var startedAt: Date
    public var heartbeatAt: Date
    /// Live stream sessions it owns.
    public var liveSessions: Int

    public init(id: String, startedAt: Date, heartbeatAt: Date, liveSessions: Int) {
        self.id = id
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
        self.liveSessions = liveSessions
    }

    enum CodingKeys: String, CodingKey {
        case id
        case startedAt = "started_at"
        case heartbeatAt = "heartbeat_at"
        case liveSessions = "live_sessions"
    }
}
