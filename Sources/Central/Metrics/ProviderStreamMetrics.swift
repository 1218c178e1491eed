import CoreMetrics

/// The stream series of one speech provider: frames by outcome, relay latency and stream
/// events, all labelled with the provider's name. Made once per provider when central starts,
/// and held by each session and its frame handler, so a frame never looks up a label.
public final class ProviderStreamMetrics: Sendable {
    public let provider: String
    /// By `FrameOutcome.rawValue`.
    private let frames: [CoreMetrics.Counter]
    private let acceptedFrames: CoreMetrics.Counter
    /// Capture time (from the frame) to hand-over to the provider. Meaningful when the edge's
    /// clock is synchronised with central's (always true for the load tool on the same host).
    private let relayLatency: CoreMetrics.Timer
    private let streamEvents: LabelledCounter
    /// By count: billed, edge_sent, provider_sent, provider_reported.
    private let audioCounts: [String: CoreMetrics.Counter]

    /// Relay latencies come from the edge's capture clock, so anything is possible: they are
    /// clamped to an hour, so no frame can overflow the histogram (a trap would end central).
    static let maximumRelayMicroseconds: Int64 = 3_600_000_000

    init(provider: String, factory: any MetricsFactory) {
        let byProvider = [("provider", provider)]
        self.provider = provider
        frames = FrameOutcome.labels.map {
            CoreMetrics.Counter(label: CentralMetricFamily.streamFrames.label, dimensions: [("outcome", $0)] + byProvider, factory: factory)
        }
        acceptedFrames = frames[FrameOutcome.accepted.rawValue]
        relayLatency = CoreMetrics.Timer(label: CentralMetricFamily.relayLatency.label, dimensions: byProvider, factory: factory)
        streamEvents = LabelledCounter(.streamEvents, by: "event", fixed: byProvider, factory: factory)
        audioCounts = Dictionary(uniqueKeysWithValues: ["billed", "edge_sent", "provider_sent", "provider_reported"].map {
            ($0, CoreMetrics.Counter(label: CentralMetricFamily.audioCounts.label, dimensions: [("count", $0)] + byProvider, factory: factory))
        })
    }

    /// An ended session's three counts (the provider's two), so the totals per provider can be
    /// compared on a dashboard as the usage report compares them per session.
    func recordAudioCounts(billedMs: Int64, edgeSentMs: Int64?, providerAudioMs: Int64, providerReportedSeconds: Int?) {
        audioCounts["billed"]?.increment(by: max(0, billedMs))
        if let edgeSentMs { audioCounts["edge_sent"]?.increment(by: max(0, edgeSentMs)) }
        audioCounts["provider_sent"]?.increment(by: max(0, providerAudioMs))
        if let providerReportedSeconds { audioCounts["provider_reported"]?.increment(by: Int64(max(0, providerReportedSeconds)) * 1000) }
    }

    /// Audio frames by outcome: accepted, duplicate, gap, rejected, provider_backpressure (waited, not dropped),
    /// refused_too_fast, dropped_slow_edge; anything else counts as other.
    package func recordFrame(_ outcome: String) {
        frames[FrameOutcome(label: outcome).rawValue].increment()
    }

    /// The per-frame hot path: an atomic add for the counter, one lock for the histogram.
    package func recordAcceptedFrame(relayMicroseconds: Int64) {
        acceptedFrames.increment()
        relayLatency.recordNanoseconds(min(max(0, relayMicroseconds), Self.maximumRelayMicroseconds) * 1_000)
    }

    func recordStreamEvent(_ event: String) {
        streamEvents.increment(event)
    }
}
