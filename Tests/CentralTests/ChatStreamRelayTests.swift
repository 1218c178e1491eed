@testable import Central
import Foundation
import NIOCore
import Testing

/// The relay of an upstream's server-sent events: event by event whatever the network's
/// chunking, the usage chunk kept from a client that did not ask for it, and nothing of the
/// upstream's own but its answer.
@Suite(.bounded) struct ChatStreamRelayTests {
    static let first = #"data: {"choices":[{"index":0,"delta":{"content":"你好"}}],"usage":null}"# + "\n\n"
    static let second = #"data: {"choices":[{"index":0,"delta":{"content":" world"}}],"usage":null}"# + "\n\n"
    static let usage = #"data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}"# + "\n\n"
    static let done = "data: [DONE]\n\n"

    static func text(_ buffers: [ByteBuffer]) -> String {
        buffers.map { String(buffer: $0) }.joined()
    }

    @Test func eventsPassOneByOneHoweverTheBytesArrive() {
        let all = Self.first + ": keep-alive comment\n\n" + Self.second + Self.usage + Self.done
        var relay = ChatStreamRelay(clientWantsUsage: true)
        var out: [ByteBuffer] = []
        // Three bytes at a time: events split anywhere, even inside a UTF-8 character.
        let bytes = Array(all.utf8)
        for start in stride(from: 0, to: bytes.count, by: 3) {
            out += relay.feed(ByteBuffer(bytes: bytes[start..<min(bytes.count, start + 3)]))
        }
        #expect(Self.text(out) == Self.first + Self.second + Self.usage + Self.done)
        #expect(relay.finished && !relay.brokeOff)
        #expect(relay.tokenUsage(estimatedInput: 99) == ChatTokenUsage(inputTokens: 7, outputTokens: 3, source: .upstream))
    }

    @Test func theUsageChunkCentralAskedForIsKeptFromAClientThatDidNot() {
        var relay = ChatStreamRelay(clientWantsUsage: false)
        let out = relay.feed(ByteBuffer(string: Self.first + Self.usage + Self.done))
        #expect(Self.text(out) == Self.first + Self.done)
        // It is still what the request is billed by.
        #expect(relay.tokenUsage(estimatedInput: 99).source == .upstream)
    }

    @Test func withoutUsageTheBillIsThePromptEstimateAndWhatWasDelivered() {
        var relay = ChatStreamRelay(clientWantsUsage: false)
        _ = relay.feed(ByteBuffer(string: Self.first + Self.second))
        #expect(!relay.finished)
        // "你好" is 6 bytes, " world" 6: 12 bytes → 4 tokens; two parts.
        #expect(relay.tokenUsage(estimatedInput: 20) == ChatTokenUsage(inputTokens: 20, outputTokens: 4, source: .delivered))
    }

    @Test func anUpstreamErrorEventEndsTheAnswerWithoutReachingTheClient() {
        var relay = ChatStreamRelay(clientWantsUsage: true)
        let out = relay.feed(ByteBuffer(string: Self.first + #"data: {"error":{"message":"secret upstream text sk-123"}}"# + "\n\n" + Self.second))
        #expect(Self.text(out) == Self.first)
        #expect(relay.brokeOff)
        #expect(!String(buffer: ChatStreamRelay.errorEvent("upstream_unavailable", "ended early")).contains("secret"))
    }

    @Test func crlfEventsAndUnreadableDataAreHandled() {
        var relay = ChatStreamRelay(clientWantsUsage: true)
        let crlf = Self.first.replacingOccurrences(of: "\n\n", with: "\r\n\r\n")
        let out = relay.feed(ByteBuffer(string: crlf + "data: {not json\n\n" + Self.done))
        #expect(Self.text(out) == Self.first + Self.done)
    }

    @Test func anEventThatNeverEndsIsRefused() {
        var relay = ChatStreamRelay(clientWantsUsage: true)
        _ = relay.feed(ByteBuffer(string: "data: " + String(repeating: "x", count: ChatStreamRelay.maxEventBytes + 10)))
        #expect(relay.brokeOff)
    }
}
