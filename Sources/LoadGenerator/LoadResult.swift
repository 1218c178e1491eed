import Foundation

/// The numbers of one measured window, printed as a table row and as a `result key=value …` line
/// for scripts (scripts/bench-pinned.sh).
struct LoadResult: Sendable {
    struct ProcessUsage: Sendable {
        let name: String
        let cpuPercent: Double
        let microsecondsPerFrame: Double
        let residentMB: Double
        let kilobytesPerStream: Double
    }

    let streams: Int
    let window: StreamStats
    /// Why streams never streamed (refused admissions or upgrades, closes before `started`), by reason.
    let failedToOpen: [String: Int]
    let seconds: Double
    let acceptedFrames: Double
    let droppedFrames: Double
    let relayP50: Double
    let relayP99: Double
    let loadgenCPUPercent: Double
    let processes: [ProcessUsage]

    static let header = "streams  held  offered/s  accepted/s  acked/s  relay p50  relay p99  dropped  held back  ack lag p99  loadgen cpu%  [process: cpu%  µs/frame  rss MB  KB/stream]  errors"

    var perSecond: (offered: Double, accepted: Double, acked: Double) {
        (Double(window.framesSent) / seconds, acceptedFrames / seconds, Double(window.framesAcked) / seconds)
    }

    var tableRow: String {
        let rates = perSecond
        var row = String(
            format: "%7d  %4d  %9.0f  %10.0f  %7.0f  ≤%6.1f ms  ≤%6.1f ms  %7.0f  %9d  ≤%7.0f ms  %12.1f",
            streams, window.streaming, rates.offered, rates.accepted, rates.acked, relayP50, relayP99, droppedFrames,
            window.framesHeldBack, window.ackLag.quantile(0.99), loadgenCPUPercent)
        for usage in processes {
            row += "  [\(usage.name): " + String(
                format: "%5.1f  %7.1f  %6.1f  %7.1f]", usage.cpuPercent, usage.microsecondsPerFrame,
                usage.residentMB, usage.kilobytesPerStream)
        }
        return row + "  " + errorSummary
    }

    var resultLine: String {
        let rates = perSecond
        var fields: [(String, String)] = [
            ("streams", "\(streams)"), ("held", "\(window.streaming)"), ("failed_to_open", "\(failedToOpen.values.reduce(0, +))"),
            ("seconds", Self.number(seconds)),
            ("offered_per_s", Self.number(rates.offered)), ("accepted_per_s", Self.number(rates.accepted)),
            ("acked_per_s", Self.number(rates.acked)), ("dropped", Self.number(droppedFrames)),
            ("held_back", "\(window.framesHeldBack)"), ("ticks_skipped", "\(window.ticksSkipped)"),
            ("relay_p50_ms", Self.number(relayP50)), ("relay_p99_ms", Self.number(relayP99)),
            ("ack_lag_p50_ms", Self.number(window.ackLag.quantile(0.5))), ("ack_lag_p99_ms", Self.number(window.ackLag.quantile(0.99))),
            ("loadgen_cpu_pct", Self.number(loadgenCPUPercent)),
        ]
        for usage in processes {
            fields += [
                ("\(usage.name)_cpu_pct", Self.number(usage.cpuPercent)),
                ("\(usage.name)_us_per_frame", Self.number(usage.microsecondsPerFrame)),
                ("\(usage.name)_rss_mb", Self.number(usage.residentMB)),
                ("\(usage.name)_kb_per_stream", Self.number(usage.kilobytesPerStream)),
            ]
        }
        fields.append(("errors", errorSummary.replacingOccurrences(of: " ", with: "")))
        return "result " + fields.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
    }

    /// Errors and `stopped` reasons in the window, and why streams failed to open, by code.
    private var errorSummary: String {
        let all = window.errors.merging(window.stopped.map { ("stopped_\($0.key)", $0.value) }, uniquingKeysWith: +)
            .merging(failedToOpen.map { ("failed_to_open_\($0.key)", $0.value) }, uniquingKeysWith: +)
        return all.isEmpty ? "none" : all.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
    }

    private static func number(_ value: Double) -> String {
        value.isFinite ? String(format: "%.1f", value) : (value.isNaN ? "nan" : "inf")
    }
}
