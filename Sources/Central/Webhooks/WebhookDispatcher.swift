import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// Sends due webhook deliveries, off every stream and admin path: it claims a batch from the
/// store (another instance claims others), posts each signed body, and records the outcome
/// with the next try. A delivery claimed by an instance that died comes due again when its
/// claim lapses.
struct WebhookDispatcher: Service {
    let store: any WebhookStore
    let clock: any WallClock
    let http: HTTPClient
    let seal: WebhookSecretSeal
    let retry: WebhookRetryPolicy
    let logger: Logger
    var interval: Duration = .seconds(1)
    var batch = 20
    /// A claim outlives the longest send (the request timeout) by a margin.
    var claim: TimeInterval = 60
    var requestTimeout: TimeAmount = .seconds(10)

    static func makeHTTPClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
        // A receiver's redirect is its failure, never a second destination of our choosing.
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func run() async throws {
        do {
            let sealed = try await seal.sealPlainSecrets(in: store)
            if sealed > 0 { logger.info("sealed webhook secrets with the master key", metadata: ["endpoints": "\(sealed)"]) }
        } catch {
            logger.warning("webhook secrets not sealed yet", metadata: ["error": "\(error)"])
        }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await deliverDue()
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// One round: everything due now, sent in parallel. Returns how many were tried.
    @discardableResult
    func deliverDue() async -> Int {
        let now = clock.now()
        let due: [DueWebhookDelivery]
        do {
            due = try await store.claimDueWebhookDeliveries(now: now, claimUntil: now.addingTimeInterval(claim), limit: batch)
        } catch {
            logger.warning("webhook claim failed", metadata: ["error": "\(error)"])
            return 0
        }
        await withTaskGroup(of: Void.self) { group in
            for item in due { group.addTask { await deliver(item) } }
        }
        return due.count
    }

    func deliver(_ item: DueWebhookDelivery) async {
        let sentAt = clock.now()
        let timestamp = Int64(sentAt.timeIntervalSince1970)
        var request = HTTPClientRequest(url: item.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "central-webhooks/1")
        request.headers.add(name: "Webhook-Id", value: item.delivery.eventID)
        request.headers.add(name: "Webhook-Event", value: item.delivery.eventType.rawValue)
        request.headers.add(name: "Webhook-Timestamp", value: String(timestamp))
        var status: Int?
        var problem: String?
        do {
            let secret = try seal.secret(item.storedSecret, endpointID: item.delivery.endpointID)
            request.headers.add(
                name: WebhookSignature.header,
                value: WebhookSignature.sign(secret: secret, timestamp: timestamp, body: Array(item.payload.utf8)))
            request.body = .bytes(ByteBuffer(string: item.payload))
            let response = try await http.execute(request, timeout: requestTimeout)
            status = Int(response.status.code)
            // Read (and drop) a bounded answer so the connection can be reused.
            _ = try? await response.body.collect(upTo: 64 * 1024)
            if !(200..<300).contains(Int(response.status.code)) { problem = "receiver answered \(response.status.code)" }
        } catch {
            problem = Self.describe(error)
        }
        let delivered = problem == nil
        let next = delivered ? nil : retry.nextAttempt(
            afterFailedAttempts: item.delivery.attempts + 1, createdAt: item.delivery.createdAt, now: clock.now())
        do {
            try await store.recordWebhookAttempt(
                id: item.delivery.id, at: sentAt, delivered: delivered, status: status, error: problem, nextAttemptAt: next)
        } catch {
            // The claim lapses and the delivery is tried again: at least once, never lost.
            logger.warning("webhook outcome not recorded", metadata: ["delivery": "\(item.delivery.id)", "error": "\(error)"])
        }
        if !delivered {
            logger.notice(
                "webhook delivery failed",
                metadata: ["delivery": "\(item.delivery.id)", "attempt": "\(item.delivery.attempts + 1)", "error": "\(problem ?? "")"])
        }
    }

    /// A short, fixed description: nothing the receiver sent is copied into our log or the console.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as WebhookSecretSeal.SealError:
            "not sent: \(error)"
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout:
            "timed out"
        case is HTTPClientError:
            "request failed (\(String(describing: error).prefix(80)))"
        default:
            "could not connect"
        }
    }
}
