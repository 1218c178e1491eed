import ArgumentParser
import Foundation
import Protocol

struct LicenseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "license", abstract: "Create, inspect and change licenses.",
        subcommands: [
            Create.self, List.self, Show.self, Update.self, Suspend.self, Resume.self, Revoke.self, Extend.self,
            Topup.self, ResetDevices.self, Delete.self, Demo.self,
        ])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a license; its key is printed once.")
        @OptionGroup var options: AdministrationOptions
        @Option(help: "Plan template: trial-basic, trial-standard, trial-enterprise or your own.") var plan = "trial-basic"
        @Option(help: "Customer name.") var name: String
        @Option(help: "Customer email.") var email: String?
        @Option(help: "Days of validity (overrides the plan).") var days: Int?
        @Option(help: "Minutes of audio (overrides the plan; fractions allowed).") var minutes: Double?
        @Option(help: "Number of sessions (overrides the plan).") var sessions: Int?
        @Option(help: "Concurrent streams (overrides the plan).") var concurrent: Int?
        @Option(help: "Devices that may bind (overrides the plan).") var devices: Int?
        @Option(name: .customLong("daily-minutes"), help: "Daily cap in minutes.") var dailyMinutes: Double?
        @Option(help: "Allowed client network, CIDR (repeatable).") var ip: [String] = []
        @Option(help: "Free-text notes.") var notes: String?
        @Flag(name: .customLong("from-first-use"), help: "Count the validity days from the first admission.")
        var fromFirstUse = false
        @Option(help: "Speech provider (dashscope, demo, null; overrides the plan).") var provider: String?
        @Option(help: ArgumentHelp(
            "Chat quota as JSON (overrides the plan's), e.g. '{\"models\":{\"deepseek-chat\":\"deepseek/deepseek-chat\"},\"requests_per_day\":100,\"tokens_per_day\":200000,\"time_zone\":\"Asia/Shanghai\"}'.",
            valueName: "json")) var chat: String?

        func run() async throws {
            var draft = LicenseDraft(plan: plan, customerName: name)
            draft.customerEmail = email
            draft.days = days
            draft.minutes = minutes
            draft.sessions = sessions
            draft.concurrent = concurrent
            draft.devices = devices
            draft.dailyMinutes = dailyMinutes
            draft.ipAllowlist = try parseAllowlist(ip)
            draft.notes = notes
            draft.expiryFromFirstUse = fromFirstUse ? true : nil
            draft.provider = provider
            draft.chat = try chat.map(ChatQuota.init(argument:))
            // The same validation the API applies, before anything is written.
            _ = try LicenseDraft(json: try JSONObjectReader(value: draft.json, allowed: LicenseDraft.fields))
            let created = try await options.administration().createLicense(draft)
            if options.json {
                try CLIOutput.json(created)
            } else {
                print("License key (shown once, give it to the customer): \(created.key)\n")
                print(CLIOutput.detail(created.license))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List licenses, newest first.")
        @OptionGroup var options: AdministrationOptions
        @Option(help: "active, suspended or revoked.") var status: LicenseStatus?
        @Option(help: "Only this plan.") var plan: String?
        @Option(name: .customLong("search"), help: "Match id, key prefix, customer, email or notes.") var query: String?
        @Option(help: "Page size (1-500).") var limit = 50
        @Option(help: "Cursor from a previous page.") var cursor: String?

        func run() async throws {
            let listing = try await options.administration().listLicenses(
                LicenseFilter(status: status, plan: plan, query: query, limit: limit, cursor: cursor))
            if options.json { return try CLIOutput.json(listing) }
            print(TextTable.render(headers: CLIOutput.licenseHeaders, rows: listing.licenses.map(CLIOutput.licenseRow)))
            if let next = listing.nextCursor { print("\nmore: --cursor \(next)") }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one license with its devices and quota.")
        @OptionGroup var options: AdministrationOptions
        @Argument(help: "License id.") var id: String

        func run() async throws {
            let license = try await options.administration().license(id: id)
            if options.json { return try CLIOutput.json(license) }
            print(CLIOutput.detail(license))
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a license's fields.")
        @OptionGroup var options: AdministrationOptions
        @Argument(help: "License id.") var id: String
        @Option(help: "Customer name.") var name: String?
        @Option(help: "Customer email.") var email: String?
        @Option(help: "Minute limit (replaces the current limit).") var minutes: Double?
        @Option(help: "Session limit.") var sessions: Int?
        @Option(help: "Concurrent streams.") var concurrent: Int?
        @Option(help: "Device limit.") var devices: Int?
        @Option(name: .customLong("daily-minutes"), help: "Daily cap in minutes.") var dailyMinutes: Double?
        @Option(help: "Allowed client network, CIDR (repeatable; replaces the list).") var ip: [String] = []
        @Option(help: "Notes.") var notes: String?
        @Option(help: "Speech provider (dashscope, demo, null).") var provider: String?
        @Flag(name: .customLong("default-provider"), help: "Stream to the default provider (clears --provider).")
        var defaultProvider = false

        func run() async throws {
            guard provider == nil || !defaultProvider else {
                throw ValidationError("Give --provider or --default-provider, not both.")
            }
            var patch = LicensePatch()
            patch.customerName = name
            patch.customerEmail = email.map { .set($0) }
            patch.minutes = minutes
            patch.sessions = sessions.map { .set($0) }
            patch.concurrent = concurrent
            patch.devices = devices
            patch.dailyMinutes = dailyMinutes.map { .set($0) }
            patch.ipAllowlist = try parseAllowlist(ip)
            patch.notes = notes
            patch.provider = defaultProvider ? .clear : provider.map { .set($0) }
            _ = try LicensePatch(json: try JSONObjectReader(value: patch.json, allowed: LicensePatch.fields))
            try printLicense(try await options.administration().updateLicense(id: id, patch), options)
        }
    }

    struct Suspend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Suspend a license; live streams stop.")
        @OptionGroup var options: AdministrationOptions
        @Argument(help: "License id.") var id: String
        func run() async throws { try printLicense(try await options.administration().perform(.suspend, id: id), options) }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a suspended license.")
        @OptionGroup var options: AdministrationOptions
        @Argument(help: "License id.") var id: String
        func run() async throws { try printLicense(try await options.administration().perform(.resume, id: id), options) }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a license for good.")
        @OptionGroup var options: AdministrationOptions
        @Argument(help: "License id.") var id: String
        func run() async throws { try printLicense(try await options.administration().perform(.revoke, id: id), options) }
    }

    struct Extend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add days to a license's validity.")
        @OptionGroup var options: AdministrationOptions
        @Argument(help: "License id.") var id: String
        @Option(help: "Days to add.") var days: Int
        func run() async throws {
            guard days > 0 else { throw ValidationError("--days must be at least 1.") }
            try printLicense(try await options.administration().perform(.extend(days: days), id: id), options)
        }
    }

    struct Topup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add minutes to a license.")
        @OptionGroup var options: AdministrationOptions
        @Argument(help: "License id.") var id: String
        @Option(help: "Minutes to add (fractions allowed).") var minutes: Double
        func run() async throws {
            guard minutes > 0, minutes.isFinite else { throw ValidationError("--minutes must be more than 0.") }
            try printLicense(try await options.administration().perform(.topup(minutes: minutes), id: id), options)
        }
    }

    struct ResetDevices: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-devices", abstract: "Unbind every device; the next ones to connect bind anew.")
        @OptionGroup var options: AdministrationOptions
        @Argument(help: "License id.") var id: String
        func run() async throws { try printLicense(try await options.administration().perform(.resetDevices, id: id), options) }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a license. Its ledger stays for billing; its key stops working.")
        @OptionGroup var options: AdministrationOptions
        @Argument(help: "License id.") var id: String
        func run() async throws {
            try await options.administration().deleteLicense(id: id)
            if options.json { try CLIOutput.json(["deleted": id]) } else { print("deleted \(id)") }
        }
    }

    /// For `make run`: reuse the demo license whose key is in `--key-file` while it can still
    /// stream, otherwise create a new one and write its key there.
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or reuse a demo license and print its key (used by `make run`).")
        @Option(name: .customLong("database-url"), help: "sqlite:<path> or postgres://… (env DATABASE_URL).") var databaseURL: String?
        @Option(name: .customLong("key-file"), help: "Where the demo key is kept between runs.") var keyFile = "data/demo-license.key"

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            let location = try DatabaseLocation(
                url: databaseURL ?? environment["DATABASE_URL"] ?? "sqlite:data/central.sqlite", environment: environment)
            let store = try await location.openStore()
            let now = Date()
            if let data = FileManager.default.contents(atPath: keyFile) {
                let key = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                if let license = try await store.license(keyHash: LicenseKey.hash(key)), license.status == .active,
                   license.remainingMs > 0, (license.expiresAt.map { $0 > now } ?? true)
                {
                    print(key)
                    return
                }
            }
            let administration = StoreLicenseAdministration(
                store: store, clock: SystemWallClock(), actor: AdminOperator(name: "make-run", ip: nil))
            var draft = LicenseDraft(plan: "trial-basic", customerName: "Demo customer")
            draft.notes = "Created by make run"
            let created = try await administration.createLicense(draft)
            let url = URL(fileURLWithPath: keyFile)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data((created.key + "\n").utf8).write(to: url)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile)
            print(created.key)
        }
    }
}

extension LicenseStatus: ExpressibleByArgument {}

/// `--ip` flags as an allowlist; nil when none were given.
func parseAllowlist(_ entries: [String]) throws -> IPAllowlist? {
    guard !entries.isEmpty else { return nil }
    switch IPAllowlist.parse(entries) {
    case .success(let list): return list
    case .failure(let invalid): throw ValidationError("ip_allowlist: '\(invalid.entry)' is not an IPv4 or IPv6 CIDR block.")
    }
}

func printLicense(_ license: LicenseView, _ options: AdministrationOptions) throws {
    if options.json { return try CLIOutput.json(license) }
    print(CLIOutput.detail(license))
}
