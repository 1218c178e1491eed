import ArgumentParser

/// `central`: the server and the operator's tool. `serve` is the default subcommand.
public struct CentralCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "central",
        abstract: "Central service for live speech translation: licenses, admission, metering.",
        subcommands: [ServeCommand.self, LicenseCommand.self, UsageCommand.self, PlanCommand.self, StoreCommand.self],
        defaultSubcommand: ServeCommand.self)

    public init() {}
}
