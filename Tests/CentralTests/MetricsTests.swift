@testable import Central
import Foundation
import Testing

/// `/metrics` through swift-metrics and swift-prometheus: conventional names, bounded labels, one
/// registry per application.
struct MetricsTests {
    @Test func frameOutcomesAreAClosedSetWithTheProviderAndInstance() {
        let metrics = CentralMetrics(providers: ["demo"], instance: "central-a")
        metrics.stream(provider: "demo").recordFrame("duplicate")
        metrics.stream(provider: "demo").recordFrame("duplicate")
        metrics.stream(provider: "demo").recordFrame("no_such_outcome")
        metrics.stream(provider: "demo").recordAcceptedFrame(relayMicroseconds: 1_500)
        let text = PrometheusText(metrics.render(activeLeases: 3, liveStreams: 2))
        let mine = ["provider": "demo", "instance_id": "central-a"]
        #expect(text.value("central_stream_frames_total", mine.merging(["outcome": "duplicate"]) { $1 }) == 2)
        #expect(text.value("central_stream_frames_total", mine.merging(["outcome": "other"]) { $1 }) == 1)
        #expect(text.value("central_stream_frames_total", mine.merging(["outcome": "accepted"]) { $1 }) == 1)
        // Every outcome has its series from the start.
        #expect(FrameOutcome.labels.count == FrameOutcome.allCases.count)
        for outcome in FrameOutcome.allCases {
            #expect(text.value("central_stream_frames_total", ["outcome": outcome.label]) != nil, "\(outcome)")
        }
        #expect(text.value("central_relay_latency_seconds_bucket", mine.merging(["le": "0.002"]) { $1 }) == 1)
        #expect(text.value("central_relay_latency_seconds_bucket", ["le": "0.001"]) == 0)
        #expect(text.value("central_relay_latency_seconds_count", mine) == 1)
        #expect(text.value("central_active_leases", ["instance_id": "central-a"]) == 3)
        #expect(text.value("central_live_streams") == 2)
    }

    /// Central runs several providers at once: each session counts under its own provider.
    @Test func eachProviderHasItsOwnStreamSeries() {
        let metrics = CentralMetrics(providers: ["dashscope", "demo"], instance: "central-a")
        metrics.stream(provider: "dashscope").recordAcceptedFrame(relayMicroseconds: 900)
        metrics.stream(provider: "dashscope").recordAcceptedFrame(relayMicroseconds: 900)
        metrics.stream(provider: "demo").recordAcceptedFrame(relayMicroseconds: 900)
        metrics.stream(provider: "demo").recordStreamEvent("started")
        metrics.unassignedStream.recordStreamEvent("refused_minutes_exhausted")
        // A name central was not started with cannot make a series of its own.
        metrics.stream(provider: "no-such-provider").recordFrame("gap")
        let text = PrometheusText(metrics.render(activeLeases: 0))
        #expect(text.value("central_stream_frames_total", ["outcome": "accepted", "provider": "dashscope"]) == 2)
        #expect(text.value("central_stream_frames_total", ["outcome": "accepted", "provider": "demo"]) == 1)
        #expect(text.value("central_relay_latency_seconds_count", ["provider": "dashscope"]) == 2)
        #expect(text.value("central_stream_events_total", ["event": "started", "provider": "demo"]) == 1)
        #expect(text.value("central_stream_events_total", ["event": "refused_minutes_exhausted", "provider": "none"]) == 1)
        #expect(text.value("central_stream_frames_total", ["outcome": "gap", "provider": "none"]) == 1)
        #expect(!text.samples.contains { $0.labels["provider"] == "no-such-provider" })
    }

    @Test func everyFamilyHasItsTypeAndHelp() {
        let metrics = CentralMetrics(providers: ["demo"], instance: "central-a")
        metrics.recordAdmission(result: "admitted")
        let text = metrics.render(activeLeases: 0)
        #expect(text.contains("# TYPE central_stream_frames_total counter"))
        #expect(text.contains("# TYPE central_relay_latency_seconds histogram"))
        #expect(text.contains("# TYPE central_live_streams gauge"))
        #expect(text.contains("# HELP central_admissions_total Admission decisions by result."))
    }

    /// Tests run many applications in one process: none sees another's counts.
    @Test func eachApplicationHasItsOwnRegistry() {
        let first = CentralMetrics(providers: ["demo"], instance: "same")
        let second = CentralMetrics(providers: ["demo"], instance: "same")
        first.stream(provider: "demo").recordFrame("gap")
        first.recordAdmission(result: "admitted")
        let text = PrometheusText(second.render(activeLeases: 0))
        #expect(text.value("central_stream_frames_total", ["outcome": "gap"]) == 0)
        #expect(text.value("central_admissions_total") == nil)
    }

    @Test func rarerEventsStopAtABoundedNumberOfSeries() {
        let metrics = CentralMetrics(providers: ["demo"], instance: "central-a")
        for index in 0..<200 { metrics.stream(provider: "demo").recordStreamEvent("stopped_\(index)") }
        let text = PrometheusText(metrics.render(activeLeases: 0))
        let series = text.samples.filter { $0.name == "central_stream_events_total" }
        #expect(series.count == LabelledCounter.limit)
        #expect(text.value("central_stream_events_total") == 200)
        #expect(text.value("central_stream_events_total", ["event": "other"]) == Double(200 - LabelledCounter.limit + 1))
    }

    /// The relay-latency histogram takes the edge's capture clock at its word: it must survive any value.
    @Test func hostileCaptureTimesCannotOverflowTheHistogram() {
        let metrics = CentralMetrics(providers: ["demo"])
        for _ in 0..<10_000 { metrics.stream(provider: "demo").recordAcceptedFrame(relayMicroseconds: .max) }
        metrics.stream(provider: "demo").recordAcceptedFrame(relayMicroseconds: .min)
        let text = PrometheusText(metrics.render(activeLeases: 0))
        #expect(text.value("central_relay_latency_seconds_count") == 10_001)
        #expect(text.value("central_relay_latency_seconds_sum") != nil)
        #expect(text.value("central_relay_latency_seconds_bucket", ["le": "1.0"]) == 1)
    }

    /// Route labels are the router's templates: an id in a path never becomes a series, and no
    /// license key shows anywhere.
    @Test func requestSeriesUseRouteTemplates() async throws {
        let fixture = try CentralFixture()
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            #expect(try await central.admin(.get, "/v1/admin/licenses/\(id)").status == .ok)
            #expect(try await central.request(.get, "/no/such/\(id)").status == .notFound)
            let raw = try await central.request(.get, "/metrics").text
            let text = PrometheusText(raw)
            let show = ["route": "/v1/admin/licenses/{id}", "method": "GET", "status": "200"]
            #expect(text.value("central_http_requests_total", show) == 1, "\(raw)")
            #expect(text.value("central_http_request_duration_seconds_count", show) == 1)
            #expect(text.value("central_http_requests_total", ["status": "404"]) == 1)
            #expect(!raw.contains(id) && !raw.contains(key))
        }
    }
}
