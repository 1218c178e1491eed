/// Every metric family central exposes at `/metrics`, in one place: the swift-metrics label a
/// handle is made with, the Prometheus name (with its unit: `_total`, `_seconds`) and help line,
/// and a histogram's buckets. Hummingbird's `MetricsMiddleware` names its metrics the
/// OpenTelemetry way; they are mapped to conventional Prometheus names here.
struct CentralMetricFamily: Sendable {
    /// The label swift-metrics code creates the handle with.
    let label: String
    let name: String
    let help: String
    /// Histogram upper bounds; empty for other types (and for histograms that take the defaults).
    var buckets: [Duration] = []

    init(_ label: String, as name: String? = nil, help: String, buckets: [Duration] = []) {
        self.label = label
        self.name = name ?? label
        self.help = help
        self.buckets = buckets
    }

    static let admissions = Self("central_admissions_total", help: "Admission decisions by result.")
    static let authFailures = Self("central_auth_failures_total", help: "Failed authentications by kind.")
    static let streamFrames = Self(
        "central_stream_frames_total", help: "Audio frames and control messages by outcome and provider.")
    static let streamEvents = Self(
        "central_stream_events_total",
        help: "Stream lifecycle events (started, detached, resumed, refused_<code>, stopped_<reason>) by provider.")
    static let connectionsShed = Self(
        "central_http_connections_shed_total",
        help: "Connections central closed itself: header_timeout, body_timeout, idle_timeout, malformed_request, head_too_large.")
    static let relayLatency = Self(
        "central_relay_latency_seconds", help: "Audio frame capture to hand-over to the provider, by provider.",
        buckets: [100, 250, 500, 1_000, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 20_000, 30_000, 50_000, 100_000, 250_000,
                  1_000_000].map { .microseconds($0) })
    static let audioCounts = Self(
        "central_stream_audio_milliseconds_total",
        help: "Audio of ended sessions by count (billed, edge_sent, provider_sent, provider_reported) and provider: the three counts reconciled.")
    static let chatRequests = Self(
        "central_chat_requests_total",
        help: "Chat proxy requests by outcome (completed, client_disconnected, upstream_broke_off, upstream_failed, refused_<code>) and upstream.")
    static let chatTokens = Self(
        "central_chat_tokens_total", help: "Chat tokens billed by kind (input, output) and upstream.")
    static let chatUpstreamAttempts = Self(
        "central_chat_upstream_attempts_total",
        help: "Calls to a chat upstream by result (ok, auth_failed, rate_limited, server_error, rejected, unreachable, no_key) and upstream.")
    static let liveStreams = Self(
        "central_live_streams", help: "Streaming sessions currently live (connected or awaiting resume).")
    static let activeLeases = Self("central_active_leases", help: "Concurrency leases currently held.")

    /// Hummingbird's `MetricsMiddleware`; `route` is the router's template, never the raw path.
    static let httpRequests = Self(
        "hb.requests", as: "central_http_requests_total", help: "HTTP requests by route, method and status.")
    static let httpRequestDuration = Self(
        "http.server.request.duration", as: "central_http_request_duration_seconds",
        help: "HTTP request handling until the response is written, by route, method and status.",
        buckets: [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000].map { .milliseconds($0) })
    static let httpRequestErrors = Self(
        "hb.request.errors", as: "central_http_request_errors_total",
        help: "HTTP requests whose handling threw past the error middleware, by route, method and status.")
    static let httpActiveRequests = Self(
        "http.server.active_requests", as: "central_http_active_requests", help: "HTTP requests being handled, by method.")

    static let all = [
        admissions, authFailures, streamFrames, streamEvents, audioCounts, chatRequests, chatTokens, chatUpstreamAttempts,
        connectionsShed, relayLatency, liveStreams, activeLeases,
        httpRequests, httpRequestDuration, httpRequestErrors, httpActiveRequests,
    ]

    static let byLabel = Dictionary(uniqueKeysWithValues: all.map { ($0.label, $0) })

    /// Hummingbird's (OpenTelemetry) dimension names to ours.
    static let labelNames = [
        "http.route": "route", "http.request.method": "method", "http.response.status_code": "status", "error.type": "status",
    ]

    /// On every series: which central it comes from. Not `instance`, which Prometheus sets to the
    /// scraped address (and would rename ours to `exported_instance`).
    static let instanceLabel = "instance_id"
}
