import CoreMetrics

/// One chat upstream's series: requests by outcome, tokens by kind, upstream calls by result.
final class ChatUpstreamMetrics: Sendable {
    private let requests: LabelledCounter
    private let tokens: LabelledCounter
    private let attempts: LabelledCounter

    init(upstream: String, factory: any MetricsFactory) {
        requests = LabelledCounter(.chatRequests, by: "outcome", fixed: [("upstream", upstream)], factory: factory)
        tokens = LabelledCounter(.chatTokens, by: "kind", fixed: [("upstream", upstream)], factory: factory)
        attempts = LabelledCounter(.chatUpstreamAttempts, by: "result", fixed: [("upstream", upstream)], factory: factory)
    }

    func recordRequest(outcome: String) {
        requests.increment(outcome)
    }

    func recordTokens(_ usage: ChatTokenUsage) {
        tokens.increment("input", by: usage.inputTokens)
        tokens.increment("output", by: usage.outputTokens)
    }

    func recordAttempt(result: String) {
        attempts.increment(result)
    }
}
