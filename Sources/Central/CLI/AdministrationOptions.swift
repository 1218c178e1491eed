import ArgumentParser
import Foundation

/// How a CLI command reaches the licenses: the database directly (on the server), or a
/// running central's admin API with `--url` and `--token`.
struct AdministrationOptions: ParsableArguments {
    @Option(help: "Central's base URL; manage licenses through its admin API instead of the database.")
    var url: String?
    @Option(help: "Admin token for --url (or env ADMIN_TOKEN / ADMIN_TOKEN_FILE).")
    var token: String?
    @Option(
        name: .customLong("database-url"),
        help: "sqlite:<path> or postgres://… when working on the database directly (env DATABASE_URL).")
    var databaseURL: String?
    @Flag(help: "Print JSON instead of tables.")
    var json = false

    func administration() async throws -> any LicenseAdministration {
        let environment = ProcessInfo.processInfo.environment
        let actorName = "cli:" + (environment["USER"] ?? environment["LOGNAME"] ?? "unknown")
        if let url {
            var token = self.token ?? environment["ADMIN_TOKEN"]
            if token == nil, let file = environment["ADMIN_TOKEN_FILE"] {
                token = try CentralConfiguration.readSecret(file: file, name: "ADMIN_TOKEN_FILE")
            }
            guard let token, !token.isEmpty else {
                throw ValidationError("--url needs an admin token: pass --token or set ADMIN_TOKEN.")
            }
            guard let base = URL(string: url), base.scheme == "http" || base.scheme == "https" else {
                throw ValidationError("--url must be an http:// or https:// URL.")
            }
            return HTTPLicenseAdministration(baseURL: base, token: token, actorName: actorName)
        }
        let location = try DatabaseLocation(
            url: databaseURL ?? environment["DATABASE_URL"] ?? "sqlite:data/central.sqlite", environment: environment)
        return StoreLicenseAdministration(
            store: try await location.openStore(), clock: SystemWallClock(), actor: AdminOperator(name: actorName, ip: nil))
    }
}
