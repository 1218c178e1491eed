import Foundation
import Logging
import ServiceLifecycle

/// Looks at every active license now and then and enqueues the state events it is in
/// (`LicenseEventPolicy`): thresholds, the daily cap, expiring soon, expired. Every instance
/// may scan; the derived event ids keep each event once.
struct WebhookEventScanner: Service {
    let store: any CentralStore
    let clock: any WallClock
    let policy: LicenseEventPolicy
    let interval: TimeInterval
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await scan()
                } catch {
                    logger.warning("webhook event scan failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(interval))
            }
        }
    }

    /// One pass over the licenses; returns how many new events were enqueued.
    @discardableResult
    func scan() async throws -> Int {
        // With no endpoint there is no one to tell; events found later are still fresh ones.
        guard try await store.webhookEndpoints().contains(where: \.enabled) else { return 0 }
        let now = clock.now()
        var cursor: String?
        var enqueued = 0
        repeat {
            let page = try await store.listLicenses(LicenseFilter(limit: 500, cursor: cursor))
            for license in page.licenses {
                var usedToday: Int64?
                if license.dailyCapMs != nil, let last = license.lastUsedAt, UTCDay(containing: last) == UTCDay(containing: now) {
                    let quota = try await store.quota(for: license, now: now)
                    if let limit = quota.dailyLimitSeconds, let left = quota.dailyRemainingSeconds {
                        usedToday = Int64(((limit - left) * 1000).rounded())
                    }
                }
                for occurrence in policy.occurrences(of: license, usedTodayMs: usedToday, now: now) {
                    let event = WebhookEventFactory.event(
                        occurrence.type, license: license, discriminator: occurrence.discriminator, now: now)
                    if try await store.enqueueWebhookEvent(event) { enqueued += 1 }
                }
            }
            cursor = page.nextCursor
        } while cursor != nil
        return enqueued
    }
}
