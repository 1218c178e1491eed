@testable import EdgeAgent
import Foundation
import Protocol
import Testing

@Suite(.bounded) struct PageHubTests {
    static func take(_ count: Int, from stream: AsyncStream<TranslationEvent>) async -> [TranslationEvent] {
        var events: [TranslationEvent] = []
        for await event in stream {
            events.append(event)
            if events.count == count { break }
        }
        return events
    }

    @Test func aPageHearsItsGreetingThenEveryBroadcast() async {
        let hub = PageHub()
        let idle = EdgeStatus(link: .idle, audio: .idle)
        let (first, firstEvents) = hub.add(greeting: [.state(idle)])
        hub.broadcast(.level(.silence))
        let (second, secondEvents) = hub.add(greeting: [.state(idle), .error(code: .internalError, message: "hello")])
        hub.broadcast(.error(code: .minutesExhausted, message: "all"))
        hub.send(.error(code: .invalidAudioFrame, message: "only you"), to: second)
        #expect(await Self.take(3, from: firstEvents) == [
            .state(idle), .level(.silence), .error(code: .minutesExhausted, message: "all"),
        ])
        #expect(await Self.take(4, from: secondEvents) == [
            .state(idle), .error(code: .internalError, message: "hello"), .error(code: .minutesExhausted, message: "all"),
            .error(code: .invalidAudioFrame, message: "only you"),
        ])
        #expect(hub.remove(first) == 1)
        #expect(!hub.isEmpty)
        #expect(hub.remove(second) == 0)
        #expect(hub.isEmpty)
    }

    @Test func removingAPageEndsItsStream() async {
        let hub = PageHub()
        let (id, events) = hub.add(greeting: [])
        _ = hub.remove(id)
        hub.broadcast(.level(.silence))
        var heard = 0
        for await _ in events { heard += 1 }
        #expect(heard == 0)
    }
}
