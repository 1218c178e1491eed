/// What became of an audio frame (or a control message to the edge), as counted in
/// `central_stream_frames_total`. A closed set, so every series exists from the start and the
/// per-frame call indexes an array instead of looking a string up.
enum FrameOutcome: Int, CaseIterable, Sendable {
    case accepted, duplicate, gap, rejected
    /// The frame waited for the provider's queue; it was not dropped.
    case providerBackpressure
    case refusedTooFast
    /// A control message to an edge that does not read.
    case droppedSlowEdge
    /// Any outcome string not above: a typo at a call site must not open a new series.
    case other

    /// The label value of each case, in case order.
    static let labels = [
        "accepted", "duplicate", "gap", "rejected", "provider_backpressure", "refused_too_fast", "dropped_slow_edge", "other",
    ]

    var label: String { Self.labels[rawValue] }

    /// A comparison per known outcome; no hashing, no allocation.
    init(label: String) {
        self = Self.labels.firstIndex(of: label).flatMap(Self.init(rawValue:)) ?? .other
    }
}
