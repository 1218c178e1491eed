import Central
import Protocol

extension SpeechProviderSession {
    /// Hands one frame over, waiting while the provider's queue is full, for at most `timeout`
    /// (the stream core holds the frame on its event loop instead; tests just wait).
    func send(_ frame: AudioFrame, waitingUpTo timeout: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if send(frame) { return true }
            do { try await Task.sleep(for: .milliseconds(5)) } catch { return false }
        }
        return false
    }
}
