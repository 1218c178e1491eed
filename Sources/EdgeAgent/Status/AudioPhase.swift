/// What the session's audio capture is doing, as `/api/status` and the page name it.
public enum AudioPhase: String, Sendable, Equatable, Encodable {
    case idle
    case starting
    case capturing
    case reopening
    case noDevice = "no_device"
    case stopped

    /// A capture's state as a phase, and the message that explains it (why the device is
    /// being reopened or cannot be opened).
    static func of(_ state: CaptureState) -> (phase: AudioPhase, message: String?) {
        switch state {
        case .starting: (.starting, nil)
        case .capturing: (.capturing, nil)
        case .reopening(let why): (.reopening, why)
        case .noDevice(let why): (.noDevice, why)
        case .stopped: (.stopped, nil)
        }
    }
}
