import Foundation
import Protocol

/// libFuzzer entry point: one input is what a DashScope server (or anything on the path to
/// it) sends during one task, one JSON text frame per line. Compiled with central's own
/// DashScopeMessages.swift, DashScopeTaskEvents.swift and the engine's ProviderRelayState.swift,
/// it runs each event the way DashScopeTaskChannel and ProviderTaskRunner do: decoded with a
/// plain JSONDecoder, mapped by `DashScopeTaskEvents.step` (ignored unless its task id matches),
/// then into the relay state, whose results go to the edge.
///
/// Besides "no crash, no trap": every result handed on has a sentence id and times the edge
/// can use.
@_cdecl("LLVMFuzzerTestOneInput")
public func dashScopeEventFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let decoder = JSONDecoder()
    let relay = ProviderRelayState(sourceLanguage: "zh", targetLanguage: "en")
    // A session in its second task: the first recognised 1 s and finished, the running one
    // has been sent 1 s more (so the task's times are offset from the session's).
    for sequence in 0..<100 {
        if sequence == 50 {
            relay.completeTask()
            relay.beginTask()
            relay.markStarted()
        } else if sequence == 0 {
            relay.beginTask()
            relay.markStarted()
        }
        relay.accept(AudioFrame(sequence: UInt32(sequence), durationMicroseconds: 20_000, captureTimeMicroseconds: 0, packet: [0xF8, 0xFF, 0xFE]))
        _ = relay.takeUnsent()
    }
    for line in bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 32).prefix(32) {
        let text = Data(line)
        guard let event = try? decoder.decode(DashScopeWire.Event.self, from: text) else { continue }
        switch DashScopeTaskEvents.step(event, taskID: fuzzTaskID) {
        case .events(let events):
            apply(events, to: relay)
            // The writer sends what the start released.
            if events.contains(.started) { _ = relay.takeUnsent() }
        case .finished(let events):
            apply(events, to: relay)
            relay.completeTask()
            relay.beginTask()
        case .failed(let failure):
            _ = (failure.code, failure.message, failure.keyOutcome)
            relay.abortTask()
            relay.beginTask()
        case .ignored:
            continue
        }
    }
    _ = relay.read { ($0.reportedSeconds, $0.providerAudioMs) }
    return 0
}

private func apply(_ events: [ProviderTaskEvent], to relay: ProviderRelayState) {
    for event in events {
        for result in relay.apply(event) {
            switch result {
            case .transcript(let message), .translation(let message): check(message)
            case .failed: fatalError("the relay turned a result into a failure")
            }
        }
    }
}

/// The task id the seeds use; events for another task are ignored, as in the runner.
private let fuzzTaskID = "0123456789abcdef0123456789abcdef"

private func check(_ message: ResultMessage) {
    guard message.sentenceID >= 0, message.startMs <= message.endMs else {
        fatalError("result handed to the edge with id \(message.sentenceID), \(message.startMs)…\(message.endMs) ms")
    }
}
