import Foundation
import NIOCore
import NIOWebSocket
import Protocol

/// What a stream connection's frame handler works with: the session's intake and provider,
/// and the session itself for what the event loop cannot decide alone.
struct StreamFrameBinding: Sendable {
    let session: StreamSession
    let connection: Int
    let clock: any WallClock
    let metrics: ProviderStreamMetrics
    let paceAllowanceMs: Int64
    let providerStallTimeout: Duration
}

/// Audio frames on the event loop that read them. It sits right after NIO's WebSocket frame
/// decoder of a `/v1/stream` connection once its session is bound: each complete binary frame
/// is decoded, sequence-checked, metered (`StreamAudioIntake`) and handed to the provider's
/// bounded queue here, with no task switch and no actor hop; acks are written from here too.
/// Everything else (text, fragments, ping, close) passes on to the session's async reader.
///
/// Order is kept: a frame that arrives while a text message is still with the reader waits for
/// it, so answers come in the order the edge sent. When a frame cannot go on yet (the session's
/// reservation is spent and the license must be asked for more, or the provider's queue is
/// full) it is held, later frames queue behind it, and the socket is not read until it went:
/// backpressure reaches the edge, nothing is dropped and nothing unforwarded is acked.
final class StreamFrameHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private enum Inbound {
        case audio(AudioFrame)
        /// A binary frame that is not a valid audio frame: refused in its turn.
        case invalid(ProtocolError)
        case other(WebSocketFrame)
    }

    private enum Hold {
        /// Waiting for the session to checkpoint for a new reservation.
        case reservation
        /// Waiting for the provider's queue (retried every few milliseconds).
        case provider
        /// The session stopped or was taken over: nothing more is taken.
        case stopped
    }

    private let binding: StreamFrameBinding
    private var pending = CircularBuffer<Inbound>()
    private var hold: Hold?
    /// Whole messages passed to the async reader that it has not finished with.
    private var messagesWithReader = 0
    /// When a provider that stopped taking audio ends the session.
    private var providerStallDeadline: NIODeadline?
    private var readSuppressed = false
    private var retry: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(binding: StreamFrameBinding) {
        self.binding = binding
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        retry?.cancel()
        retry = nil
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if case .stopped = hold {
            // A stopped or taken-over session takes no more messages; its socket is being
            // closed, and the close handshake (control frames) still goes through.
            if frame.opcode == .connectionClose || frame.opcode == .ping || frame.opcode == .pong {
                context.fireChannelRead(data)
            }
            return
        }
        let next: Inbound
        if frame.opcode == .binary, frame.fin {
            do {
                next = .audio(try AudioFrame.decode(Self.unmaskedBytes(frame)))
            } catch {
                next = .invalid(error)
            }
        } else {
            next = .other(frame)
        }
        if pending.isEmpty, isFree {
            handle(next, context: context)
        } else {
            pending.append(next)
        }
    }

    /// Holds reads while anything waits; lets them through again once it went.
    func read(context: ChannelHandlerContext) {
        if pending.isEmpty, hold == nil { context.read() } else { readSuppressed = true }
    }

    /// The reader finished one message it was given (its answer, if any, is in the outbox).
    func readerFinishedMessage() {
        messagesWithReader = max(0, messagesWithReader - 1)
        if let context { drain(context) }
    }

    private var isFree: Bool { hold == nil && messagesWithReader == 0 }

    private func handle(_ next: Inbound, context: ChannelHandlerContext) {
        switch next {
        case .audio(let frame):
            process(frame, context: context)
        case .invalid(let error):
            binding.session.intake.noteInbound(at: binding.clock.now())
            binding.metrics.recordFrame("rejected")
            refuse(code: error.code, message: error.message)
        case .other(let frame):
            // Ping, pong and close are not messages the reader sees; a final data frame ends one.
            if frame.fin, frame.opcode == .text || frame.opcode == .binary || frame.opcode == .continuation {
                messagesWithReader += 1
            }
            context.fireChannelRead(wrapInboundOut(frame))
        }
    }

    // MARK: Frames

    private func process(_ frame: AudioFrame, context: ChannelHandlerContext) {
        let intake = binding.session.intake
        let provider = binding.session.providerSession
        let now = binding.clock.now()
        let verdict = intake.take(frame, connection: binding.connection, now: now) { provider.send($0) }
        if case .providerFull = verdict {} else { providerStallDeadline = nil }
        switch verdict {
        case .accepted(let ack, let firstAudio, let missing):
            if missing > 0 { binding.metrics.recordFrame("gap") }
            binding.metrics.recordAcceptedFrame(
                relayMicroseconds: Int64(now.timeIntervalSince1970 * 1_000_000)
                    - Int64(clamping: frame.captureTimeMicroseconds))
            if let ack { writeAck(ack, context: context) }
            if firstAudio {
                // The session counts against the session quota at its first audio frame.
                let session = binding.session
                Task { await session.firstAudioArrived() }
            }
        case .duplicate:
            binding.metrics.recordFrame("duplicate")
        case .rejected(let error):
            binding.metrics.recordFrame("rejected")
            refuse(code: error.code, message: error.message)
        case .tooFast(let warn):
            binding.metrics.recordFrame("refused_too_fast")
            if warn {
                refuse(
                    code: .audioTooFast,
                    message: "Frame \(frame.sequence) runs more than \(binding.paceAllowanceMs / 1000) s ahead of real time; it was not accepted. Send audio at real-time pace.")
            }
        case .needsReservation:
            holdFrame(frame, .reservation)
            // The reservation is spent: the session asks the shared balance for more before
            // this frame is forwarded (or stops the stream when there is none).
            let session = binding.session
            let reaching = intake.reaching(adding: frame.durationMicroseconds)
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            Task {
                await session.replenish(reachingMicroseconds: reaching)
                handler.eventLoop.execute { handler.value.release() }
            }
        case .providerFull:
            let waited = NIODeadline.now()
            if providerStallDeadline == nil {
                binding.metrics.recordFrame("provider_backpressure")
                providerStallDeadline = waited + TimeAmount(binding.providerStallTimeout)
            }
            if let deadline = providerStallDeadline, waited >= deadline {
                stopTaking()
                let session = binding.session
                Task { await session.stop(.providerTimeout, "The speech service stopped accepting audio.") }
                return
            }
            holdFrame(frame, .provider)
            scheduleProviderRetry(context)
        case .closed:
            stopTaking()
        }
    }

    private func holdFrame(_ frame: AudioFrame, _ reason: Hold) {
        hold = reason
        pending.prepend(.audio(frame))
    }

    private func stopTaking() {
        hold = .stopped
        pending.removeAll()
    }

    /// The held frame may go again.
    private func release() {
        guard let current = hold, let context else { return }
        if case .stopped = current { return }
        hold = nil
        drain(context)
    }

    /// Handles what waited, in order, until something holds again; then reads again.
    private func drain(_ context: ChannelHandlerContext) {
        var passedOn = false
        while isFree, let next = pending.popFirst() {
            if case .other = next { passedOn = true }
            handle(next, context: context)
        }
        // Outside a read cycle: the async reader only takes what it was given at a read's end.
        if passedOn { context.fireChannelReadComplete() }
        if pending.isEmpty, hold == nil, readSuppressed {
            readSuppressed = false
            context.read()
        }
    }

    private func scheduleProviderRetry(_ context: ChannelHandlerContext) {
        guard retry == nil else { return }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        retry = context.eventLoop.scheduleTask(in: .milliseconds(5)) {
            handler.value.retry = nil
            guard case .provider = handler.value.hold else { return }
            // The held frame again; it holds again (and reschedules) while the queue is full.
            handler.value.release()
        }
    }

    // MARK: Writing

    /// Acks are cumulative and written straight from here: one that an edge not reading its
    /// socket cannot take is skipped, not queued.
    private func writeAck(_ ack: AckMessage, context: ChannelHandlerContext) {
        guard context.channel.isWritable else { return }
        let buffer = context.channel.allocator.buffer(string: ack.wireText)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: buffer)), promise: nil)
    }

    /// Refusals go through the session's outbox, in order with the reader's answers.
    private func refuse(code: ErrorCode, message: String) {
        binding.session.outbox.send(.error(ErrorMessage(code: code, message: message, fatal: false)))
    }

    /// The payload, unmasked while it is copied out (the one copy a frame gets before the provider).
    static func unmaskedBytes(_ frame: WebSocketFrame) -> [UInt8] {
        var bytes = Array(frame.data.readableBytesView)
        if let key = frame.maskKey {
            bytes.withUnsafeMutableBufferPointer { buffer in
                for index in buffer.indices { buffer[index] ^= key[index & 3] }
            }
        }
        return bytes
    }
}
