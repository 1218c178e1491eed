/// What the session's link to central is doing, as `/api/status` and the page name it.
public enum LinkPhase: String, Sendable, Equatable, Encodable {
    case idle
    case connecting
    case streaming
    case reconnecting
    case stopped

    init(_ state: LinkState) {
        switch state {
        case .idle: self = .idle
        case .connecting: self = .connecting
        case .streaming: self = .streaming
        case .reconnecting: self = .reconnecting
        case .stopped: self = .stopped
        }
    }

    /// A session is being opened, runs, or is being resumed.
    public var isLive: Bool {
        switch self {
        case .connecting, .streaming, .reconnecting: true
        case .idle, .stopped: false
        }
    }
}
