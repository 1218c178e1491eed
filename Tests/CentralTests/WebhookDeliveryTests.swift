@testable import Central
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Protocol
import Synchronization
import Testing

/// Webhooks end to end: a real receiver on a local port, central's dispatcher posting to it,
/// the receiver failing and recovering, and the delivery log the console shows.
@Suite(.bounded) struct WebhookDeliveryTests {
    /// What the receiver saw, and how it answers the next request.
    final class Receiver: Sendable {
        struct Seen: Sendable {
            var headers: HTTPFields
            var body: Data
        }

        let seen = Mutex<[Seen]>([])
        /// Statuses to answer with, in order; 204 once they run out.
        let script: Mutex<[HTTPResponse.Status]>

        init(failing statuses: [HTTPResponse.Status]) {
            script = Mutex(statuses)
        }

        var requests: [Seen] { seen.withLock { $0 } }

        func application() -> some ApplicationProtocol {
            let router = Router()
            router.post("/hook") { request, _ -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                self.seen.withLock { $0.append(Seen(headers: request.headers, body: Data(buffer: body))) }
                let status = self.script.withLock { $0.isEmpty ? .noContent : $0.removeFirst() }
                return Response(status: status)
            }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }
    }

    func header(_ seen: Receiver.Seen, _ name: String) -> String? {
        HTTPField.Name(name).flatMap { seen.headers[$0] }
    }

    @Test func aFailingReceiverGetsTheSameSignedEventUntilItAccepts() async throws {
        let receiver = Receiver(failing: [.internalServerError, .serviceUnavailable])
        try await receiver.application().test(.live) { receiverClient in
            let port = try #require(receiverClient.port)
            let fixture = try CentralFixture { $0.console.webhookRetry.firstRetry = 2 }
            let (_, id) = try await fixture.createLicense { $0.customerName = "Hook Corp" }
            // With a master key the secret is sealed in the database; the dispatcher opens it to sign.
            let vault = ProviderKeyVault(
                store: fixture.store, cipher: try ProviderKeyCipher(masterKey: String(repeating: "ab", count: 32)),
                clock: fixture.clock, logger: .init(label: "test"))
            try await fixture.withLiveServer(keyVault: vault) { central in
                let made = try await central.admin(.post, "/v1/admin/webhooks", body: """
                    {"url":"http://127.0.0.1:\(port)/hook","events":["license.suspended","license.revoked"],"description":"ops"}
                    """)
                #expect(made.status == .created, "\(made.text)")
                let secret = try #require(try made.json()["secret"] as? String)
                #expect(secret.hasPrefix("whsec_"))
                #expect(!(try await central.admin(.get, "/v1/admin/webhooks").text.contains(secret)))
                let stored = try #require(try await fixture.store.webhookEndpoints().first?.storedSecret)
                #expect(stored.hasPrefix("sealed:v1:") && !stored.contains(secret))

                /// Waits until the dispatcher has recorded `count` attempts (it computes the next
                /// try from the clock when it records, so the test moves the clock only after that).
                func recorded(_ count: Int) async throws -> Bool {
                    try await eventually {
                        try await fixture.store.webhookDeliveries(endpointID: nil, limit: 1).first?.attempts == count
                    }
                }
                #expect(try await central.admin(.post, "/v1/admin/licenses/\(id)/suspend").status == .ok)
                #expect(try await recorded(1))
                // The retry waits on central's clock: nothing is sent before it is due.
                try await Task.sleep(for: .seconds(1.5))
                #expect(receiver.requests.count == 1)
                fixture.clock.advance(by: 2)
                #expect(try await recorded(2))
                fixture.clock.advance(by: 8)
                #expect(try await recorded(3))
                try #require(receiver.requests.count == 3)

                let attempts = receiver.requests
                let ids = Set(attempts.compactMap { header($0, "Webhook-Id") })
                #expect(ids.count == 1, "every attempt carries the same event id")
                #expect(Set(attempts.map(\.body)).count == 1, "every attempt sends the same bytes")
                for attempt in attempts {
                    let signature = try #require(header(attempt, "Webhook-Signature"))
                    #expect(WebhookSignature.verify(header: signature, secret: secret, body: attempt.body, now: fixture.clock.now()))
                    #expect(!WebhookSignature.verify(header: signature, secret: "whsec_wrong", body: attempt.body, now: fixture.clock.now()))
                    #expect(header(attempt, "Webhook-Event") == "license.suspended")
                    #expect(header(attempt, "Content-Type") == "application/json")
                }
                let payload = try #require(try JSONSerialization.jsonObject(with: attempts[0].body) as? [String: Any])
                #expect(payload["type"] as? String == "license.suspended" && payload["id"] as? String == ids.first)
                let data = try #require(payload["data"] as? [String: Any])
                #expect(data["license_id"] as? String == id && data["customer_name"] as? String == "Hook Corp")

                // The log: three attempts, delivered, the receiver's last failure gone.
                let log = try await central.admin(.get, "/v1/admin/webhooks/deliveries")
                let delivery = try #require(try log.decode(WebhookController.DeliveriesBodyForTests.self).deliveries.first)
                #expect(delivery.status == .delivered && delivery.attempts == 3 && delivery.lastStatus == 204)
                #expect(delivery.eventID == ids.first)

                // Redelivery by hand: the same event id once more.
                #expect(try await central.admin(.post, "/v1/admin/webhooks/deliveries/\(delivery.id)/redeliver").status == .accepted)
                try #require(await eventually { receiver.requests.count == 4 })
                #expect(header(receiver.requests[3], "Webhook-Id") == ids.first)

                // An event type the endpoint did not ask for is not sent.
                _ = try await central.admin(.post, "/v1/admin/licenses/\(id)/resume")
                #expect(try await central.admin(.post, "/v1/admin/licenses/\(id)/revoke").status == .ok)
                try #require(await eventually { receiver.requests.count == 5 })
                #expect(header(receiver.requests[4], "Webhook-Event") == "license.revoked")
            }
        }
    }

