/// Which audio a start request may name. alsa-lib reads a PCM name as configuration:
/// `file:'|cmd',raw` runs `cmd` through popen() and `file:'/path',raw` creates or truncates a
/// file, so a string from HTTP is never handed to it. The request only picks one of the names
/// the edge trusts, and the name opened is the trusted copy.
enum CaptureDeviceChoice: Equatable, Sendable {
    /// An ALSA PCM name from the edge's own configuration or enumeration.
    case alsa(String)
    /// The page's microphone over /ws (browser-microphone mode).
    case browser

    /// The name that selects the page's own microphone.
    static let browserName = "browser"
    /// alsa-lib's default capture device, always offered.
    static let defaultName = "default"

    /// `requested` (nil: the configured device) as a trusted choice, or nil when it is not one
    /// of: `browser`, `default`, the configured `AUDIO_DEVICE`, a name `enumerate` returns.
    /// Names are compared exactly: no trimming, no case folding.
    static func choose(requested: String?, configured: String, enumerate: () -> [AudioDevice]) -> CaptureDeviceChoice? {
        guard let requested else { return .alsa(configured) }
        switch requested {
        case browserName: return .browser
        case configured: return .alsa(configured)
        case defaultName: return .alsa(defaultName)
        default:
            // Enumerating is I/O (alsa-lib reads its configuration): only for other names.
            return enumerate().first { $0.name == requested }.map { .alsa($0.name) }
        }
    }
}
