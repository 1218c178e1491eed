import Foundation

/// Finds speech segments by energy: a segment starts after 60 ms above the threshold and ends
/// after 300 ms below it. Simple, deterministic, and honest about what it is.
public struct SpeechSegmenter {
    public enum Event: Equatable {
        /// Speech continues; emitted about every 500 ms inside a segment.
        case ongoing(index: Int, startMs: Int, endMs: Int)
        case ended(index: Int, startMs: Int, endMs: Int)
    }

    public var thresholdDBFS: Double = -42

    public init() {}
    private let onsetMs = 60
    private let hangoverMs = 300
    private let interimEveryMs = 500

    private var positionMs = 0
    private var loudRunMs = 0
    private var quietRunMs = 0
    private var segmentStartMs: Int?
    private var lastSpeechEndMs = 0
    private var lastInterimMs = 0
    public private(set) var segmentCount = 0

    /// RMS level of `samples` in dBFS (−∞ for silence is reported as −120).
    public static func levelDBFS(_ samples: ArraySlice<Int16>) -> Double {
        guard !samples.isEmpty else { return -120 }
        var sum = 0.0
        for sample in samples {
            let value = Double(sample) / 32_768
            sum += value * value
        }
        let rms = (sum / Double(samples.count)).squareRoot()
        return rms > 0 ? max(-120, 20 * log10(rms)) : -120
    }

    public mutating func process(levelDBFS: Double, durationMs: Int) -> Event? {
        defer { positionMs += durationMs }
        let loud = levelDBFS >= thresholdDBFS
        if loud {
            loudRunMs += durationMs
            quietRunMs = 0
            lastSpeechEndMs = positionMs + durationMs
        } else {
            quietRunMs += durationMs
            loudRunMs = 0
        }
        if let start = segmentStartMs {
            if quietRunMs >= hangoverMs {
                segmentStartMs = nil
                return .ended(index: segmentCount, startMs: start, endMs: lastSpeechEndMs)
            }
            if positionMs + durationMs - lastInterimMs >= interimEveryMs {
                lastInterimMs = positionMs + durationMs
                return .ongoing(index: segmentCount, startMs: start, endMs: positionMs + durationMs)
            }
        } else if loudRunMs >= onsetMs {
            segmentCount += 1
            let start = positionMs + durationMs - loudRunMs
            segmentStartMs = start
            lastInterimMs = positionMs + durationMs
            return .ongoing(index: segmentCount, startMs: start, endMs: positionMs + durationMs)
        }
        return nil
    }

    /// Ends an open segment at the end of the audio.
    public mutating func flush() -> Event? {
        guard let start = segmentStartMs else { return nil }
        segmentStartMs = nil
        return .ended(index: segmentCount, startMs: start, endMs: max(lastSpeechEndMs, start))
    }
}
