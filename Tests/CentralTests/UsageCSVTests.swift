@testable import Central
import Foundation
import Testing

/// The usage CSV goes straight into spreadsheets: no cell of it may run as a formula, and no
/// cell may break the row it is in.
struct UsageCSVTests {
    @Test(arguments: [
        ("=1+1", "'=1+1"), ("+SUM(A1)", "'+SUM(A1)"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"), ("＝1+1", "'＝1+1"), ("＋1", "'＋1"), ("－1", "'－1"), ("＠SUM(A1)", "'＠SUM(A1)"),
    ])
    func aCellThatCouldRunAsAFormulaIsNeutralised(cell: String, expected: String) {
        #expect(CSV.field(cell) == expected, "\(cell.debugDescription) → \(CSV.field(cell).debugDescription)")
    }

    @Test func aCellStartingWithCarriageReturnIsNeutralisedAndQuoted() {
        #expect(CSV.field("\r=cmd|' /C calc'!A0") == "\"'\r=cmd|' /C calc'!A0\"")
        // CR LF is a single Character in Swift: it must still count as a leading CR.
        #expect(CSV.field("\r\n=cmd") == "\"'\r\n=cmd\"")
    }

    @Test(arguments: ["two\nlines", "two\rlines", "two\r\nlines", "a,b", "say \"hi\""])
    func aCellWithALineBreakQuoteOrCommaIsQuoted(cell: String) {
        let field = CSV.field(cell)
        #expect(field.hasPrefix("\"") && field.hasSuffix("\""), "\(cell.debugDescription) → \(field.debugDescription)")
        #expect(field.dropFirst().dropLast().replacingOccurrences(of: "\"\"", with: "").contains("\"") == false)
    }

    @Test func ordinaryCellsAreLeftAlone() {
        for cell in ["Acme Ltd", "北京某某科技有限公司", "O'Brien", "1-2-3 Go"] {
            #expect(CSV.field(cell) == cell)
        }
    }

    @Test func aReportRowStaysOneRow() {
        let report = UsageReport(rows: [
            UsageRow(day: "2026-01-02", licenseID: "lic_1", customerName: "Evil\n=1+1", usedMs: 1_000, sessionsStarted: 1, debits: 1),
        ])
        #expect(report.csv == "day,license_id,customer_name,seconds_used,sessions_started,debits,chat_requests,chat_input_tokens,chat_output_tokens\r\n2026-01-02,lic_1,\"Evil\n=1+1\",1.000,1,1,0,0,0\r\n")
    }
}
