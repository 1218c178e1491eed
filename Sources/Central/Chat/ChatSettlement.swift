import Foundation
import Logging

/// The end of one admitted chat request: its key reported to the vault, its outcome counted,
/// and its reservation settled with what it used (or given back). Store calls run in their own
/// task, so a request cancelled by its client still settles.
struct ChatSettlement: Sendable {
    let services: CentralServices
    let keys: any ProviderKeySource
    let keyID: String
    let requestID: String
    let metrics: ChatUpstreamMetrics

    static let logger = Logger(label: "central.chat")

    func finish(_ usage: ChatTokenUsage, end: ChatController.StreamEnd) async {
        await keys.report(keyID: keyID, outcome: end == .upstreamBrokeOff ? .failed("answer broke off") : .used(audioMs: 0))
        let outcome = switch end {
        case .complete: "completed"
        case .clientGone: "client_disconnected"
        case .upstreamBrokeOff: "upstream_broke_off"
        }
        metrics.recordRequest(outcome: outcome)
        let store = services.store
        let clock = services.clock
        let id = requestID
        do {
            let settled = try await Task { try await store.settleChatRequest(id: id, usage: usage, now: clock.now()) }.value
            if settled { metrics.recordTokens(usage) }
        } catch {
            // The reservation then lapses (docs/operations.md): its request counts, its tokens do not.
            Self.logger.error("could not settle a chat request", metadata: ["request": "\(id)", "error": "\(error)"])
        }
    }

    /// The upstream answered 200 but no answer came: nothing reached the client, nothing is billed.
    func abandon() async {
        await keys.report(keyID: keyID, outcome: .failed("answer broke off"))
        metrics.recordRequest(outcome: "upstream_broke_off")
        await Self.release(requestID, services: services)
    }

    /// Gives a reservation back, request and tokens.
    static func release(_ id: String, services: CentralServices) async {
        let store = services.store
        let clock = services.clock
        do {
            try await Task { try await store.releaseChatRequest(id: id, now: clock.now()) }.value
        } catch {
            logger.error("could not release a chat reservation", metadata: ["request": "\(id)", "error": "\(error)"])
        }
    }
}
