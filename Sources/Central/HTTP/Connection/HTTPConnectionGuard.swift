import Foundation
import NIOCore
import NIOHTTP1
import Protocol

extension ErrorCode {
    /// The request head is not valid HTTP/1.1 (bad syntax, a control character): 400, then close.
    public static let malformedRequest = ErrorCode("malformed_request")
    /// The request URI, a header or the whole head is over central's limits: 431, then close.
    public static let requestHeadTooLarge = ErrorCode("request_head_too_large")
}

/// Why central closed a connection on its own.
enum ConnectionShedReason: String, Sendable {
    case headerTimeout = "header_timeout"
    case bodyTimeout = "body_timeout"
    case idleTimeout = "idle_timeout"
    case malformedRequest = "malformed_request"
    case headTooLarge = "head_too_large"
}

/// Deadlines and head checks for one HTTP/1.1 connection. It sits right after NIO's request
/// decoder, so it also guards the first request, which the WebSocket upgrade handler would
/// otherwise hold with no timeout at all, and it sees the decoder's parse errors before anyone
/// else (the upgrade pipeline drops them, leaving the socket open).
///
/// - A head must be complete within `headerTimeout` of the connection's open (or of the first
///   byte of a later request), a body within `bodyTimeout` of its head; a kept-alive connection
///   with nothing in flight is closed after `idleTimeout`.
/// - A head NIO cannot parse, with a control character, or over the size limits is answered
///   400/431 with our error shape and the connection closed; nothing of it reaches a route.
/// - On `101 Switching Protocols` it installs `WebSocketMaskGuard` and leaves the pipeline: the
///   stream has its own timers.
///
/// `InboundIn` is `Any` on purpose: when the upgrade removes the decoder, the bytes that followed
/// the upgrade request arrive here as plain buffers and are passed on untouched.
final class HTTPConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = Any
    typealias InboundOut = Any
    typealias OutboundIn = Any
    typealias OutboundOut = HTTPServerResponsePart

    private enum Phase {
        case awaitingHead
        case readingBody
        /// Answered or shed: everything further is dropped.
        case closing
        case upgraded
    }

    private let limits: HTTPConnectionLimits
    private let verdict: ConnectionVerdict
    private let metrics: CentralMetrics?
    private var phase = Phase.awaitingHead
    /// When the awaited head began: the connection's open, later the first byte after a request.
    private var headStartedAt: NIODeadline? = .now()
    private var bodyStartedAt = NIODeadline.now()
    private var idleSince = NIODeadline.now()
    /// Requests whose head arrived and whose response has not ended.
    private var requestsInFlight = 0
    /// A response head went out and its end has not: a 400 cannot be written any more.
    private var responseOpen = false
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    /// The raw-byte observer at the front of the pipeline, removed with this handler on upgrade.
    var activity: InboundActivityHandler?
    /// Kept for `bytesArrived()`, which the observer calls from its own position.
    private var context: ChannelHandlerContext?

    init(limits: HTTPConnectionLimits, verdict: ConnectionVerdict, metrics: CentralMetrics?) {
        self.limits = limits
        self.verdict = verdict
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        headStartedAt = .now()
        rearm(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
        self.context = nil
        activity = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    // MARK: Inbound

    /// Called by `InboundActivityHandler` for every read, before the decoder sees the bytes: the
    /// first byte of a later request starts that request's header clock.
    func bytesArrived() {
        guard phase == .awaitingHead, headStartedAt == nil, let context else { return }
        headStartedAt = .now()
        rearm(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard phase != .closing else { return }
        guard let part = unwrapInboundIn(data) as? HTTPServerRequestPart else {
            context.fireChannelRead(data)
            return
        }
        switch part {
        case .head(let head):
            if let problem = RequestHeadCheck.problem(in: head) {
                refuse(context, status: .badRequest, code: .malformedRequest, problem, reason: .malformedRequest)
                return
            }
            verdict.markServed()
            phase = .readingBody
            headStartedAt = nil
            bodyStartedAt = .now()
            requestsInFlight += 1
            rearm(context)
        case .body:
            break
        case .end:
            phase = .awaitingHead
            rearm(context)
        }
        context.fireChannelRead(data)
    }

    /// Graceful shutdown: a connection with no request under way closes now. Hummingbird's own
    /// quiesce handling only exists once a first request has arrived, so without this a socket
    /// that never sent one holds the shutdown until its header timeout.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, phase == .awaitingHead, requestsInFlight == 0 {
            phase = .closing
            cancelTimer()
            verdict.markShed()
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard phase != .closing else { return }
        if parseError == .headerOverflow {
            refuse(
                context, status: .requestHeaderFieldsTooLarge, code: .requestHeadTooLarge,
                "The request head is over central's limits: \(limits.maxHeaderFieldBytes / 1024) KB for the URI or any one header, "
                    + "\(limits.maxHeaderBytes / 1024) KB and \(limits.maxHeaderCount) fields in all.",
                reason: .headTooLarge)
        } else {
            refuse(context, status: .badRequest, code: .malformedRequest, "The request is not valid HTTP/1.1.", reason: .malformedRequest)
        }
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard let part = unwrapOutboundIn(data) as? HTTPServerResponsePart else {
            context.write(data, promise: promise)
            return
        }
        switch part {
        case .head(let head) where head.status == .switchingProtocols:
            upgrade(context, writing: data, promise: promise)
            return
        case .head:
            responseOpen = true
        case .body:
            break
        case .end:
            responseOpen = false
            requestsInFlight = max(0, requestsInFlight - 1)
            idleSince = .now()
            rearm(context)
        }
        context.write(data, promise: promise)
    }

    // MARK: Decisions

    /// Answers `status` with our error shape (unless a response is already under way) and closes.
    private func refuse(
        _ context: ChannelHandlerContext, status: HTTPResponseStatus, code: ErrorCode, _ message: String,
        reason: ConnectionShedReason
    ) {
        phase = .closing
        cancelTimer()
        verdict.markShed()
        metrics?.recordConnectionShed(reason: reason.rawValue)
        guard !responseOpen, let body = try? WireCoding.encoder().encode(ErrorBody(code: code, message: message)) else {
            context.close(promise: nil)
            return
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    private func shed(_ context: ChannelHandlerContext, _ reason: ConnectionShedReason) {
        phase = .closing
        verdict.markShed()
        metrics?.recordConnectionShed(reason: reason.rawValue)
        context.close(promise: nil)
    }

    /// The stream takes over: check its frames' masks, stop the HTTP clocks, step aside.
    private func upgrade(_ context: ChannelHandlerContext, writing data: NIOAny, promise: EventLoopPromise<Void>?) {
        phase = .upgraded
        cancelTimer()
        let pipeline = context.pipeline.syncOperations
        do {
            // Last for now; the WebSocket decoder is appended after it once the 101 is out.
            try pipeline.addHandler(WebSocketMaskGuard(), position: .last)
        } catch {
            promise?.fail(error)
            context.close(promise: nil)
            return
        }
        // Flushed here: the flush that follows this write would reach a handler already gone.
        context.write(data, promise: promise)
        context.flush()
        if let activity { pipeline.removeHandler(activity, promise: nil) }
        pipeline.removeHandler(context: context, promise: nil)
    }

    /// Which clock runs now, and what happens when it runs out.
    private var nextDeadline: (at: NIODeadline, reason: ConnectionShedReason)? {
        switch phase {
        case .closing, .upgraded:
            return nil
        case .readingBody:
            return (bodyStartedAt + TimeAmount(limits.bodyTimeout), .bodyTimeout)
        case .awaitingHead:
            if let headStartedAt { return (headStartedAt + TimeAmount(limits.headerTimeout), .headerTimeout) }
            // A route is still answering: its own time, not the client's.
            if requestsInFlight > 0 { return nil }
            return (idleSince + TimeAmount(limits.idleTimeout), .idleTimeout)
        }
    }

    private func rearm(_ context: ChannelHandlerContext) {
        guard let next = nextDeadline else {
            cancelTimer()
            return
        }
        guard next.at != timerDeadline else { return }
        cancelTimer()
        timerDeadline = next.at
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: next.at) { [weak self] in
            guard let self else { return }
            self.timer = nil
            self.timerDeadline = nil
            // The state may have moved on without a rearm reaching this task first.
            guard let current = self.nextDeadline else { return }
            if current.at <= .now() {
                self.shed(context, current.reason)
            } else {
                self.rearm(context)
            }
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerDeadline = nil
    }
}

/// What central refuses in a head that NIO's parser let through.
enum RequestHeadCheck {
    /// A sentence for the client, or nil when the head is acceptable.
    static func problem(in head: HTTPRequestHead) -> String? {
        if head.uri.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) {
            return "The request URI contains a space or a control character."
        }
        for (name, value) in head.headers {
            if name.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) {
                return "A header name contains a space or a control character."
            }
            // Horizontal tab is allowed inside a field value (RFC 9110 §5.5); no other control is.
            if value.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) {
                return "The value of header '\(name.prefix(64))' contains a control character."
            }
        }
        return nil
    }
}
