/// Central's answer to a successful `POST /v1/sessions` (central adds the `lease` it took).
public struct SessionGrant: Codable, Sendable, Equatable {
    public var sessionID: String
    public var resumed: Bool
    /// Single-use credential for the WebSocket upgrade.
    public var streamToken: String
    public var streamPath: String
    public var streamTokenTTLSeconds: Double
    public var leaseTTLSeconds: Double
    public var quota: QuotaSnapshot

    public init(
        sessionID: String, resumed: Bool, streamToken: String, streamPath: String = "/v1/stream",
        streamTokenTTLSeconds: Double, leaseTTLSeconds: Double, quota: QuotaSnapshot
    ) {
        self.sessionID = sessionID
        self.resumed = resumed
        self.streamToken = streamToken
        self.streamPath = streamPath
        self.streamTokenTTLSeconds = streamTokenTTLSeconds
        self.leaseTTLSeconds = leaseTTLSeconds
        self.quota = quota
    }

    enum CodingKeys: String, CodingKey {
        case sessionID = "session_id"
        case resumed
        case streamToken = "stream_token"
        case streamPath = "stream_path"
        case streamTokenTTLSeconds = "stream_token_ttl_seconds"
        case leaseTTLSeconds = "lease_ttl_seconds"
        case quota
    }
}
