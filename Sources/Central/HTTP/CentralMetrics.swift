import Hummingbird
import Synchronization

/// Counters exposed at `/metrics` in the Prometheus text format.
public final class CentralMetrics: Sendable {
    private struct Counters {
        var requests: [String: Int] = [:]
        var admissions: [String: Int] = [:]
        var authFailures: [String: Int] = [:]
        var frames: [String: Int] = [:]
        var streamEvents: [String: Int] = [:]
        var connectionsShed: [String: Int] = [:]
    }

    private let counters = Mutex(Counters())
    /// Capture time (from the frame) to hand-over to the provider. Meaningful when the edge's
    /// clock is synchronised with central's (always true for the load tool on the same host).
    let relayLatency = LatencyHistogram()

    public init() {}

    func recordRequest(method: String, status: Int) {
        counters.withLock { $0.requests["method=\"\(method)\",status=\"\(status)\"", default: 0] += 1 }
    }

    func recordAdmission(result: String) {
        counters.withLock { $0.admissions["result=\"\(result)\"", default: 0] += 1 }
    }

    func recordAuthFailure(kind: String) {
        counters.withLock { $0.authFailures["kind=\"\(kind)\"", default: 0] += 1 }
    }

    /// Audio frames by outcome: accepted, duplicate, gap, rejected, provider_backpressure (waited, not dropped), refused_too_fast, dropped_slow_edge.
    func recordFrame(_ outcome: String) {
        counters.withLock { $0.frames["outcome=\"\(outcome)\"", default: 0] += 1 }
    }

    /// The per-frame hot path: one lock for the counter, one for the latency histogram.
    func recordAcceptedFrame(relayMicroseconds: Int64) {
        counters.withLock { $0.frames[Self.acceptedLabel, default: 0] += 1 }
        relayLatency.record(microseconds: relayMicroseconds)
    }

    private static let acceptedLabel = "outcome=\"accepted\""

    func recordStreamEvent(_ event: String) {
        counters.withLock { $0.streamEvents["event=\"\(event)\"", default: 0] += 1 }
    }

    /// Connections central closed on its own: header/body/idle timeout, malformed or oversize head.
    func recordConnectionShed(reason: String) {
        counters.withLock { $0.connectionsShed["reason=\"\(reason)\"", default: 0] += 1 }
    }

    func render(activeLeases: Int, liveStreams: Int = 0) -> String {
        let snapshot = counters.withLock { $0 }
        var lines: [String] = []
        func family(_ name: String, _ type: String, _ help: String, _ values: [String: Int]) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) \(type)")
            for (labels, value) in values.sorted(by: { $0.key < $1.key }) {
                lines.append("\(name){\(labels)} \(value)")
            }
        }
        family("central_http_requests_total", "counter", "HTTP requests by method and status.", snapshot.requests)
        family("central_admissions_total", "counter", "Admission decisions by result.", snapshot.admissions)
        family("central_auth_failures_total", "counter", "Failed authentications by kind.", snapshot.authFailures)
        family("central_stream_frames_total", "counter", "Audio frames and control messages by outcome.", snapshot.frames)
        family(
            "central_http_connections_shed_total", "counter",
            "Connections central closed itself: header_timeout, body_timeout, idle_timeout, malformed_request, head_too_large.",
            snapshot.connectionsShed)
        family("central_stream_events_total", "counter", "Stream lifecycle events (started, detached, resumed, stopped_<reason>).", snapshot.streamEvents)
        lines += relayLatency.render(
            name: "central_relay_latency_seconds", help: "Audio frame capture to hand-over to the provider.")
        lines.append("# HELP central_live_streams Streaming sessions currently live (connected or awaiting resume).")
        lines.append("# TYPE central_live_streams gauge")
        lines.append("central_live_streams \(liveStreams)")
        lines.append("# HELP central_active_leases Concurrency leases currently held.")
        lines.append("# TYPE central_active_leases gauge")
        lines.append("central_active_leases \(activeLeases)")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Counts every response by method and status, after errors have become responses.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = CentralRequestContext
    let metrics: CentralMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response = try await next(request, context)
        metrics.recordRequest(method: request.method.rawValue, status: response.status.code)
        return response
    }
}
