import ArgumentParser
import Foundation

struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage", abstract: "Usage per UTC day per license, from the ledger.")
    @OptionGroup var options: AdministrationOptions
    @Option(help: "One UTC day, YYYY-MM-DD.") var day: String?
    @Option(help: "First UTC day, YYYY-MM-DD.") var from: String?
    @Option(help: "Last UTC day, YYYY-MM-DD.") var to: String?
    @Option(name: .customLong("license"), help: "Only this license id.") var licenseID: String?
    @Flag(help: "Print CSV.") var csv = false

    func run() async throws {
        for (name, value) in [("--day", day), ("--from", from), ("--to", to)] {
            if let value, UTCDay(value) == nil { throw ValidationError("\(name) must be a date YYYY-MM-DD.") }
        }
        if day != nil && (from != nil || to != nil) { throw ValidationError("Give either --day or --from/--to.") }
        let report = try await options.administration().usage(
            UsageQuery(from: day ?? from, to: day ?? to, licenseID: licenseID))
        if csv { return print(report.csv, terminator: "") }
        if options.json { return try CLIOutput.json(report) }
        print(TextTable.render(
            headers: ["DAY", "LICENSE", "CUSTOMER", "SECONDS", "SESSIONS", "DEBITS", "CHAT REQ", "CHAT IN", "CHAT OUT"],
            rows: report.rows.map {
                [$0.day, $0.licenseID, $0.customerName, String(format: "%.3f", $0.secondsUsed), String($0.sessionsStarted), String($0.debits),
                 String($0.chatRequests), String($0.chatInputTokens), String($0.chatOutputTokens)]
            }))
        print("\ntotal: \(String(format: "%.3f", Double(report.totalMs) / 1000)) seconds")
    }
}
