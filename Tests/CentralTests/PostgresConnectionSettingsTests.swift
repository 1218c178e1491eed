@testable import Central
import Foundation
import Testing

/// `DATABASE_URL` for PostgreSQL, parsed strictly.
struct PostgresConnectionSettingsTests {
    @Test func aFullURLGivesEveryPart() throws {
        let settings = try PostgresConnectionSettings(url: "postgres://central:s%40cret@db.internal:6432/speech?sslmode=verify-full")
        #expect(settings.host == "db.internal" && settings.port == 6432 && settings.database == "speech")
        #expect(settings.username == "central" && settings.password == "s@cret" && settings.sslMode == .verifyFull)
        #expect(settings.poolSize == PostgresConnectionSettings.defaultPoolSize)
        // Logged without the password.
        #expect(settings.description == "postgres://central@db.internal:6432/speech?sslmode=verify-full")
    }

    @Test func defaultsAndTheOtherScheme() throws {
        let settings = try PostgresConnectionSettings(url: "postgresql://central@[::1]/speech")
        #expect(settings.host == "::1" && settings.port == 5432 && settings.password == nil && settings.sslMode == .prefer)
        #expect(try DatabaseLocation(url: "postgresql://central@localhost/speech") == .postgres(
            try PostgresConnectionSettings(url: "postgres://central@localhost:5432/speech?sslmode=prefer")))
    }

    @Test func thePasswordFileAndThePoolSizeComeFromTheEnvironment() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pg-password-\(UUID().uuidString)")
        try Data("from-file\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let settings = try PostgresConnectionSettings(
            url: "postgres://central@db/speech", environment: ["DATABASE_PASSWORD_FILE": file.path, "DATABASE_POOL_SIZE": "25"])
        #expect(settings.password == "from-file" && settings.poolSize == 25)
        #expect(settings.clientConfiguration().options.maximumConnections == 25)
        // A password given twice is refused, as is a file that cannot be read.
        #expect(throws: CentralConfiguration.ConfigurationError.self) {
            try PostgresConnectionSettings(url: "postgres://central:x@db/speech", environment: ["DATABASE_PASSWORD_FILE": file.path])
        }
        #expect(throws: CentralConfiguration.ConfigurationError.self) {
            try PostgresConnectionSettings(url: "postgres://central@db/speech", environment: ["DATABASE_PASSWORD_FILE": "/nonexistent/pw"])
        }
        for size in ["0", "-1", "ten", "1001"] {
            #expect(throws: CentralConfiguration.ConfigurationError.self, "pool size \(size)") {
                try PostgresConnectionSettings(url: "postgres://central@db/speech", environment: ["DATABASE_POOL_SIZE": size])
            }
        }
    }

    @Test(arguments: [
        "postgres://db/speech",  // no user
        "postgres://central@/speech",  // no host
        "postgres://central@db",  // no database
        "postgres://central@db/",  // no database
        "postgres://central@db/speech/extra",
        "postgres://central@db:0/speech",
        "postgres://central@db:70000/speech",
        "postgres://central@db:port/speech",
        "postgres://central@db/speech?sslmode=sometimes",
        "postgres://central@db/speech?sslmode",
        "postgres://central@db/speech?application_name=x",
        "mysql://central@db/speech",
        "db.internal:5432",
    ])
    func aBadURLIsRefusedNamingDATABASE_URL(_ url: String) throws {
        let error = #expect(throws: CentralConfiguration.ConfigurationError.self) { try DatabaseLocation(url: url) }
        #expect(error?.description.hasPrefix("DATABASE_URL=") == true, "\(String(describing: error))")
    }

    @Test func aRefusedURLNeverEchoesItsPassword() throws {
        let error = #expect(throws: CentralConfiguration.ConfigurationError.self) {
            try DatabaseLocation(url: "postgres://central:hunter2@db/speech?sslmode=maybe")
        }
        #expect(error.map { !$0.description.contains("hunter2") } == true, "\(String(describing: error))")
    }
}
