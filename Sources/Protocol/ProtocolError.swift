/// A message or frame that cannot be accepted. Decoding maps every malformed input to one of
/// these; it never traps.
public struct ProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

extension ErrorCode {
    // Protocol errors: the stream stays open unless the error says otherwise.
    public static let malformedMessage = ErrorCode("malformed_message")
    public static let unknownMessageType = ErrorCode("unknown_message_type")
    public static let unsupportedVersion = ErrorCode("unsupported_version")
    public static let invalidMessage = ErrorCode("invalid_message")
    public static let malformedFrame = ErrorCode("malformed_frame")
    public static let frameTooLarge = ErrorCode("frame_too_large")
    public static let invalidOpusPacket = ErrorCode("invalid_opus_packet")
    public static let unexpectedMessage = ErrorCode("unexpected_message")
    /// Audio ran further ahead of the wall clock than the replay allowance: not forwarded, not acked.
    public static let audioTooFast = ErrorCode("audio_too_fast")

    // Why a stream stopped (`stopped.reason`), besides the admission codes.
    public static let clientStop = ErrorCode("client_stop")
    public static let stoppedByAdmin = ErrorCode("stopped_by_admin")
    public static let edgeTimeout = ErrorCode("edge_timeout")
    public static let serverShutdown = ErrorCode("server_shutdown")
    /// Set on sessions that a crash left open, when central starts again.
    public static let serverRestart = ErrorCode("server_restart")
    /// Set on sessions of a central instance that stopped heartbeating, when another settles them.
    public static let instanceLost = ErrorCode("instance_lost")
    /// The session was resumed on another connection (often another instance); this one ends.
    public static let sessionMoved = ErrorCode("session_moved")
    /// A resume was asked for a session that ended or is not this device's.
    public static let sessionNotResumable = ErrorCode("session_not_resumable")
    /// The connection dropped and no resume came within the resume window.
    public static let connectionLost = ErrorCode("connection_lost")
    /// The session's lease was released or lapsed while it streamed.
    public static let leaseLost = ErrorCode("lease_lost")
    /// A lease cannot be released while its stream is live on another instance.
    public static let sessionStreaming = ErrorCode("session_streaming")
    public static let unsupportedLanguagePair = ErrorCode("unsupported_language_pair")

    // Provider failures, after central has tried every usable key.
    /// The provider cannot be reached, or no provider key is configured or usable.
    public static let providerUnavailable = ErrorCode("provider_unavailable")
    /// Every provider key was refused (revoked, wrong, account in arrears).
    public static let providerAuthFailed = ErrorCode("provider_auth_failed")
    /// Every provider key is being throttled.
    public static let providerRateLimited = ErrorCode("provider_rate_limited")
    /// The provider rejected the task for another reason (bad audio, internal error).
    public static let providerFailed = ErrorCode("provider_failed")
    /// The provider stopped answering in time.
    public static let providerTimeout = ErrorCode("provider_timeout")
    /// Every provider key is running as many tasks as its account allows: refused at `start`.
    public static let providerAtCapacity = ErrorCode("provider_at_capacity")
}
