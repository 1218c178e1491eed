/// Where a session's audio comes from.
public enum AudioSourceKind: String, Sendable, Equatable, Encodable {
    /// The edge's own ALSA capture device.
    case alsa
    /// The page's microphone, over `/ws` (`BrowserMicrophone`).
    case browser
}
