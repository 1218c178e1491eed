import Foundation
import Hummingbird
import Protocol

extension ErrorCode {
    /// Provider keys cannot be stored: central has no PROVIDER_MASTER_KEY.
    public static let masterKeyMissing = ErrorCode("master_key_missing")
    /// The same key is already stored for this provider.
    public static let duplicateKey = ErrorCode("duplicate_key")
}

/// `/v1/admin/provider-keys`: the vendor's provider keys, masked. A secret goes in once, in
/// the body of a POST, and never comes back out.
struct ProviderKeyController {
    let vault: ProviderKeyVault
    let services: CentralServices

    /// The providers that take keys, whether or not this central runs them now.
    var providers: [String] { services.configuration.providers.keyedServices.map(\.name) }

    func addRoutes(to group: RouterGroup<CentralRequestContext>) {
        group.get("provider-keys", use: list)
        group.post("provider-keys", use: add)
        group.post("provider-keys/{id}/{action}", use: act)
        group.delete("provider-keys/{id}", use: delete)
    }

    @Sendable func list(_ request: Request, context: CentralRequestContext) async throws -> Response {
        try jsonResponse(["keys": try await vault.list()])
    }

    @Sendable func add(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let body = try await request.jsonObject(allowed: ["provider", "key", "label"], context: context)
        let provider = try body.string("provider", maxLength: 32, required: true) ?? ""
        guard providers.contains(provider) else {
            throw RequestValidationError(.invalidValue, field: "provider", "Field 'provider' must be one of: \(providers.joined(separator: ", ")).")
        }
        let secret = try body.string("key", maxLength: 512, required: true) ?? ""
        guard secret.count >= 8, !secret.contains(where: \.isWhitespace) else {
            throw RequestValidationError(.invalidValue, field: "key", "Field 'key' must be the provider's API key (8 or more characters, no spaces).")
        }
        let label = try body.string("label", maxLength: 100)
        do {
            let view = try await vault.add(secret: secret, provider: provider, label: label, source: .admin)
            try await audit("provider_key_added", view.id, request, context)
            return try jsonResponse(view, status: .created)
        } catch let error as ProviderKeyVault.VaultError {
            throw Self.apiError(error)
        }
    }

    @Sendable func act(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let status: ProviderKeyRecord.Status
        switch try context.parameters.require("action") {
        case "disable": status = .disabled
        case "enable": status = .active
        default: throw APIError(.notFound, .notFound, "Unknown action: use disable or enable.")
        }
        do {
            let view = try await vault.setStatus(id: id, status)
            try await audit("provider_key_\(status == .active ? "enabled" : "disabled")", id, request, context)
            return try jsonResponse(view)
        } catch let error as ProviderKeyVault.VaultError {
            throw Self.apiError(error)
        }
    }

    @Sendable func delete(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        do {
            try await vault.delete(id: id)
            try await audit("provider_key_deleted", id, request, context)
            return Response(status: .noContent)
        } catch let error as ProviderKeyVault.VaultError {
            throw Self.apiError(error)
        }
    }

    private func audit(_ action: String, _ id: String, _ request: Request, _ context: CentralRequestContext) async throws {
        try await services.store.appendAudit(
            action: action, licenseID: nil, detail: "key \(id)", actor: services.actor(request, context), now: services.clock.now())
    }

    static func apiError(_ error: ProviderKeyVault.VaultError) -> APIError {
        switch error {
        case .masterKeyMissing:
            APIError(.conflict, .masterKeyMissing, "Central has no PROVIDER_MASTER_KEY, so it cannot store provider keys encrypted. Set one and restart.")
        case .duplicate:
            APIError(.conflict, .duplicateKey, "This key is already stored for this provider.")
        case .notFound:
            APIError(.notFound, .notFound, "No such provider key.")
        }
    }
}
