import NIOCore

/// Drives every stream on one event loop: a 20 ms tick, scheduled on the loop against absolute
/// deadlines, writes one audio frame to each streaming channel (one write and one flush per
/// channel per tick; no task per frame), and the loop's `StreamStats` are kept here.
final class LoopPacer: @unchecked Sendable {
    // @unchecked: everything but the constants is used on `eventLoop` only (asserted); the load
    // run reaches it through `eventLoop.submit`.
    let eventLoop: any EventLoop
    /// The `start` and `stop` messages every stream sends, pre-masked.
    let startFrame: ByteBuffer
    let stopFrame: ByteBuffer
    private let templates: AudioFrameTemplates
    var stats = StreamStats()
    private var streams: [StreamChannelHandler] = []
    private var tick = 0
    private var deadline = NIODeadline.now()
    private var scheduled: Scheduled<Void>?

    static let interval = TimeAmount.milliseconds(20)
    /// A tick later than this is skipped rather than caught up, so an overloaded generator
    /// offers less instead of bursting.
    static let tolerance = TimeAmount.milliseconds(100)

    init(eventLoop: any EventLoop, templates: AudioFrameTemplates, start: String, stop: String) {
        self.eventLoop = eventLoop
        self.templates = templates
        startFrame = ByteBuffer(bytes: MaskedFrame.bytes(opcode: MaskedFrame.text, payload: Array(start.utf8)))
        stopFrame = ByteBuffer(bytes: MaskedFrame.bytes(opcode: MaskedFrame.text, payload: Array(stop.utf8)))
    }

    func startTicking() {
        eventLoop.execute {
            self.deadline = .now() + Self.interval
            self.scheduleNext()
        }
    }

    func stopTicking() {
        eventLoop.execute { self.scheduled?.cancel() }
    }

    func add(_ stream: StreamChannelHandler) {
        eventLoop.assertInEventLoop()
        streams.append(stream)
    }

    /// Sends `stop` on every stream.
    func stopStreams() {
        eventLoop.assertInEventLoop()
        for stream in streams { stream.stop() }
    }

    /// Closes what is still open, and forgets closed streams.
    func closeStreams() {
        eventLoop.assertInEventLoop()
        for stream in streams { stream.close() }
        streams.removeAll { $0.state == .closed }
    }

    var openStreams: Int {
        eventLoop.assertInEventLoop()
        return streams.count(where: { $0.state != .closed })
    }

    private func fire() {
        let index = tick % templates.count
        for stream in streams { stream.sendAudio(templates, index: index) }
        tick += 1
        deadline = deadline + Self.interval
        let late = NIODeadline.now() - deadline
        if late > Self.tolerance {
            let skipped = Int(late.nanoseconds / Self.interval.nanoseconds)
            stats.ticksSkipped += skipped
            deadline = deadline + Self.interval * skipped
        }
        scheduleNext()
    }

    private func scheduleNext() {
        scheduled = eventLoop.scheduleTask(deadline: deadline) { self.fire() }
    }
}
