import AsyncHTTPClient
@testable import EdgeAgent
import Foundation
import Logging
import Synchronization
import Testing

@Suite(.bounded) struct CapturePipelineTests {
    /// A link that was never opened: it takes packets and drops them.
    static func idleLink() throws -> CentralLink {
        let central = CentralClient(baseURL: try #require(URL(string: "http://127.0.0.1:9")), licenseKey: "unused", client: .shared)
        return CentralLink(central: central, tls: nil, deviceID: "pipeline-test", logger: Logger(label: "pipeline-test"))
    }

    @Test func aLevelReadingEveryHundredMillisecondsUntilTheCaptureEnds() async throws {
        let capture = AudioCapture(capacity: 100)
        let tone = (0..<320).map { Int16(3_277 * sin(2 * .pi * 440 * Double($0) / 16_000)) }
        for index in 0..<52 {
            capture.deliver(PCMFrame(samples: tone, captureTimeMicroseconds: UInt64(index) * 20_000))
        }
        capture.finish()
        let levels = Mutex<[InputLevel]>([])
        let pipeline = CapturePipeline(capture: capture, settings: OpusEncoderSettings(), link: try Self.idleLink()) { level in
            levels.withLock { $0.append(level) }
        }
        await pipeline.run()
        let heard = levels.withLock { $0 }
        #expect(heard.count == 10)
        // A sine at -20 dBFS peak is about -23 dBFS RMS.
        #expect(heard.allSatisfy { abs($0.rmsDBFS - -23.0) < 0.5 && abs($0.peakDBFS - -20.0) < 0.1 }, "\(heard)")
    }
}
