import Hummingbird
import Protocol
import Synchronization

/// Any web page the customer visits can try to reach localhost:3000. The local API and its
/// WebSocket answer only requests whose Host is this machine (or the configured name) — which
/// defeats DNS rebinding — and whose Origin, when a browser sends one, is the edge's own page.
/// `LocalRequestGate` applies it to every request but the page's static files.
final class LocalOriginPolicy: Sendable {
    let allowedHosts: Set<String>
    /// The port the page is really served on (known once the server listens; EDGE_PORT before).
    private let port: Atomic<Int>

    init(port: Int, hostName: String?) {
        self.port = Atomic(port)
        var hosts: Set<String> = ["localhost", "127.0.0.1", "[::1]"]
        if let hostName { hosts.insert(hostName.lowercased()) }
        allowedHosts = hosts
    }

    func serving(on boundPort: Int) {
        port.store(boundPort, ordering: .relaxed)
    }

    enum Verdict: Equatable {
        case allowed
        case refused(ErrorCode, String)
    }

    func check(host: String?, origin: String?) -> Verdict {
        check(host: host, origins: origin.map { [$0] } ?? [])
    }

    /// Every Origin value must pass (a client may send more than one).
    func check(host: String?, origins: [String]) -> Verdict {
        guard let host, let name = hostName(host), allowedHosts.contains(name) else {
            return .refused(.hostNotAllowed, "This service answers only on localhost.")
        }
        // No Origin: not a browser, or a same-origin GET.
        for origin in origins where !isOwn(origin) {
            return .refused(.originNotAllowed, "Requests from other web pages are refused.")
        }
        return .allowed
    }

    private func isOwn(_ origin: String) -> Bool {
        let lowered = origin.lowercased()
        // Browsers send only http(s) or "null" origins; ws:// comes from WebSocket libraries,
        // never from a web page, so it cannot be a foreign page.
        if lowered.hasPrefix("ws://") || lowered.hasPrefix("wss://") { return true }
        guard lowered.hasPrefix("http://"), let originHost = hostName(String(lowered.dropFirst("http://".count))) else {
            return false
        }
        return allowedHosts.contains(originHost) && originPort(lowered) == port.load(ordering: .relaxed)
    }

    /// `localhost:3000` → `localhost`; `[::1]:3000` → `[::1]`.
    private func hostName(_ authority: String) -> String? {
        let lowered = authority.lowercased()
        if lowered.hasPrefix("[") {
            guard let end = lowered.firstIndex(of: "]") else { return nil }
            return String(lowered[...end])
        }
        return lowered.split(separator: ":", maxSplits: 1).first.map(String.init)
    }

    private func originPort(_ origin: String) -> Int {
        let authority = origin.dropFirst("http://".count).split(separator: "/").first.map(String.init) ?? ""
        if let last = authority.split(separator: ":").last, authority.contains(":"), !authority.hasSuffix("]") {
            return Int(last) ?? -1
        }
        return 80
    }
}

extension ErrorCode {
    public static let hostNotAllowed = ErrorCode("host_not_allowed")
    public static let originNotAllowed = ErrorCode("origin_not_allowed")
    public static let alreadyStreaming = ErrorCode("already_streaming")
    public static let notStreaming = ErrorCode("not_streaming")
    /// Browser-microphone audio arrived while no browser-microphone session runs.
    public static let browserAudioNotExpected = ErrorCode("browser_audio_not_expected")
    /// A browser-microphone message that is not whole 20 ms frames of 16 kHz mono S16LE.
    public static let invalidAudioFrame = ErrorCode("invalid_audio_frame")
    /// A start request naming an audio device the edge does not offer.
    public static let invalidDevice = ErrorCode("invalid_device")
}
