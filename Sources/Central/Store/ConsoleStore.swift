import Foundation

/// Named operators, their roles and hashed tokens.
public protocol OperatorStore: Sendable {
    /// Throws `StoreError.duplicateKey` when the name is taken.
    func insertOperator(_ account: OperatorAccount, tokenHash: String, actor: AdminOperator) async throws
    /// An enabled operator by the hash of their token.
    func operatorAccount(tokenHash: String) async throws -> OperatorAccount?
    func operators() async throws -> [OperatorAccount]
    /// False when there is no such enabled operator. Their console sessions end in the same
    /// transaction.
    func disableOperator(name: String, actor: AdminOperator, now: Date) async throws -> Bool
}

/// Signed-in console sessions, shared by every instance on the database.
public protocol ConsoleSessionStore: Sendable {
    /// Stores a new session, unless it is a named operator's and they are not (or no longer)
    /// enabled: false then, checked in the same transaction as the insert. Drops sessions last
    /// used before `idleBefore` or created before `createdBefore`, then the least recently used
    /// beyond `perOperator` of the same name and beyond `capacity` in all.
    func insertConsoleSession(
        _ session: ConsoleSession, capacity: Int, perOperator: Int, idleBefore: Date, createdBefore: Date
    ) async throws -> Bool
    func consoleSession(tokenHash: String) async throws -> ConsoleSession?
    func touchConsoleSession(tokenHash: String, at: Date) async throws
    func deleteConsoleSession(tokenHash: String) async throws
}

/// Customers' requests for more minutes. The limits are checked in the same transaction that
/// inserts, so parallel requests of one license cannot slip past them on any instance.
public protocol MinutesRequestStore: Sendable {
    /// Inserts a pending request, or throws `MinutesRequestRefusal`.
    func createMinutesRequest(_ request: MinutesRequest, limits: MinutesRequestLimits, now: Date) async throws
        -> MinutesRequest
    func minutesRequests(status: MinutesRequest.Status?, licenseID: String?, limit: Int) async throws -> [MinutesRequest]
    func minutesRequest(id: String) async throws -> MinutesRequest?
    /// Settles a pending request; an approval tops the license up in the same transaction.
    /// Nil when there is no such pending request (already decided, or never was).
    func decideMinutesRequest(id: String, _ decision: MinutesRequestDecision, actor: AdminOperator, now: Date) async throws
        -> MinutesRequest?
}

/// Webhook endpoints, events (each id once) and their deliveries.
public protocol WebhookStore: Sendable {
    func insertWebhookEndpoint(_ endpoint: WebhookEndpoint, actor: AdminOperator) async throws
    func webhookEndpoints() async throws -> [WebhookEndpoint]
    /// Changes `enabled`, `events` and `description`; nil when there is no such endpoint.
    func updateWebhookEndpoint(
        id: String, enabled: Bool?, events: Set<WebhookEventType>?, description: String?, actor: AdminOperator, now: Date
    ) async throws -> WebhookEndpoint?
    func deleteWebhookEndpoint(id: String, actor: AdminOperator, now: Date) async throws -> Bool
    /// Swaps an endpoint's stored secret if it is still `old`; false otherwise.
    func replaceWebhookSecret(id: String, from old: String, to new: String) async throws -> Bool
    /// Records the event and a pending delivery for each enabled endpoint subscribed to its
    /// type. False (and nothing changes) when an event with this id was recorded before.
    @discardableResult
    func enqueueWebhookEvent(_ event: WebhookEvent) async throws -> Bool
    /// Claims deliveries due by `now`: each is handed to one caller (on any instance) and comes
    /// due again at `claimUntil` unless its attempt is recorded first.
    func claimDueWebhookDeliveries(now: Date, claimUntil: Date, limit: Int) async throws -> [DueWebhookDelivery]
    /// After one try: delivered, or failed with the next try (nil: give up).
    func recordWebhookAttempt(
        id: String, at: Date, delivered: Bool, status: Int?, error: String?, nextAttemptAt: Date?
    ) async throws
    /// Newest first.
    func webhookDeliveries(endpointID: String?, limit: Int) async throws -> [WebhookDelivery]
    /// Due again now, whatever its state; nil when there is no such delivery or its endpoint is
    /// disabled (a disabled endpoint is sent nothing; its pending deliveries wait).
    func redeliverWebhook(id: String, actor: AdminOperator, now: Date) async throws -> WebhookDelivery?
}
