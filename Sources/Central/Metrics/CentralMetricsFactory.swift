import CoreMetrics
import Prometheus

/// swift-metrics' factory for one application's Prometheus registry. Names, help lines and
/// buckets come from `CentralMetricFamily` (a label it does not know keeps its own name); every
/// series gets the instance label. Handles are made once per label set and kept by the caller.
struct CentralMetricsFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry
    let instance: String

    /// swift-prometheus' own factory on the same registry: its defaults, and what it does to destroy a handle.
    private var prometheus: PrometheusMetricsFactory { PrometheusMetricsFactory(registry: registry) }

    private func resolve(_ label: String, _ dimensions: [(String, String)])
        -> (descriptor: MetricNameDescriptor, labels: [(String, String)], buckets: [Duration])
    {
        let family = CentralMetricFamily.byLabel[label] ?? CentralMetricFamily(label, help: "")
        let labels = dimensions.map { (CentralMetricFamily.labelNames[$0.0] ?? $0.0, $0.1) }
            + [(CentralMetricFamily.instanceLabel, instance)]
        // The name is whole already (unit included): no namespace or unit to join.
        return (MetricNameDescriptor(metricName: family.name, unitName: "", helpText: family.help), labels, family.buckets)
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        let series = resolve(label, dimensions)
        return registry.makeCounter(descriptor: series.descriptor, labels: series.labels)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        let series = resolve(label, dimensions)
        return registry.makeCounter(descriptor: series.descriptor, labels: series.labels)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        let series = resolve(label, dimensions)
        guard aggregate else { return registry.makeGauge(descriptor: series.descriptor, labels: series.labels) }
        return registry.makeValueHistogram(
            descriptor: series.descriptor, labels: series.labels, buckets: prometheus.defaultValueHistogramBuckets)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        let series = resolve(label, dimensions)
        return registry.makeGauge(descriptor: series.descriptor, labels: series.labels)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let series = resolve(label, dimensions)
        let buckets = series.buckets.isEmpty ? prometheus.defaultDurationHistogramBuckets : series.buckets
        return registry.makeDurationHistogram(descriptor: series.descriptor, labels: series.labels, buckets: buckets)
    }

    func destroyCounter(_ handler: any CounterHandler) { prometheus.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { prometheus.destroyFloatingPointCounter(handler) }
    func destroyRecorder(_ handler: any RecorderHandler) { prometheus.destroyRecorder(handler) }
    func destroyMeter(_ handler: any MeterHandler) { prometheus.destroyMeter(handler) }
    func destroyTimer(_ handler: any TimerHandler) { prometheus.destroyTimer(handler) }
}
