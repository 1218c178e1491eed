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

    /// Private close codes: 4001 ticket refused, 4002 bad start, 4003 session refused.
    static let ticketRefused = WebSocketErrorCode(codeNumber: 4001)
    static let badStart = WebSocketErrorCode(codeNumber: 4002)
    static let sessionRefused = WebSocketErrorCode(codeNumber: 4003)

    func addRoutes(to router: Router<StreamRequestContext>) {
        router.ws("/v1/stream") { request, _ in
            // Refusing here can only ever be a bare 400; the reason comes as a close code instead.
            request.bearerToken == nil ? .dontUpgrade : .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            await serve(inbound: inbound, outbound: outbound, token: context.request.bearerToken ?? "", logger: context.logger)
        }
    }

    func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, token: String, logger: Logger) async {
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
        guard let ticket = tickets.redeem(token, now: environment.clock.now()) else {
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

        let session: StreamSession
        let resumed = ticket.resume
        if resumed {
            guard start.resumeSessionID == ticket.sessionID, let existing = environment.registry.session(id: ticket.sessionID),
                  await existing.isResumable
            else {
                await refuse(outbound, .sessionNotResumable, "That session can no longer be resumed; start a new one.", close: Self.sessionRefused)
                return
            }
            session = existing
            environment.metrics.recordStreamEvent("resumed")
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
            environment.registry.add(session)
            environment.metrics.recordStreamEvent("started")
        }

        let (toEdge, connection) = await session.attach(resumed: resumed)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in toEdge {
                    do { try await outbound.write(.text(message.encodedText())) } catch { break }
                }
                // The session stopped or another connection took it over.
                try? await outbound.close(.normalClosure, reason: nil)
            }
            await receive(from: &messages, into: session)
            await session.detach(connection: connection)
        }
    }

    private func receive(from messages: inout WebSocketInboundMessageStream.AsyncIterator, into session: StreamSession) async {
        while true {
            let message: WebSocketMessage?
            do { message = try await messages.next() } catch { return }
            guard let message else { return }
            switch message {
            case .binary(let buffer):
                do {
                    guard try await session.audio(AudioFrame.decode(buffer.readableBytesView)) else { return }
                } catch {
                    await session.protocolError(error)
                }
            case .text(let text):
                do {
                    guard try await session.control(ControlMessage.decode(text)) else { return }
                } catch {
                    await session.protocolError(error)
                }
            }
        }
    }

    /// A ticket that will not become a session gives its lease back at once.
    private func abandon(_ ticket: StreamTicket) async {
        guard !ticket.resume else { return }
        _ = try? await environment.store.releaseLease(id: ticket.leaseID, licenseID: ticket.licenseID)
    }

    private func refuse(_ outbound: WebSocketOutboundWriter, _ code: ErrorCode, _ message: String, close: WebSocketErrorCode) async {
        environment.metrics.recordStreamEvent("refused_\(code.rawValue)")
        try? await outbound.write(.text(ControlMessage.error(ErrorMessage(code: code, message: message, fatal: true)).encodedText()))
        try? await outbound.close(close, reason: code.rawValue)
    }
}
