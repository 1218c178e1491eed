import Foundation

/// Admission's permission to open one stream: issued by `POST /v1/sessions`, presented once on
/// the WebSocket upgrade, valid for a short time. It stands in for the license key on the socket.
/// Kept in the store, so a stream admitted on one central instance opens on any other.
public struct StreamTicket: Sendable, Equatable {
    public var sessionID: String
    public var licenseID: String
    public var leaseID: String
    public var deviceFingerprint: String
    public var clientIP: String
    /// True when the ticket continues a detached session instead of starting one.
    public var resume: Bool
    public var expiresAt: Date

    public init(
        sessionID: String, licenseID: String, leaseID: String, deviceFingerprint: String, clientIP: String,
        resume: Bool, expiresAt: Date
    ) {
        self.sessionID = sessionID
        self.licenseID = licenseID
        self.leaseID = leaseID
        self.deviceFingerprint = deviceFingerprint
        self.clientIP = clientIP
        self.resume = resume
        self.expiresAt = expiresAt
    }
}
