import NIOCore
import NIOWebSocket

/// One simulated edge, after the WebSocket upgrade: sends `start`, then one audio frame each
/// time its `LoopPacer` ticks, and reads central's messages on the event loop, counting them in
/// the pacer's `StreamStats`.
final class StreamChannelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame

    enum State { case starting, streaming, stopping, closed }

    private let pacer: LoopPacer
    private let writer: RawFrameWriter
    private var context: ChannelHandlerContext?
    private(set) var state = State.starting
    private var writable = true
    private var everStarted = false
    private var closeSent = false
    /// Reused for every audio frame: once the previous write has reached the socket nothing
    /// else holds it, so patching it again neither allocates nor copies.
    private var frame = ByteBuffer()
    private var nextSequence: UInt32 = 0
    /// The sequence after the last acked frame.
    private var ackedUpTo: UInt32 = 0
    /// When the last `sendTimes.count` frames were sent (µs since the epoch), by sequence.
    private var sendTimes = [Int64](repeating: 0, count: 256)

    init(pacer: LoopPacer, writer: RawFrameWriter) {
        self.pacer = pacer
        self.writer = writer
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        frame = context.channel.allocator.buffer(capacity: 256)
        pacer.add(self)
        writer.send(pacer.startFrame)
        writer.flush()
    }

    /// Called by the pacer each tick: the next frame, stamped now, unless the socket is full.
    func sendAudio(_ templates: AudioFrameTemplates, index: Int) {
        guard state == .streaming else { return }
        guard writable else {
            pacer.stats.framesHeldBack += 1
            return
        }
        let now = WallClock.microseconds()
        templates.write(index, sequence: nextSequence, captureTimeMicroseconds: UInt64(now), into: &frame)
        writer.send(frame)
        writer.flush()
        sendTimes[Int(nextSequence) % sendTimes.count] = now
        nextSequence &+= 1
        pacer.stats.framesSent += 1
    }

    /// Ends the stream the way an edge does: `stop`, then central answers `stopped` and closes.
    func stop() {
        switch state {
        case .streaming:
            leaveStreaming()
            writer.send(pacer.stopFrame)
            writer.flush()
        case .starting:
            context?.close(promise: nil)
        case .stopping, .closed:
            break
        }
    }

    func close() { context?.close(promise: nil) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = unwrapInboundIn(data)
        switch message.opcode {
        case .text where message.fin:
            receive(text: message.unmaskedData)
        case .ping:
            writer.send(ByteBuffer(bytes: MaskedFrame.bytes(opcode: MaskedFrame.pong, payload: message.unmaskedData.readableBytesView)))
            writer.flush()
        case .connectionClose:
            // Echo the status code, as RFC 6455 §5.5.1 asks, then close.
            if !closeSent {
                closeSent = true
                writer.send(ByteBuffer(bytes: MaskedFrame.bytes(opcode: MaskedFrame.close, payload: message.unmaskedData.readableBytesView.prefix(2))))
                writer.flush()
            }
            context.close(promise: nil)
        default:
            break
        }
    }

    private func receive(text: ByteBuffer) {
        switch ServerMessagePeek.string(ServerMessagePeek.type, in: text) {
        case "ack":
            pacer.stats.acks += 1
            guard let last = ServerMessagePeek.integer(ServerMessagePeek.lastSequence, in: text),
                  last < UInt64(nextSequence), UInt32(last) >= ackedUpTo
            else { return }
            let sequence = UInt32(last)
            pacer.stats.framesAcked += Int(sequence + 1 - ackedUpTo)
            ackedUpTo = sequence + 1
            if nextSequence - sequence <= UInt32(sendTimes.count) {
                pacer.stats.ackLag.record(microseconds: WallClock.microseconds() - sendTimes[Int(sequence) % sendTimes.count])
            } else {
                pacer.stats.ackLag.recordOverflow()
            }
        case "quota":
            pacer.stats.quotas += 1
        case "started":
            guard state == .starting else { return }
            state = .streaming
            everStarted = true
            pacer.stats.started += 1
            pacer.stats.streaming += 1
        case "stopped":
            pacer.stats.stopped[ServerMessagePeek.string(ServerMessagePeek.reason, in: text) ?? "unknown", default: 0] += 1
            leaveStreaming()
        case "error":
            pacer.stats.errors[ServerMessagePeek.string(ServerMessagePeek.code, in: text) ?? "unknown", default: 0] += 1
        default:
            break
        }
    }

    private func leaveStreaming() {
        guard state == .streaming else { return }
        pacer.stats.streaming -= 1
        state = .stopping
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writable = context.channel.isWritable
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        pacer.stats.errors["loadgen: \(type(of: error))", default: 0] += 1
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !everStarted { pacer.stats.failedToStart += 1 }
        leaveStreaming()
        state = .closed
        context.fireChannelInactive()
    }
}
