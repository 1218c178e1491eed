import Foundation
import CoreMetrics
import Prometheus

/// Central's metrics: swift-metrics handles on a Prometheus registry that belongs to this
/// application, rendered at `/metrics`. Not the process-wide `MetricsSystem`: it can be
/// bootstrapped once per process, and tests run many applications in one.
///
/// Labels have bounded values: outcomes, results, reasons and codes from code, the provider's
/// name, the instance, route templates. Never a license, session or key.
public final class CentralMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// This application's factory, for code that makes its handles from `MetricsSystem.factory`
    /// (Hummingbird's `MetricsMiddleware`, under `MetricsFactoryMiddleware`).
    let factory: CentralMetricsFactory

    /// Each configured provider's stream series, made when central starts.
    private let streams: [String: ProviderStreamMetrics]
    /// Stream events before a provider is chosen (a refused stream, sessions settled at start):
    /// `provider="none"`.
    let unassignedStream: ProviderStreamMetrics
    /// Each chat upstream's series, made when central starts.
    private let chat: [String: ChatUpstreamMetrics]
    private let admissions: LabelledCounter
    private let authFailures: LabelledCounter
    private let connectionsShed: LabelledCounter
    private let liveStreams: CoreMetrics.Gauge
    private let activeLeases: CoreMetrics.Gauge

    /// - Parameters:
    ///   - providers: the `provider` label values of stream series (`SpeechProvider.info.name`).
    ///   - instance: the `instance_id` label of every series; the host name when nil.
    public init(
        providers: [String], chatUpstreams: [String] = [], instance: String? = nil,
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
    ) {
        let factory = CentralMetricsFactory(registry: registry, instance: instance ?? Self.hostName())
        self.registry = registry
        self.factory = factory
        var streams: [String: ProviderStreamMetrics] = [:]
        for provider in providers where streams[provider] == nil {
            streams[provider] = ProviderStreamMetrics(provider: provider, factory: factory)
        }
        self.streams = streams
        unassignedStream = ProviderStreamMetrics(provider: "none", factory: factory)
        var chat: [String: ChatUpstreamMetrics] = ["none": ChatUpstreamMetrics(upstream: "none", factory: factory)]
        for upstream in chatUpstreams where chat[upstream] == nil {
            chat[upstream] = ChatUpstreamMetrics(upstream: upstream, factory: factory)
        }
        self.chat = chat
        admissions = LabelledCounter(.admissions, by: "result", factory: factory)
        authFailures = LabelledCounter(.authFailures, by: "kind", factory: factory)
        connectionsShed = LabelledCounter(.connectionsShed, by: "reason", factory: factory)
        liveStreams = CoreMetrics.Gauge(label: CentralMetricFamily.liveStreams.label, factory: factory)
        activeLeases = CoreMetrics.Gauge(label: CentralMetricFamily.activeLeases.label, factory: factory)
    }

    /// The stream series of `provider`, looked up once per session. A name central was not
    /// started with (none can reach here from the network) counts as `none`.
    public func stream(provider: String) -> ProviderStreamMetrics {
        streams[provider] ?? unassignedStream
    }

    /// The chat series of `upstream`; a request refused before it had one counts as `none`.
    func chat(upstream: String) -> ChatUpstreamMetrics {
        chat[upstream] ?? chat["none"] ?? ChatUpstreamMetrics(upstream: "none", factory: factory)
    }

    func recordAdmission(result: String) {
        admissions.increment(result)
    }

    func recordAuthFailure(kind: String) {
        authFailures.increment(kind)
    }

    /// Connections central closed on its own: header/body/idle timeout, malformed or oversize head.
    func recordConnectionShed(reason: String) {
        connectionsShed.increment(reason)
    }

    /// The Prometheus text, with the gauges read now.
    func render(activeLeases leases: Int, liveStreams live: Int = 0) -> String {
        activeLeases.record(leases)
        liveStreams.record(live)
        return registry.emitToString()
    }

    /// This machine's name, without the DNS look-up `ProcessInfo.hostName` may do.
    static func hostName() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "central" }
        let bytes = name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return bytes.isEmpty ? "central" : String(decoding: bytes, as: UTF8.self)
    }
}
