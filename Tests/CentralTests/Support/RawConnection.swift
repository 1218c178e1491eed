import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to a loopback port that sends exactly the bytes it is given and
/// reports when the server closes it: for tests of what central does with clients that stall,
/// drip bytes or send garbage. Blocking calls run on their own threads, never on the test's
/// concurrency pool.
final class RawConnection: @unchecked Sendable {
    // @unchecked: the descriptor is written once in init; the kernel serialises its use.
    let descriptor: Int32

    /// Connects, or returns nil when the connection is refused.
    init?(port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            return nil
        }
        descriptor = fd
    }

    deinit { Glibc.close(descriptor) }

    /// Writes everything; false when the server already closed.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return false }
            sent += count
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// What the server sent until it closed the connection or `timeout` passed.
    struct Outcome: Sendable, CustomStringConvertible {
        let bytes: [UInt8]
        /// The server closed (EOF or reset) before the timeout.
        let closed: Bool
        /// How long the wait lasted.
        let elapsed: Duration

        var text: String { String(decoding: bytes, as: UTF8.self) }
        var description: String {
            "\(bytes.count) bytes (\(text.prefix(60).debugDescription)…), \(closed ? "closed" : "open") after \(elapsed)"
        }

        /// The status code of the first response line, 0 when none came.
        var status: Int {
            guard text.hasPrefix("HTTP/1.1 ") else { return 0 }
            return Int(text.dropFirst(9).prefix(3)) ?? 0
        }
    }

    /// Reads until the server closes or `timeout` passes.
    func waitForClose(timeout: Duration) async -> Outcome {
        await Self.onThread { self.blockingRead(timeout: timeout, stopAfter: nil) }
    }

    /// Reads until at least `count` bytes came, the server closed, or `timeout` passed.
    func read(atLeast count: Int, timeout: Duration) async -> Outcome {
        await Self.onThread { self.blockingRead(timeout: timeout, stopAfter: count) }
    }

    /// Whether the server has closed this connection by now (without waiting).
    var isClosedByServer: Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 0) > 0 else { return false }
        var byte: UInt8 = 0
        return recv(descriptor, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT)) <= 0
    }

    private func blockingRead(timeout: Duration, stopAfter: Int?) -> Outcome {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + timeout
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while clock.now < deadline {
            let left = deadline - clock.now
            let milliseconds = max(1, Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, milliseconds) > 0 else { continue }
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { return Outcome(bytes: received, closed: true, elapsed: clock.now - start) }
            received += chunk[..<count]
            if let stopAfter, received.count >= stopAfter {
                return Outcome(bytes: received, closed: false, elapsed: clock.now - start)
            }
        }
        return Outcome(bytes: received, closed: false, elapsed: clock.now - start)
    }

    /// Waits until the server has closed every one of `connections`, or `timeout` passes;
    /// returns how many it closed.
    static func waitUntilClosed(_ connections: [RawConnection], timeout: Duration) async -> Int {
        await onThread {
            let clock = ContinuousClock()
            let deadline = clock.now + timeout
            var open = Set(connections.indices)
            var chunk = [UInt8](repeating: 0, count: 4096)
            while !open.isEmpty, clock.now < deadline {
                var pollers = open.map { pollfd(fd: connections[$0].descriptor, events: Int16(POLLIN), revents: 0) }
                guard poll(&pollers, nfds_t(pollers.count), 100) > 0 else { continue }
                for poller in pollers where poller.revents != 0 {
                    let count = chunk.withUnsafeMutableBytes { recv(poller.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                    if count < 0, errno == EAGAIN || errno == EINTR { continue }
                    if count <= 0, let index = open.first(where: { connections[$0].descriptor == poller.fd }) {
                        open.remove(index)
                    }
                }
            }
            return connections.count - open.count
        }
    }

    private static func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: body()) }
        }
    }
}
