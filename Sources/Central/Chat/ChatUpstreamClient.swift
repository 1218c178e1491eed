import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Protocol

/// Opens a chat completion at an upstream with the vault's keys for it. A key refused (401,
/// 403), throttled (429), failing (5xx) or unreachable before the answer starts is reported
/// to the vault (which cools it down as it does for speech keys) and the next key is tried:
/// the client sees none of it. Nothing the upstream says, and no key, reaches the client.
struct ChatUpstreamClient: Sendable {
    let http: HTTPClient
    let keys: any ProviderKeySource
    let logger: Logger
    /// The most keys one request tries.
    static let maxAttempts = 6

    enum Failure: Error, Equatable {
        /// No usable key (none stored, all disabled or cooling down).
        case noKey
        /// Every key tried failed.
        case unavailable
        /// The last key tried did not answer in time.
        case timeout
        /// The upstream refused the request itself (a 4xx other than 401/403/429): trying
        /// another key would not help.
        case rejected(status: Int)
    }

    /// A started answer: the response, and the key serving it, to report when it is over.
    struct Opened: Sendable {
        var response: HTTPClientResponse
        var keyID: String
    }

    /// A client whose read timeout bounds both the wait for the first byte and any pause in a
    /// streamed answer; a whole answer may take as long as it streams.
    static func makeHTTPClient(settings: ChatSettings) -> HTTPClient {
        let seconds = Int64(settings.timeout.components.seconds) * 1000 + settings.timeout.components.attoseconds / 1_000_000_000_000_000
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(10), read: .milliseconds(max(1_000, seconds)))
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func open(_ upstream: ChatUpstream, body: ByteBuffer, stream: Bool, metrics: ChatUpstreamMetrics) async throws(Failure) -> Opened {
        var tried: Set<String> = []
        var last = Failure.noKey
        while tried.count < Self.maxAttempts, let key = await keys.checkout(provider: upstream.keyProvider) {
            guard !tried.contains(key.id) else {
                // Round-robin came back to a key that already failed this request.
                await keys.release(keyID: key.id)
                break
            }
            tried.insert(key.id)
            var request = HTTPClientRequest(url: upstream.baseURL + "/chat/completions")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(key.secret)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Accept", value: stream ? "text/event-stream" : "application/json")
            request.body = .bytes(body)
            do {
                let response = try await http.execute(request, timeout: .hours(2), logger: logger)
                let status = Int(response.status.code)
                if status == 200 {
                    metrics.recordAttempt(result: "ok")
                    return Opened(response: response, keyID: key.id)
                }
                // The refusal's text is the upstream's: read and dropped, never passed on.
                _ = try? await response.body.collect(upTo: 64 * 1024)
                switch status {
                case 401, 403:
                    metrics.recordAttempt(result: "auth_failed")
                    await keys.report(keyID: key.id, outcome: .authFailed("HTTP \(status)"))
                case 429:
                    metrics.recordAttempt(result: "rate_limited")
                    await keys.report(keyID: key.id, outcome: .rateLimited("HTTP 429"))
                case 500...:
                    metrics.recordAttempt(result: "server_error")
                    await keys.report(keyID: key.id, outcome: .failed("HTTP \(status)"))
                default:
                    metrics.recordAttempt(result: "rejected")
                    await keys.report(keyID: key.id, outcome: .used(audioMs: 0))
                    logger.notice("chat upstream rejected a request", metadata: ["upstream": "\(upstream.name)", "status": "\(status)"])
                    throw Failure.rejected(status: status)
                }
                logger.warning("chat upstream refused", metadata: ["upstream": "\(upstream.name)", "status": "\(status)", "key": "\(key.id)"])
                last = .unavailable
            } catch let failure as Failure {
                throw failure
            } catch {
                metrics.recordAttempt(result: "unreachable")
                await keys.report(keyID: key.id, outcome: .failed("unreachable"))
                let timedOut = (error as? HTTPClientError).map { [.readTimeout, .deadlineExceeded, .connectTimeout].contains($0) } ?? false
                logger.warning("chat upstream unreachable", metadata: ["upstream": "\(upstream.name)", "error": "\(type(of: error))", "key": "\(key.id)"])
                last = timedOut ? .timeout : .unavailable
            }
        }
        if tried.isEmpty { metrics.recordAttempt(result: "no_key") }
        throw last
    }
}
