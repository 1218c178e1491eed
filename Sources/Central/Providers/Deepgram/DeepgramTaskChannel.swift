import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import Protocol
import Synchronization

/// One Deepgram connection: Ogg Opus pages as binary frames (headers first), `KeepAlive` while
/// the edge is briefly silent, `Finalize` at each turn end (`UtteranceEnd`), `CloseStream` at
/// the end, then results until `Metadata`.
final class DeepgramTaskChannel: ProviderTaskChannel {
    let taskID: String
    private let inbound: WebSocketInboundStream
    private let outbound: WebSocketOutboundWriter
    private let logger: Logger
    private let ogg: Mutex<OggTaskStream>
    /// When audio was last written, for the KeepAlive loop.
    private let lastWrite = Mutex(ContinuousClock.now)
    private let closing = Mutex(false)

    init(taskID: String, codec: CodecParameters, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger) {
        self.taskID = taskID
        self.inbound = inbound
        self.outbound = outbound
        self.logger = logger
        ogg = Mutex(OggTaskStream(writer: OggOpusWriter(preSkip: codec.preSkip, inputSampleRate: codec.sampleRate)))
    }

    func send(_ packets: [[UInt8]]) async throws {
        let bytes = ogg.withLock { $0.pages(for: packets) }
        guard !bytes.isEmpty else { return }
        lastWrite.withLock { $0 = .now }
        try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
    }

    func finish() async throws {
        closing.withLock { $0 = true }
        let last = ogg.withLock { $0.writer.finish() }
        if !last.isEmpty { try await outbound.write(.binary(ByteBuffer(bytes: last))) }
        try await outbound.write(.text(Self.text(.closeStream)))
    }

    /// Deepgram closes a connection that hears nothing for 10 s. The engine closes it itself
    /// after its idle time (`idleFinishAfter`); until then a KeepAlive every `after` holds it,
    /// so a short gap (an edge reconnecting) does not cost a new connection.
    func keepAlive(after interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval / 2)
            guard !closing.withLock({ $0 }), ContinuousClock.now - lastWrite.withLock({ $0 }) >= interval else { continue }
            try? await outbound.write(.text(Self.text(.keepAlive)))
        }
    }

    func read(_ deliver: (ProviderTaskEvent) -> Void) async throws {
        // An open connection is an accepted task: Deepgram sends nothing before results.
        deliver(.started)
        var events = DeepgramTaskEvents()
        let decoder = JSONDecoder()
        for try await message in inbound.messages(maxSize: 1 << 20) {
            guard case .text(let text) = message else { continue }
            guard let decoded = try? decoder.decode(DeepgramWire.Message.self, from: Data(text.utf8)) else {
                logger.warning("unreadable Deepgram message ignored", metadata: ["bytes": "\(text.utf8.count)"])
                continue
            }
            switch events.step(decoded) {
            case .events(let list):
                list.forEach(deliver)
            case .finished(let list):
                list.forEach(deliver)
                return
            case .failed(let failure):
                throw failure
            case .turnEnded:
                // Not after CloseStream: the connection is flushing already.
                if !closing.withLock({ $0 }) { try? await outbound.write(.text(Self.text(.finalize))) }
            case .ignored:
                continue
            }
        }
        throw ProviderFailure.transient(.providerUnavailable, "Deepgram closed the connection before its Metadata")
    }

    private static func text(_ control: DeepgramWire.Control) -> String {
        (try? String(decoding: JSONEncoder().encode(control), as: UTF8.self)) ?? #"{"type":"\#(control.type)"}"#
    }
}
