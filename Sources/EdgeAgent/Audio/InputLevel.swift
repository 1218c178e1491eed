import Foundation

/// Input level of a block of samples, for the page's meter.
public struct InputLevel: Sendable, Equatable, Codable {
    /// Root-mean-square level in dBFS (−120 for digital silence).
    public var rmsDBFS: Double
    /// Highest absolute sample in dBFS.
    public var peakDBFS: Double

    public static let silence = InputLevel(rmsDBFS: -120, peakDBFS: -120)

    public init(rmsDBFS: Double, peakDBFS: Double) {
        self.rmsDBFS = rmsDBFS
        self.peakDBFS = peakDBFS
    }

    public init(samples: some Collection<Int16>) {
        guard !samples.isEmpty else {
            self = .silence
            return
        }
        var sumOfSquares = 0.0
        var peak: Int32 = 0
        for sample in samples {
            let value = Double(sample)
            sumOfSquares += value * value
            peak = max(peak, abs(Int32(sample)))
        }
        let rms = (sumOfSquares / Double(samples.count)).squareRoot() / 32_768
        rmsDBFS = Self.decibels(rms)
        peakDBFS = Self.decibels(Double(peak) / 32_768)
    }

    static func decibels(_ amplitude: Double) -> Double {
        amplitude > 0 ? max(-120, 20 * log10(amplitude)) : -120
    }

    enum CodingKeys: String, CodingKey {
        case rmsDBFS = "rms_dbfs"
        case peakDBFS = "peak_dbfs"
    }
}
