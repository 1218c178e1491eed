import ArgumentParser
import Foundation

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "List and edit plan templates.", subcommands: [List.self, Set.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List plans.")
        @OptionGroup var options: AdministrationOptions

        func run() async throws {
            let plans = try await options.administration().plans()
            if options.json { return try CLIOutput.json(plans) }
            print(TextTable.render(
                headers: ["PLAN", "DAYS", "MINUTES", "SESSIONS", "CONCURRENT", "DEVICES", "DAILY MIN", "PROVIDER", "DESCRIPTION"],
                rows: plans.map {
                    [
                        $0.name, String($0.validityDays), $0.minutes.formatted(), $0.sessionLimit.map(String.init) ?? "∞",
                        String($0.maxConcurrent), String($0.maxDevices), $0.dailyMinutes?.formatted() ?? "-",
                        $0.provider ?? "default", $0.description,
                    ]
                }))
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create or replace a plan template.")
        @OptionGroup var options: AdministrationOptions
        @Argument(help: "Plan name.") var name: String
        @Option var days: Int
        @Option var minutes: Double
        @Option(help: "Session limit; omit for unlimited.") var sessions: Int?
        @Option var concurrent: Int
        @Option var devices: Int
        @Option(name: .customLong("daily-minutes")) var dailyMinutes: Double?
        @Option var description = ""
        @Option(help: "Speech provider of the plan's licenses (dashscope, demo, null); omit for the default.")
        var provider: String?
        @Option(help: ArgumentHelp("Chat quota of the plan's licenses as JSON (see `license create --help`).", valueName: "json"))
        var chat: String?

        func run() async throws {
            guard days > 0, minutes >= 0, concurrent >= 0, devices >= 0, (sessions ?? 0) >= 0, (dailyMinutes ?? 0) >= 0 else {
                throw ValidationError("Plan values must not be negative, and days must be at least 1.")
            }
            if let provider, ProviderKind.named(provider) == nil {
                throw ValidationError("--provider must be one of: \(ProviderKind.names.joined(separator: ", ")).")
            }
            let plan = try await options.administration().savePlan(Plan(
                name: name, validityDays: days, minutes: minutes, sessionLimit: sessions, maxConcurrent: concurrent,
                maxDevices: devices, dailyMinutes: dailyMinutes, description: description, provider: provider,
                chat: try chat.map(ChatQuota.init(argument:))))
            if options.json { return try CLIOutput.json(plan) }
            print("saved plan \(plan.name)")
        }
    }
}
