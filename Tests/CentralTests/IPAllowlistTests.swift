@testable import Central
import Foundation
import Testing

@Suite(.bounded) struct IPAllowlistTests {
    @Test func ipv4Blocks() throws {
        let block = try #require(CIDRBlock("203.0.113.0/24"))
        #expect(block.contains("203.0.113.7"))
        #expect(!block.contains("203.0.114.7"))
        #expect(!block.contains("2001:db8::1"))
        #expect(try #require(CIDRBlock("10.1.2.3")).contains("10.1.2.3"))
        #expect(!(try #require(CIDRBlock("10.1.2.3"))).contains("10.1.2.4"))
        #expect(try #require(CIDRBlock("0.0.0.0/0")).contains("8.8.8.8"))
        #expect(CIDRBlock("203.0.113.9/24")?.description == "203.0.113.0/24")
    }

    @Test func ipv6Blocks() throws {
        let block = try #require(CIDRBlock("2001:db8::/32"))
        #expect(block.contains("2001:db8:ffff::1"))
        #expect(!block.contains("2001:db9::1"))
        #expect(!block.contains("192.0.2.1"))
        #expect(try #require(CIDRBlock("::1")).contains("::1"))
        #expect(try #require(CIDRBlock("2001:db8::/33")).contains("2001:db8:7fff::1"))
        #expect(!(try #require(CIDRBlock("2001:db8::/33"))).contains("2001:db8:8000::1"))
    }

    @Test func ipv4MappedPeersMatchIPv4Blocks() throws {
        #expect(try #require(CIDRBlock("192.0.2.0/24")).contains("::ffff:192.0.2.10"))
    }

    @Test func invalidEntriesAreRefusedByName() {
        for text in ["", "300.1.1.1", "10.0.0.0/33", "2001:db8::/129", "10.0.0.0/-1", "10.0.0.0/8/8", "host.example", "10.0.0.0/ 8"] {
            #expect(CIDRBlock(text) == nil, "\(text)")
        }
        guard case .failure(let invalid) = IPAllowlist.parse(["10.0.0.0/8", "nope"]) else {
            Issue.record("expected a failure")
            return
        }
        #expect(invalid.entry == "nope")
    }

    @Test func anEmptyListAllowsEveryone() {
        #expect(IPAllowlist(blocks: []).allows("198.51.100.1"))
    }
}

@Suite(.bounded) struct UTCDayTests {
    @Test func formatsAndParsesDaysAcrossCenturiesAndLeapYears() throws {
        for text in ["1970-01-01", "1999-12-31", "2000-02-29", "2024-02-29", "2026-11-24", "2100-03-01", "1969-12-31"] {
            let day = try #require(UTCDay(text))
            #expect(day.description == text)
            #expect(day.next.index == day.index + 1)
        }
        #expect(UTCDay("2026-02-29") == nil)
        #expect(UTCDay("2026-13-01") == nil)
        #expect(UTCDay("26-1-1") == nil)
        #expect(UTCDay(containing: Date(timeIntervalSince1970: 86_399.999)).description == "1970-01-01")
        #expect(UTCDay(containing: Date(timeIntervalSince1970: -0.001)).description == "1969-12-31")
    }
}
