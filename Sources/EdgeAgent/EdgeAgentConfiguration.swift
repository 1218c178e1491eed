import Foundation

/// The edge's settings. This version reads only the license key; the edge issue adds the rest.
public struct EdgeAgentConfiguration: Sendable, Equatable {
    public var licenseKey: String

    public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
        case missingLicenseKey

        public var description: String {
            switch self {
            case .missingLicenseKey: "LICENSE_KEY is not set. Put the license key your vendor gave you in LICENSE_KEY."
            }
        }
    }

    public static func fromEnvironment(_ environment: [String: String]) throws(ConfigurationError) -> EdgeAgentConfiguration {
        guard let key = environment["LICENSE_KEY"]?.trimmingCharacters(in: .whitespacesAndNewlines), !key.isEmpty else {
            throw .missingLicenseKey
        }
        return EdgeAgentConfiguration(licenseKey: key)
    }
}
