import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Protocol

/// Serves `GET /v1/stream` (WebSocket). The upgrade must carry a stream token from admission
/// in `Authorization: Bearer st_…`; the first message must be `start`.
struct StreamEndpoint: Sendable {
    let environment: StreamEnvironment
    let tickets: StreamTicketBook
    let clientAddress: ClientAddressResolver

    /// Private close codes: 4001 ticket refused, 4002 bad start, 4003 session refused.
    static let ticketRefused = WebSocketErrorCode(codeNumber: 4001)
    static let badStart = WebSocketErrorCode(codeNumber: 4002)
    static let sessionRefused = WebSocketErrorCode(codeNumber: 4003)

    func addRoutes(to router: Router<StreamRequestContext>) {
        router.ws("/v1/stream") { request, _ in
            // Refusing here can only ever be a bare 400; the reason comes as a close code instead.
            request.bearerToken == nil ? .dontUpgrade : .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let ip = clientAddress.clientIP(
                peer: context.requestContext.remoteAddress, forwardedFor: context.request.header("x-forwarded-for"))
            await serve(
                inbound: inbound, outbound: outbound, channel: context.requestContext.channel,
                token: context.request.bearerToken ?? "", clientIP: ip, logger: context.logger)
        }
    }

    func serve(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: any Channel, token: String,
        clientIP: String, logger: Logger
    ) async {
        environment.registry.connectionOpened()
        defer { environment.registry.connectionClosed() }
        // Nobody may hold a socket open without starting.
        let startTimeout = environment.settings.startTimeout
        let watchdog = Task {
            try await Task.sleep(for: startTimeout)
            try await outbound.close(Self.badStart, reason: "no start message")
        }
        var messages = inbound.messages(maxSize: ControlMessage.maxTextBytes).makeAsyncIterator()
        let first: WebSocketMessage?
        do { first = try await messages.next() } catch { first = nil }
        watchdog.cancel()
        // The ticket is checked only after the edge has spoken: a server that writes right after
        // the 101 response races some clients' upgrade handling and the refusal can be lost.
        let redeemed: StreamTicket?
        do {
            redeemed = try await tickets.redeem(token, now: environment.clock.now())
        } catch {
            logger.error("redeeming a stream token failed", metadata: ["error": "\(error)"])
            await refuse(outbound, .unavailable, "Central cannot check the stream token right now; ask POST /v1/sessions again in a moment.", close: Self.ticketRefused)
            return
        }
        guard let ticket = redeemed else {
            await refuse(outbound, .invalidMessage, "The stream token is unknown, used or expired. Ask POST /v1/sessions for a new one.", close: Self.ticketRefused)
            return
        }
        guard case .text(let text) = first else {
            await abandon(ticket)
            await refuse(outbound, .unexpectedMessage, "The first message must be a 'start' text message.", close: Self.badStart)
            return
        }
        let start: StartMessage
        do {
            guard case .start(let message) = try ControlMessage.decode(text) else {
                throw ProtocolError(.unexpectedMessage, "the first message must be 'start'")
            }
            start = message
        } catch let error as ProtocolError {
            await abandon(ticket)
            await refuse(outbound, error.code, error.message, close: Self.badStart)
            return
        } catch {
            await abandon(ticket)
            return
        }

        if environment.registry.isShuttingDown {
            await abandon(ticket)
            await refuse(outbound, .serverShutdown, "Central is shutting down; connect again in a moment.", close: Self.sessionRefused)
            return
        }
        // The license's rules hold on this connection too, not only at admission: the
        // allowlist is checked against the address the stream really comes from.
        if let refusal = await connectionRefusal(ticket: ticket, clientIP: clientIP) {
            await abandon(ticket)
            await refuse(outbound, refusal.code, refusal.message, close: Self.sessionRefused)
            return
        }
        let session: StreamSession
        let resumed = ticket.resume
        if resumed {
            guard start.resumeSessionID == ticket.sessionID else {
                await refuse(outbound, .sessionNotResumable, "That session can no longer be resumed; start a new one.", close: Self.sessionRefused)
                return
            }
            if let existing = environment.registry.session(id: ticket.sessionID), await existing.isResumable {
                session = existing
            } else {
                // Served by another instance (alive or not): this one takes it over from the store.
                do {
                    session = try await StreamSession.takeOver(ticket: ticket, start: start, environment: environment)
                } catch let error as ProtocolError {
                    await refuse(outbound, error.code, error.message, close: Self.sessionRefused)
                    return
                } catch {
                    logger.error("taking over a stream failed", metadata: ["error": "\(error)"])
                    await refuse(outbound, .sessionNotResumable, "That session can no longer be resumed; start a new one.", close: Self.sessionRefused)
                    return
                }
                guard environment.registry.add(session) else {
                    await session.stop(.serverShutdown, "Central is shutting down.")
                    await refuse(outbound, .serverShutdown, "Central is shutting down; connect again in a moment.", close: Self.sessionRefused)
                    return
                }
                session.metrics.recordStreamEvent("taken_over")
            }
            session.metrics.recordStreamEvent("resumed")
        } else {
            do {
                session = try await StreamSession.open(ticket: ticket, start: start, environment: environment)
            } catch let error as ProtocolError {
                await abandon(ticket)
                await refuse(outbound, error.code, error.message, close: Self.sessionRefused)
                return
            } catch {
                logger.error("opening a stream failed", metadata: ["error": "\(error)"])
                await abandon(ticket)
                await refuse(outbound, .internalError, "The session could not be opened.", close: Self.sessionRefused)
                return
            }
            guard environment.registry.add(session) else {
                await session.stop(.serverShutdown, "Central is shutting down.")
                await refuse(outbound, .serverShutdown, "Central is shutting down; connect again in a moment.", close: Self.sessionRefused)
                return
            }
            session.metrics.recordStreamEvent("started")
        }

        let (toEdge, connection) = await session.attach(resumed: resumed, clientIP: clientIP)
        // From here audio frames are taken on the event loop; `started` is written after this.
        let frames: NIOLoopBound<StreamFrameHandler>
        do {
            frames = try await installFrameHandler(on: channel, session: session, connection: connection)
        } catch {
            await session.detach(connection: connection)
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in toEdge {
                    do { try await outbound.write(.text(message.encodedText())) } catch { break }
                }
                // The session stopped or another connection took it over.
                try? await outbound.close(.normalClosure, reason: nil)
            }
            await receive(from: &messages, into: session) {
                // Frames that arrived after this message may be taken now.
                frames.eventLoop.execute { frames.value.readerFinishedMessage() }
            }
            await session.detach(connection: connection)
        }
    }

    private func receive(
        from messages: inout WebSocketInboundMessageStream.AsyncIterator, into session: StreamSession,
        finished: () -> Void
    ) async {
        while true {
            let message: WebSocketMessage?
            do { message = try await messages.next() } catch { return }
            guard let message else { return }
            defer { finished() }
            switch message {
            case .binary:
                // Whole binary frames are taken by StreamFrameHandler; what reaches this reader
                // came fragmented or before the session was bound, and is not accepted.
                await session.protocolError(ProtocolError(
                    .malformedFrame, "Audio frames are single unfragmented binary messages sent after 'started'; this one was not accepted."))
            case .text(let text):
                do {
                    guard try await session.control(ControlMessage.decode(text)) else { return }
                } catch {
                    await session.protocolError(error)
                }
            }
        }
    }

    /// Puts the session's frame handler right after the WebSocket frame decoder.
    private func installFrameHandler(
        on channel: any Channel, session: StreamSession, connection: Int
    ) async throws -> NIOLoopBound<StreamFrameHandler> {
        let binding = StreamFrameBinding(
            session: session, connection: connection, clock: environment.clock, metrics: session.metrics,
            paceAllowanceMs: environment.settings.paceAllowanceMs,
            providerStallTimeout: environment.settings.providerStallTimeout)
        return try await channel.eventLoop.submit {
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<WebSocketFrameDecoder>.self)
            let handler = StreamFrameHandler(binding: binding)
            try pipeline.addHandler(handler, position: .after(decoder))
            return NIOLoopBound(handler, eventLoop: channel.eventLoop)
        }.get()
    }

    /// Why this connection may not carry the ticket's session: the license changed since
    /// admission, or the stream comes from an address the license does not allow.
    private func connectionRefusal(ticket: StreamTicket, clientIP: String) async -> ProtocolError? {
        let license: License?
        do {
            license = try await environment.store.license(id: ticket.licenseID)
        } catch {
            return ProtocolError(.unavailable, "The license could not be checked; try again.")
        }
        guard let license else { return ProtocolError(.licenseNotFound, "The license no longer exists.") }
        if let (code, message) = MeteringPolicy.licenseStateStop(license, now: environment.clock.now()) {
            return ProtocolError(code, message)
        }
        guard license.ipAllowlist.allows(clientIP) else {
            return ProtocolError(.ipNotAllowed, "This address is not allowed to use the license.")
        }
        return nil
    }

    /// A ticket that will not become a session gives its lease back at once.
    private func abandon(_ ticket: StreamTicket) async {
        guard !ticket.resume else { return }
        _ = try? await environment.store.releaseLease(id: ticket.leaseID, licenseID: ticket.licenseID)
    }

    private func refuse(_ outbound: WebSocketOutboundWriter, _ code: ErrorCode, _ message: String, close: WebSocketErrorCode) async {
        environment.metrics.unassignedStream.recordStreamEvent("refused_\(code.rawValue)")
        try? await outbound.write(.text(ControlMessage.error(ErrorMessage(code: code, message: message, fatal: true)).encodedText()))
        try? await outbound.close(close, reason: code.rawValue)
    }
}
