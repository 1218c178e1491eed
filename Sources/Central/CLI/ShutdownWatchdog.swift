import Dispatch
import Foundation
import Logging

/// Bounds a graceful shutdown. Billing a stream's last audio and leaving the instance table need
/// the store; with the database unreachable (a partition drops packets, nothing resets the
/// connections) the shutdown could wait for TCP to give up, and an orchestrator would SIGKILL
/// at a moment of its own. After the grace the process exits by itself, with status 1: whatever
/// was not settled is settled as after a crash, by this instance's next start or by the others.
enum ShutdownWatchdog {
    /// Arms on the first SIGTERM or SIGINT (`central serve`'s service group handles the signal
    /// itself; this only adds the bound). Keep the returned sources alive.
    static func arm(grace: TimeInterval, logger: Logger) -> [any DispatchSourceSignal] {
        let armed = LockedValue(false)
        return [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                guard armed.withLock({ was in defer { was = true }; return !was }) else { return }
                DispatchQueue.global().asyncAfter(deadline: .now() + grace) {
                    logger.critical(
                        "graceful shutdown did not finish; exiting",
                        metadata: ["grace_seconds": "\(grace)"])
                    _exit(1)
                }
            }
            source.resume()
            return source
        }
    }
}
