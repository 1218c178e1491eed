import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 request written byte for byte to a loopback port, and what came back. HTTP
/// clients tidy paths (`//`, `/./`) and pick the Host themselves; abuse tests need neither.
struct RawHTTPExchange: Sendable {
    /// The status line's code, 0 when nothing parseable came back.
    let status: Int
    let head: String
    let body: String

    /// Sends `method path` with exactly `headers` (Host included when wanted) and `body`, then
    /// reads until the server closes, the answer is complete, or `timeout` passes. A 101 answer
    /// (an upgrade) ends at its head.
    static func send(
        port: Int, method: String, path: String, headers: [(String, String)], body: String = "",
        timeout: Duration = .seconds(5)
    ) async -> RawHTTPExchange {
        var text = "\(method) \(path) HTTP/1.1\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "Connection: close\r\n\r\n" + body
        let request = Array(text.utf8)
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        // Blocking socket calls run on their own thread, not the concurrency pool.
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(returning: exchange(port: port, request: request, timeout: seconds))
            }
        }
    }

    private static func exchange(port: Int, request: [UInt8], timeout: Double) -> RawHTTPExchange {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return RawHTTPExchange(status: 0, head: "socket failed", body: "") }
        defer { close(fd) }
        var wait = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return RawHTTPExchange(status: 0, head: "connect failed", body: "") }
        var sent = 0
        while sent < request.count {
            let count = request[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { break }
            sent += count
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let count = chunk.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            received += chunk[..<count]
            if let answer = complete(received) { return answer }
        }
        return parse(received)
    }

    /// The answer once its head and Content-Length body (or a 101 head) are in.
    private static func complete(_ bytes: [UInt8]) -> RawHTTPExchange? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return nil }
        let answer = parse(bytes)
        if answer.status == 101 { return answer }
        let length = answer.head.split(separator: "\r\n")
            .first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)) }
        guard let length else { return nil }
        return text[end.upperBound...].utf8.count >= length ? answer : nil
    }

    private static func parse(_ bytes: [UInt8]) -> RawHTTPExchange {
        let text = String(decoding: bytes, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        let head = parts.first ?? ""
        let statusLine = head.split(separator: "\r\n").first ?? ""
        let fields = statusLine.split(separator: " ")
        let status = fields.count > 1 ? Int(fields[1]) ?? 0 : 0
        return RawHTTPExchange(status: status, head: head, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    /// The error code of a `{"error":{"code":…}}` body.
    var errorCode: String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
              let error = object["error"] as? [String: Any] else { return nil }
        return error["code"] as? String
    }
}
