/// Reads samples out of Prometheus text for assertions: series match on their name and on the
/// labels asked for, whatever other labels they carry (instance_id, provider).
struct PrometheusText {
    struct Sample {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    let samples: [Sample]

    init(_ text: String) {
        samples = text.split(separator: "\n").compactMap { line -> Sample? in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...])
            else { return nil }
            let series = line[..<space]
            guard let open = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
            // Label values here never hold `",` or `"}`: splitting on `",` is enough for tests.
            let pairs = series[series.index(after: open)..<series.index(before: series.endIndex)]
                .split(separator: "\",").map { $0.split(separator: "=", maxSplits: 1) }.filter { $0.count == 2 }
            let labels = Dictionary(pairs.map { (String($0[0]), String($0[1].dropFirst().prefix { $0 != "\"" })) }) { first, _ in first }
            return Sample(name: String(series[..<open]), labels: labels, value: value)
        }
    }

    /// The sum over every series of `name` that has all of `labels`; nil when none has.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
        return matching.isEmpty ? nil : matching.reduce(0) { $0 + $1.value }
    }
}
