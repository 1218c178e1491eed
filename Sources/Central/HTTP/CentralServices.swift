import Crypto
import Foundation
import Hummingbird
import Protocol

/// Everything the HTTP handlers share, assembled once by `buildApplication`.
struct CentralServices: Sendable {
    let store: any CentralStore
    let clock: any WallClock
    let configuration: CentralConfiguration
    let metrics: CentralMetrics
    let licenseAuthLimiter: AuthFailureLimiter
    let adminAuthLimiter: AuthFailureLimiter
    let clientAddress: ClientAddressResolver
    let observer: (any LicenseChangeObserver)?

    func clientIP(_ request: Request, _ context: CentralRequestContext) -> String {
        clientAddress.clientIP(request: request, context: context)
    }

    /// The operator behind an admin request, for the audit trail: the signed-in operator's name
    /// (`AdminAuthMiddleware`), and the IP, since the shared token can be used by several people.
    func actor(_ request: Request, _ context: CentralRequestContext) -> AdminOperator {
        AdminOperator(name: context.adminOperator?.name ?? "admin-api", ip: clientIP(request, context))
    }

    /// The license key as the edge presents it: `Authorization: Bearer …` or `X-License-Key`.
    /// Refuses a missing or malformed key, and any key from an address that failed too often.
    func presentedLicenseKey(_ request: Request, ip: String) throws -> LicenseKey {
        let now = clock.now()
        if let retry = licenseAuthLimiter.retryAfter(ip: ip, now: now) {
            throw APIError(.tooManyRequests, .rateLimited, "Too many failed license authentications from this address. Try again later.", retryAfterSeconds: retry)
        }
        guard let presented = request.bearerToken ?? request.header("x-license-key"), !presented.isEmpty else {
            throw licenseAuthFailure(ip: ip, APIError(.unauthorized, .licenseKeyMissing, "Send the license key in 'Authorization: Bearer <key>' or 'X-License-Key'."))
        }
        // People retype keys: case and surrounding spaces do not matter.
        let text = LicenseKeyFormat.normalize(presented)
        guard LicenseKey.isWellFormed(text) else {
            throw licenseAuthFailure(ip: ip, APIError(.unauthorized, .licenseKeyMalformed, "The license key is not in the format central issues."))
        }
        return LicenseKey(unchecked: text)
    }

    /// Records a failed license authentication and returns the error to throw.
    func licenseAuthFailure(ip: String, _ error: APIError) -> APIError {
        licenseAuthLimiter.recordFailure(ip: ip, now: clock.now())
        metrics.recordAuthFailure(kind: "license")
        return error
    }

    /// The license behind a presented key, whatever its status.
    func authenticatedLicense(_ request: Request, _ context: CentralRequestContext) async throws -> License {
        let ip = clientIP(request, context)
        let key = try presentedLicenseKey(request, ip: ip)
        guard let license = try await store.license(keyHash: key.hash) else {
            throw licenseAuthFailure(ip: ip, AdmissionRefusal.error(for: .licenseNotFound, now: clock.now()))
        }
        return license
    }
}

/// Constant-time comparison of secrets: both sides are hashed first, so neither the length
/// nor the position of the first difference leaks through timing.
enum SecretComparison {
    static func equal(_ presented: String, digest expected: [UInt8]) -> Bool {
        let presentedDigest = SHA256.hash(data: Data(presented.utf8))
        guard expected.count == SHA256.byteCount else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(presentedDigest, expected) { difference |= a ^ b }
        return difference == 0
    }
}
