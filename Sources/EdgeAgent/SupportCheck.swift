import Foundation
import Protocol

/// `edge-agent --check`: what support asks a customer to run first. Prints the configuration,
/// the capture devices, whether central answers, and the license's state and quota.
public struct SupportCheck {
    public let configuration: EdgeConfiguration
    public let audio: any AudioSource
    public let central: CentralClient

    public init(configuration: EdgeConfiguration, audio: any AudioSource, central: CentralClient) {
        self.configuration = configuration
        self.audio = audio
        self.central = central
    }

    /// Runs every check, writing lines through `print`; true when the edge can stream.
    public func run(print: @Sendable (String) -> Void) async -> Bool {
        var healthy = true
        print("Configuration")
        print("  license key:   \(configuration.maskedLicenseKey)")
        print("  central:       \(configuration.centralURL.absoluteString)\(configuration.centralCAFile.map { " (CA \($0))" } ?? "")")
        print("  local page:    http://\(configuration.bindAddress):\(configuration.port)")
        print("  audio device:  \(configuration.audioDevice)")
        print("  opus:          \(configuration.opus.bitrate / 1000) kbps, complexity \(configuration.opus.complexity), FEC \(configuration.opus.inbandFEC ? "on" : "off")")
        let devices = audio.devices()
        print("Audio capture devices")
        if devices.isEmpty {
            print("  none found (the page can use the browser's microphone instead)")
        }
        for device in devices {
            print("  \(device.name == configuration.audioDevice ? "*" : " ") \(device.name) — \(device.description)")
        }
        print("Central")
        guard await central.isReachable() else {
            print("  NOT reachable: check the network, a proxy or CENTRAL_URL")
            print("License")
            print("  not checked: central is unreachable")
            print("NOT OK: see above.")
            return false
        }
        print("  reachable")
        print("License")
        do {
            let quota = try await central.quota()
            print("  status:        \(quota.status.rawValue)")
            print("  expires:       \(quota.expiresAt.map(WireCoding.formatTimestamp) ?? "counted from first use")")
            print(String(format: "  minutes left:  %.2f of %.2f", quota.secondsRemaining / 60, quota.secondsLimit / 60))
            print("  sessions:      \(quota.sessionsUsed) used\(quota.sessionsLimit.map { " of \($0)" } ?? "")")
            print("  streams:       \(quota.concurrentInUse) of \(quota.concurrentLimit) in use")
            if quota.status != .active || quota.secondsRemaining <= 0 { healthy = false }
            if let expiresAt = quota.expiresAt, expiresAt <= Date() { healthy = false }
        } catch {
            print("  \(error.code): \(error.message)")
            healthy = false
        }
        print(healthy ? "OK: this edge can stream." : "NOT OK: see above.")
        return healthy
    }
}
