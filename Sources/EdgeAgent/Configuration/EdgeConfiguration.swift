import Foundation
import Protocol

/// The edge's settings: a license key and, optionally, everything else.
/// Every variable here is listed, with its default, in the README's configuration table.
public struct EdgeConfiguration: Sendable, Equatable {
    public var licenseKey: String
    public var centralURL: URL
    /// PEM file with the CA that signs central's certificate, instead of the system roots.
    public var centralCAFile: String?
    public var port = 3000
    public var bindAddress = "127.0.0.1"
    /// An extra host name the page may be served under (besides localhost and 127.0.0.1).
    public var hostName: String?
    public var audioDevice = "default"
    public var opus = OpusEncoderSettings()
    /// Where the device identity is kept.
    public var dataDirectory = "data/edge"

    public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
        case missingLicenseKey
        case malformedLicenseKey
        case invalid(name: String, value: String, expected: String)

        public var description: String {
            switch self {
            case .missingLicenseKey:
                "LICENSE_KEY is not set. Put the license key your vendor gave you in LICENSE_KEY."
            case .malformedLicenseKey:
                "LICENSE_KEY does not look like a license key (TRIAL-XXXXXXXX-XXXXXXXX-XXXXXXXX-XXXXXXXX). Check it for typos."
            case .invalid(let name, let value, let expected):
                "\(name)=\(value) is invalid: expected \(expected)."
            }
        }
    }

    public init(licenseKey: String, centralURL: URL) {
        self.licenseKey = licenseKey
        self.centralURL = centralURL
    }

    public static func fromEnvironment(_ environment: [String: String]) throws(ConfigurationError) -> EdgeConfiguration {
        guard let raw = environment["LICENSE_KEY"], !raw.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw .missingLicenseKey
        }
        let key = LicenseKeyFormat.normalize(raw)
        guard LicenseKeyFormat.isWellFormed(key) else { throw .malformedLicenseKey }
        let urlText = environment["CENTRAL_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? VendorDefaults.centralURL
        guard let url = URL(string: urlText), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw .invalid(name: "CENTRAL_URL", value: urlText, expected: "an http:// or https:// URL")
        }
        var configuration = EdgeConfiguration(licenseKey: key, centralURL: url)
        if let file = environment["CENTRAL_CA_FILE"], !file.isEmpty { configuration.centralCAFile = file }
        if let port = environment["EDGE_PORT"] {
            guard let value = Int(port), (1...65_535).contains(value) else {
                throw .invalid(name: "EDGE_PORT", value: port, expected: "a port number 1-65535")
            }
            configuration.port = value
        }
        if let bind = environment["EDGE_BIND"], !bind.isEmpty { configuration.bindAddress = bind }
        if let host = environment["EDGE_HOSTNAME"], !host.isEmpty { configuration.hostName = host.lowercased() }
        if let device = environment["AUDIO_DEVICE"], !device.isEmpty { configuration.audioDevice = device }
        if let bitrate = environment["OPUS_BITRATE"] {
            guard let value = Int32(bitrate), (6_000...128_000).contains(value) else {
                throw .invalid(name: "OPUS_BITRATE", value: bitrate, expected: "bits per second, 6000-128000")
            }
            configuration.opus.bitrate = value
        }
        if let complexity = environment["OPUS_COMPLEXITY"] {
            guard let value = Int32(complexity), (0...10).contains(value) else {
                throw .invalid(name: "OPUS_COMPLEXITY", value: complexity, expected: "0-10")
            }
            configuration.opus.complexity = value
        }
        if let fec = environment["OPUS_FEC"] {
            switch fec.lowercased() {
            case "1", "true", "on", "yes": configuration.opus.inbandFEC = true
            case "0", "false", "off", "no": configuration.opus.inbandFEC = false
            default: throw .invalid(name: "OPUS_FEC", value: fec, expected: "on or off")
            }
        }
        if let directory = environment["EDGE_DATA_DIR"], !directory.isEmpty { configuration.dataDirectory = directory }
        return configuration
    }

    /// The key as support may see it: kind and first group only.
    public var maskedLicenseKey: String {
        licenseKey.split(separator: "-").prefix(2).joined(separator: "-") + "-…"
    }
}
