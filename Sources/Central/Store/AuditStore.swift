import Foundation
import Protocol

/// The append-only trail of administrative changes.
public protocol AuditStore: Sendable {
    func audit(_ query: AuditQuery) async throws -> [AuditEntry]
    func appendAudit(action: String, licenseID: String?, detail: String?, actor: AdminOperator, now: Date) async throws
}