    @Test func theScannerAnnouncesAThresholdOnceAcrossInstances() async throws {
        let fixture = try CentralFixture()
        let (key, id) = try await fixture.createLicense { $0.minutes = 1 }
        _ = key
        try await fixture.store.insertWebhookEndpoint(
            WebhookEndpoint(
                id: "wh_test", url: "http://127.0.0.1:9/hook", storedSecret: "whsec_0123456789abcdef", events: [.usage80, .usageExhausted],
                enabled: true, description: "", createdAt: fixture.clock.now()),
            actor: AdminOperator(name: "test", ip: nil))
        // 50 of 60 seconds used: past 80 %.
        _ = try await fixture.store.modifyLicense(id: id, action: "test.use", detail: nil, actor: AdminOperator(name: "test", ip: nil), now: fixture.clock.now()) {
            $0.usedMs = 50_000
        }
        let scanners = try [fixture.store, fixture.secondStore()].map { store in
            WebhookEventScanner(
                store: store, clock: fixture.clock, policy: LicenseEventPolicy(expiringSoonDays: 3), interval: 30,
                logger: .init(label: "test"))
        }
        let found = try await withThrowingTaskGroup(of: Int.self) { group in
            for scanner in scanners { group.addTask { try await scanner.scan() } }
            return try await group.reduce(0, +)
        }
        #expect(found == 1)
        #expect(try await scanners[0].scan() == 0)
        #expect(try await fixture.store.webhookDeliveries(endpointID: nil, limit: 10).map(\.eventType) == [.usage80])
        // A top-up re-arms it: a new limit is a new occurrence.
        _ = try await fixture.administration.perform(.topup(minutes: 0.1), id: id)
        _ = try await fixture.store.modifyLicense(id: id, action: "test.use", detail: nil, actor: AdminOperator(name: "test", ip: nil), now: fixture.clock.now()) {
            $0.usedMs = 66_000
        }
        #expect(try await scanners[1].scan() == 1)
        #expect(Set(try await fixture.store.webhookDeliveries(endpointID: nil, limit: 10).map(\.eventType)) == [.usageExhausted, .usage80])
    }
}

extension WebhookController {
    struct DeliveriesBodyForTests: Decodable {
        var deliveries: [WebhookDelivery]
    }
}
