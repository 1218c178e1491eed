import Foundation

/// The operator's console and the webhooks: session lifetimes, cookie flags, retry timing and
/// when events fire. Listed in the README's configuration table.
public struct ConsoleSettings: Sendable, Equatable {
    /// CONSOLE_IDLE_MINUTES: a console session without a request for this long ends.
    public var idleTimeout: TimeInterval = 15 * 60
    /// CONSOLE_SECURE_COOKIE: mark the session cookie `Secure` even when central itself serves
    /// plain HTTP (TLS ends at a proxy in front). With TLS_CERT_FILE it is always set.
    public var secureCookie = false
    /// WEBHOOK_FIRST_RETRY_SECONDS: the first retry of a failed delivery; each later wait is
    /// four times longer, up to six hours, for a day.
    public var webhookRetry = WebhookRetryPolicy()
    /// WEBHOOK_EXPIRING_DAYS: `license.expiring_soon` fires this many days before the expiry.
    public var expiringSoonDays = 3
    /// WEBHOOK_SCAN_SECONDS: how often licenses are checked for threshold and expiry events.
    public var eventScanInterval: TimeInterval = 30

    public init() {}

    static func read(_ environment: [String: String], into settings: inout ConsoleSettings) throws {
        if let minutes = environment["CONSOLE_IDLE_MINUTES"] {
            guard let value = Int(minutes), (1...1440).contains(value) else {
                throw CentralConfiguration.ConfigurationError.invalid(
                    name: "CONSOLE_IDLE_MINUTES", value: minutes, expected: "a number of minutes from 1 to 1440")
            }
            settings.idleTimeout = TimeInterval(value) * 60
        }
        if let secure = environment["CONSOLE_SECURE_COOKIE"], !secure.isEmpty {
            guard let value = ["true": true, "false": false, "1": true, "0": false][secure.lowercased()] else {
                throw CentralConfiguration.ConfigurationError.invalid(
                    name: "CONSOLE_SECURE_COOKIE", value: secure, expected: "true or false")
            }
            settings.secureCookie = value
        }
        if let retry = environment["WEBHOOK_FIRST_RETRY_SECONDS"] {
            settings.webhookRetry.firstRetry = try CentralConfiguration.parseSeconds(retry, name: "WEBHOOK_FIRST_RETRY_SECONDS")
        }
        if let days = environment["WEBHOOK_EXPIRING_DAYS"] {
            guard let value = Int(days), (1...365).contains(value) else {
                throw CentralConfiguration.ConfigurationError.invalid(
                    name: "WEBHOOK_EXPIRING_DAYS", value: days, expected: "a number of days from 1 to 365")
            }
            settings.expiringSoonDays = value
        }
        if let scan = environment["WEBHOOK_SCAN_SECONDS"] {
            settings.eventScanInterval = try CentralConfiguration.parseSeconds(scan, name: "WEBHOOK_SCAN_SECONDS")
        }
    }
}
