import Foundation

/// One block of captured audio: 20 ms of mono 16-bit PCM.
public struct PCMFrame: Sendable, Equatable {
    public var samples: [Int16]
    /// Wall-clock time the block was read, microseconds since the Unix epoch.
    public var captureTimeMicroseconds: UInt64

    public init(samples: [Int16], captureTimeMicroseconds: UInt64) {
        self.samples = samples
        self.captureTimeMicroseconds = captureTimeMicroseconds
    }
}

/// A capture device as the page lists it.
public struct AudioDevice: Sendable, Equatable, Codable {
    /// The name to open, e.g. `default` or `hw:CARD=PCH,DEV=0`.
    public var name: String
    public var description: String

    public init(name: String, description: String) {
        self.name = name
        self.description = description
    }
}

/// What the capture is doing, for `/api/status` and the page.
public enum CaptureState: Sendable, Equatable {
    case starting
    case capturing
    /// The device failed and is being reopened; the message says why.
    case reopening(String)
    /// No capture device could be opened.
    case noDevice(String)
    case stopped
}

/// The seam to the microphone: ALSA on Linux; tests and the browser-microphone mode supply others.
public protocol AudioSource: Sendable {
    func devices() -> [AudioDevice]
    /// nil when `device` can be opened for capture right now, else why not.
    func probe(device: String) -> String?
    /// Starts capturing 20 ms frames from `device` until the capture is stopped.
    func capture(device: String, sampleRate: Int) -> AudioCapture
}
