import Foundation
import Hummingbird
import Protocol

/// `/v1/admin/operators`: named operators with roles (admin only, `ConsolePermission`).
struct OperatorController {
    let services: CentralServices

    func addRoutes(to group: RouterGroup<CentralRequestContext>) {
        group.get("operators", use: list)
        group.post("operators", use: create)
        group.delete("operators/{name}", use: disable)
    }

    struct ListBody: Encodable {
        var operators: [OperatorAccount]
    }

    struct CreatedBody: Encodable {
        var `operator`: OperatorAccount
        /// Shown this once; only its hash is kept.
        var token: String
    }

    @Sendable func list(_ request: Request, context: CentralRequestContext) async throws -> Response {
        try jsonResponse(ListBody(operators: try await services.store.operators()))
    }

    @Sendable func create(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let body = try await request.jsonObject(allowed: ["name", "role"], context: context)
        guard let name = try body.string("name", maxLength: 64, required: true), OperatorAccount.isValidName(name) else {
            throw RequestValidationError(
                .invalidValue, field: "name", "An operator name is 1-64 letters, digits, '.', '-', '_' or '@'.")
        }
        guard let roleText = try body.string("role", maxLength: 20, required: true), let role = OperatorRole(rawValue: roleText) else {
            throw RequestValidationError(.invalidValue, field: "role", "Field 'role' is one of viewer, operator, admin.")
        }
        let actor = services.actor(request, context)
        let account = OperatorAccount(
            name: name, role: role, createdAt: Milliseconds.date(Milliseconds.from(services.clock.now())), createdBy: actor.name)
        let token = OperatorAccount.generateToken()
        do {
            try await services.store.insertOperator(account, tokenHash: LicenseKey.hash(token), actor: actor)
        } catch StoreError.duplicateKey {
            throw APIError(.conflict, .alreadyExists, "An operator named '\(name)' already exists.")
        }
        return try jsonResponse(CreatedBody(operator: account, token: token), status: .created)
    }

    @Sendable func disable(_ request: Request, context: CentralRequestContext) async throws -> Response {
        // The router hands over the segment as sent: the console percent-encodes names (`@`).
        let raw = try context.parameters.require("name")
        let name = raw.removingPercentEncoding ?? raw
        guard try await services.store.disableOperator(name: name, actor: services.actor(request, context), now: services.clock.now())
        else { throw APIError(.notFound, .notFound, "No active operator '\(name)'.") }
        // Their open console sessions ended in the same transaction, on every instance.
        return Response(status: .noContent)
    }
}
