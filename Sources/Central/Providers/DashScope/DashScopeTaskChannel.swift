import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import Protocol
import Synchronization

/// One DashScope task on its WebSocket, after `run-task`: Ogg Opus audio as binary frames (a
/// fresh logical stream per task, headers first), `finish-task`, and the events until
/// `task-finished`.
final class DashScopeTaskChannel: ProviderTaskChannel {
    let taskID: String
    private let inbound: WebSocketInboundStream
    private let outbound: WebSocketOutboundWriter
    private let logger: Logger
    /// Only the engine's writer task touches it, one call at a time; the lock makes that safe to share.
    private let ogg: Mutex<OggTaskStream>

    init(taskID: String, codec: CodecParameters, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger) {
        self.taskID = taskID
        self.inbound = inbound
        self.outbound = outbound
        self.logger = logger
        ogg = Mutex(OggTaskStream(writer: OggOpusWriter(preSkip: codec.preSkip, inputSampleRate: codec.sampleRate)))
    }

    func send(_ packets: [[UInt8]]) async throws {
        let bytes = ogg.withLock { $0.pages(for: packets) }
        if !bytes.isEmpty { try await outbound.write(.binary(ByteBuffer(bytes: bytes))) }
    }

    func finish() async throws {
        let last = ogg.withLock { $0.writer.finish() }
        if !last.isEmpty { try await outbound.write(.binary(ByteBuffer(bytes: last))) }
        let command = DashScopeWire.Command.finishTask(id: taskID)
        try await outbound.write(.text(String(decoding: try JSONEncoder().encode(command), as: UTF8.self)))
    }

    func read(_ deliver: (ProviderTaskEvent) -> Void) async throws {
        let decoder = JSONDecoder()
        for try await message in inbound.messages(maxSize: 1 << 20) {
            guard case .text(let text) = message else { continue }
            guard let event = try? decoder.decode(DashScopeWire.Event.self, from: Data(text.utf8)) else {
                logger.warning("unreadable DashScope event ignored", metadata: ["bytes": "\(text.utf8.count)"])
                continue
            }
            switch DashScopeTaskEvents.step(event, taskID: taskID) {
            case .events(let events):
                events.forEach(deliver)
            case .finished(let events):
                events.forEach(deliver)
                return
            case .failed(let failure):
                throw failure
            case .ignored:
                continue
            }
        }
        throw ProviderFailure.transient(.providerUnavailable, "DashScope closed the connection mid-task")
    }
}
