import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import Protocol
import Synchronization

/// One simulated edge: a stream WebSocket fed with frames the load generator paces.
final class SimulatedEdge: Sendable {
    enum State: Sendable, Equatable {
        case connecting, streaming, stopped(String), closed
    }

    enum Outgoing: Sendable {
        case binary([UInt8])
        case text(String)
    }

    private let outgoing: AsyncStream<Outgoing>.Continuation
    /// Shared with the connection task.
    final class StateBox: Sendable {
        let value = Mutex<State>(.connecting)
        func set(_ state: State) { value.withLock { $0 = state } }
    }

    private let stateBox = StateBox()
    private let sequence = Mutex<UInt32>(0)
    let connection: Task<Void, Never>

    var state: State { stateBox.value.withLock { $0 } }

    init(port: Int, token: String, logger: Logger) {
        let (stream, outgoing) = AsyncStream<Outgoing>.makeStream(bufferingPolicy: .bufferingNewest(100))
        self.outgoing = outgoing
        let stateBox = self.stateBox
        var configuration = WebSocketClientConfiguration()
        configuration.additionalHeaders = [.authorization: "Bearer \(token)"]
        let start = ControlMessage.start(StartMessage(sourceLanguage: "zh", targetLanguage: "en")).encodedText()
        connection = Task {
            do {
                try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/v1/stream", configuration: configuration, logger: logger) { inbound, outbound, _ in
                    try await outbound.write(.text(start))
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await item in stream {
                                switch item {
                                case .binary(let bytes): try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                                case .text(let text): try await outbound.write(.text(text))
                                }
                            }
                            try await outbound.close(.normalClosure, reason: nil)
                        }
                        for try await message in inbound.messages(maxSize: 1 << 16) {
                            guard case .text(let text) = message, let decoded = try? ControlMessage.decode(text) else { continue }
                            switch decoded {
                            case .started: stateBox.set(.streaming)
                            case .stopped(let stopped): stateBox.set(.stopped(stopped.reason.rawValue))
                            default: break
                            }
                        }
                        group.cancelAll()
                    }
                }
            } catch {}
            stateBox.value.withLock { if case .stopped = $0 {} else { $0 = .closed } }
        }
    }

    /// Queues the next frame, stamped with the current time as its capture time.
    func sendNext(packet: [UInt8]) {
        let next = sequence.withLock { value -> UInt32 in
            defer { value &+= 1 }
            return value
        }
        let frame = AudioFrame(
            sequence: next, durationMicroseconds: 20_000,
            captureTimeMicroseconds: UInt64(Date().timeIntervalSince1970 * 1_000_000), packet: packet)
        outgoing.yield(.binary(frame.encoded()))
    }

    func stop() {
        outgoing.yield(.text(ControlMessage.stop(StopMessage()).encodedText()))
        outgoing.finish()
    }
}
