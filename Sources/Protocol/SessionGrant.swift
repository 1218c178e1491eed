/// Central's answer to a successful `POST /v1/sessions`, as an edge reads it.
public struct SessionGrant: Decodable, Sendable, Equatable {
    public var sessionID: String
    public var resumed: Bool
    /// Single-use credential for the WebSocket upgrade.
    public var streamToken: String
    public var streamPath: String
    public var streamTokenTTLSeconds: Double
    public var leaseTTLSeconds: Double
    public var quota: QuotaSnapshot

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
