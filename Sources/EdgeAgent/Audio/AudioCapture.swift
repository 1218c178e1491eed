import Dispatch
import Foundation
import Synchronization

/// A running capture: frames flow from a producer (the ALSA thread) to async consumers through
/// a bounded hand-off. When the consumer falls behind, the producer stops reading and the
/// device overruns — which ALSA reports and the producer recovers from — instead of memory
/// growing without bound.
public final class AudioCapture: Sendable {
    public let frames: CapturedFrames
    private let continuation: AsyncStream<PCMFrame>.Continuation
    private let slots: DispatchSemaphore
    private let stateBox = Mutex<CaptureState>(.starting)
    private let stopRequested = Atomic<Bool>(false)
    private let overruns = Atomic<Int>(0)

    /// `capacity`: frames that may wait for the consumer (default 25 = 0.5 s).
    public init(capacity: Int = 25) {
        let (stream, continuation) = AsyncStream<PCMFrame>.makeStream(bufferingPolicy: .unbounded)
        // Created at 0 and filled up: libdispatch traps when a semaphore is freed below its
        // initial value, which a hand-off with frames in flight would be.
        let slots = DispatchSemaphore(value: 0)
        for _ in 0..<capacity { slots.signal() }
        self.continuation = continuation
        self.slots = slots
        self.frames = CapturedFrames(base: stream, slots: slots)
    }

    public var state: CaptureState { stateBox.withLock { $0 } }
    public var isStopRequested: Bool { stopRequested.load(ordering: .acquiring) }
    /// Overruns and other recovered device errors so far.
    public var recoveredErrors: Int { overruns.load(ordering: .relaxed) }

    public func stop() {
        stopRequested.store(true, ordering: .releasing)
    }

    // MARK: Producer side (the capture thread)

    func setState(_ state: CaptureState) {
        stateBox.withLock { $0 = state }
    }

    func countRecoveredError() {
        overruns.add(1, ordering: .relaxed)
    }

    /// Waits for room in the hand-off; false when the capture was stopped meanwhile.
    func waitForRoom() -> Bool {
        while slots.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
            if isStopRequested { return false }
        }
        return !isStopRequested
    }

    /// Hands a frame over without waiting (the browser-microphone path runs on an event loop):
    /// false, and the frame is dropped, when the consumer is half a second behind.
    func offer(_ frame: PCMFrame) -> Bool {
        guard !isStopRequested, slots.wait(timeout: .now()) == .success else { return false }
        continuation.yield(frame)
        return true
    }

    func deliver(_ frame: PCMFrame) {
        continuation.yield(frame)
    }

    func finish() {
        setState(.stopped)
        continuation.finish()
    }
}

/// The captured frames; taking one frees a slot for the producer.
public struct CapturedFrames: AsyncSequence, Sendable {
    public typealias Element = PCMFrame
    let base: AsyncStream<PCMFrame>
    let slots: DispatchSemaphore

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncStream<PCMFrame>.AsyncIterator
        let slots: DispatchSemaphore

        public mutating func next() async -> PCMFrame? {
            let frame = await base.next()
            if frame != nil { slots.signal() }
            return frame
        }

        /// Resumes on the caller's actor: a consumer isolated to an actor (the capture pipeline
        /// runs on the link's) takes each frame in one hop, not via the global executor.
        public mutating func next(isolation actor: isolated (any Actor)?) async -> PCMFrame? {
            let frame = await base.next(isolation: actor)
            if frame != nil { slots.signal() }
            return frame
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), slots: slots)
    }
}
