import FakeProviders
import Foundation
import Hummingbird
import Logging
import NIOCore

/// Hummingbird's basic request context plus the request's connection, so an injected
/// `disconnect` can drop it without answering.
struct FakeLLMRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// An OpenAI-compatible chat upstream (DeepSeek, Qwen compatible mode, …) for tests:
/// `POST /v1/chat/completions`, streaming (server-sent events, a final usage-only chunk
/// `{"choices":[],"usage":{…}}` only when `stream_options.include_usage`) and not, and
/// `GET /v1/models`, with OpenAI's error bodies. The answer is the last user message, prefixed
/// "[fake-llm] "; tokens are counted as words. `max_completion_tokens` (else `max_tokens`) cuts
/// the answer to that many words, with `finish_reason: "length"` and the usage of what was sent.
/// Failures and pacing are queued through the control API (`FakeLLMState.Injection`).
enum FakeLLMServer {
    static let models = ["deepseek-chat", "qwen-plus", "fake-chat"]

    struct Options: Sendable {
        var host = "127.0.0.1"
        var port = 0
        var keys: Set<String> = []
    }

    /// Thrown to end a connection on purpose (an injected `disconnect`).
    struct InjectedDisconnect: Error {}

    static func buildApplication(options: Options, logger: Logger, onServerRunning: @escaping @Sendable (any Channel) async -> Void)
        -> some ApplicationProtocol
    {
        let state = FakeLLMState(validKeys: options.keys)
        let router = Router(context: FakeLLMRequestContext.self)
        router.get("/v1/models") { request, _ -> Response in
            if let refusal = refusal(state.keys.status(of: FakeCredential.bearer(request.headers[.authorization]))) { return refusal }
            let list: [String: Any] = ["object": "list", "data": models.map { ["id": $0, "object": "model", "created": 1_700_000_000, "owned_by": "fake"] }]
            return json(200, list)
        }
        router.post("/v1/chat/completions") { request, context -> Response in
            try await complete(request, context: context, state: state)
        }
        addControlRoutes(to: router, state: state)
        return Application(
            router: router,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "fake-llm"),
            onServerRunning: onServerRunning,
            logger: logger)
    }

    static func complete(_ request: Request, context: FakeLLMRequestContext, state: FakeLLMState) async throws -> Response {
        let key = FakeCredential.bearer(request.headers[.authorization])
        let body = try await request.body.collect(upTo: 1 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any]
        let messages = object?["messages"] as? [[String: Any]] ?? []
        let model = object?["model"] as? String
        let stream = object?["stream"] as? Bool ?? false
        let includeUsage = (object?["stream_options"] as? [String: Any])?["include_usage"] as? Bool ?? false
        let maxTokens = (object?["max_completion_tokens"] as? Int) ?? (object?["max_tokens"] as? Int)
        var report = FakeLLMState.RequestReport(
            keyHint: String((key ?? "").suffix(4)), model: model, messages: messages.count, stream: stream, status: 0,
            promptTokens: 0, completionTokens: 0, maxTokens: maxTokens, includeUsage: includeUsage)
        let refusedReport = report
        func refused(_ response: Response) async -> Response {
            var refusal = refusedReport
            refusal.status = Int(response.status.code)
            await state.record(refusal)
            return response
        }

        if let refusal = refusal(state.keys.status(of: key)) { return await refused(refusal) }
        var streamDelayMs = 5
        var disconnectAfter: Int?
        if let injection = await state.takeInjection() {
            switch injection.failure {
            case "slow": try await Task.sleep(for: .milliseconds(max(0, injection.delayMs ?? 2_000)))
            case "stream_slow": streamDelayMs = max(0, injection.delayMs ?? 300)
            case "disconnect": disconnectAfter = max(0, injection.afterChunks ?? 2)
            default:
                let status = Int(injection.failure) ?? 500
                return await refused(error(status, status == 429 ? "rate_limit_exceeded" : "server_error", "Injected failure."))
            }
        }
        guard let model, models.contains(model) else {
            return await refused(error(404, "model_not_found", "The model does not exist."))
        }
        guard !messages.isEmpty, messages.allSatisfy({ ["system", "user", "assistant"].contains($0["role"] as? String ?? "") && $0["content"] is String }) else {
            return await refused(error(400, "invalid_request_error", "messages must be a non-empty list of {role, content}."))
        }
        if let maxTokens, maxTokens < 1 {
            return await refused(error(400, "invalid_request_error", "max_tokens must be at least 1."))
        }

        let question = messages.last { $0["role"] as? String == "user" }?["content"] as? String ?? ""
        var answer = "[fake-llm] " + question
        var finishReason = "stop"
        if let maxTokens {
            let words = answer.split(separator: " ")
            if words.count > maxTokens {
                answer = words.prefix(maxTokens).joined(separator: " ")
                finishReason = "length"
            }
        }
        let prompt = messages.reduce(0) { $0 + (($1["content"] as? String)?.split(separator: " ").count ?? 0) }
        let completion = answer.split(separator: " ").count
        report.status = 200
        report.promptTokens = prompt
        report.completionTokens = completion
        report.finishReason = finishReason
        let usage: [String: Any] = ["prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion]
        let id = "chatcmpl-" + UUID().uuidString.prefix(12).lowercased()

        guard stream else {
            if disconnectAfter != nil {
                report.status = 0
                report.disconnected = true
                await state.record(report)
                try await drop(context.channel)
            }
            report.completed = true
            await state.record(report)
            return json(200, [
                "id": id, "object": "chat.completion", "created": Int(Date().timeIntervalSince1970), "model": model,
                "choices": [["index": 0, "message": ["role": "assistant", "content": answer], "finish_reason": finishReason]],
                "usage": usage,
            ])
        }
        var events: [String] = []
        func chunk(_ choices: [[String: Any]], usage: Any = NSNull()) -> String {
            let object: [String: Any] = [
                "id": id, "object": "chat.completion.chunk", "created": Int(Date().timeIntervalSince1970), "model": model,
                "choices": choices, "usage": usage,
            ]
            return "data: " + String(decoding: (try? JSONSerialization.data(withJSONObject: object)) ?? Data(), as: UTF8.self) + "\n\n"
        }
        events.append(chunk([["index": 0, "delta": ["role": "assistant", "content": ""], "finish_reason": NSNull()]]))
        for word in answer.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
            events.append(chunk([["index": 0, "delta": ["content": (word.offset == 0 ? "" : " ") + word.element], "finish_reason": NSNull()]]))
        }
        events.append(chunk([["index": 0, "delta": [:] as [String: Any], "finish_reason": finishReason]]))
        if includeUsage { events.append(chunk([], usage: usage)) }
        events.append("data: [DONE]\n\n")
        let buffers = events.map { ByteBuffer(string: $0) }
        let index = await state.record(report)
        let delayMs = streamDelayMs
        let cut = disconnectAfter
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                try await writeStream(buffers, to: &writer, delayMs: delayMs, disconnectAfter: cut, index: index, state: state)
            })
    }

    /// Writes a streamed answer chunk by chunk, `delayMs` apart, and records how it ended: all of
    /// it, the client gone (a write failed), or dropped on purpose after `disconnectAfter`
    /// chunks (thrown out of the body writer, so the server closes the connection without the
    /// chunked body's end).
    static func writeStream(
        _ buffers: [ByteBuffer], to writer: inout any ResponseBodyWriter, delayMs: Int, disconnectAfter: Int?, index: Int,
        state: FakeLLMState
    ) async throws {
        do {
            for (offset, buffer) in buffers.enumerated() {
                if let disconnectAfter, offset >= disconnectAfter { throw InjectedDisconnect() }
                if offset > 0 { try await Task.sleep(for: .milliseconds(delayMs)) }
                try await writer.write(buffer)
            }
            if disconnectAfter != nil { throw InjectedDisconnect() }
            try await writer.finish(nil)
        } catch let disconnect as InjectedDisconnect {
            await state.finish(index, .disconnected)
            throw disconnect
        } catch {
            await state.finish(index, .cancelled)
            throw error
        }
        await state.finish(index, .completed)
    }

    /// Closes the request's connection and throws, so the client gets no response at all: a
    /// handler's error would otherwise become a (valid) 500, whose write now fails instead.
    static func drop(_ channel: any Channel) async throws -> Never {
        let closed = channel.eventLoop.makePromise(of: Void.self)
        channel.close(mode: .all, promise: closed)
        try? await closed.futureResult.get()
        throw InjectedDisconnect()
    }

    static func refusal(_ status: FakeKeyStatus) -> Response? {
        switch status {
        case .unknown, .revoked: error(401, "invalid_api_key", "Incorrect API key provided.")
        case .rateLimited: error(429, "rate_limit_exceeded", "Rate limit reached.")
        case .valid: nil
        }
    }

    /// OpenAI's error body: `{"error":{"message","type","param","code"}}`.
    static func error(_ status: Int, _ code: String, _ message: String) -> Response {
        let type = status == 429 ? "rate_limit_error" : status >= 500 ? "server_error" : "invalid_request_error"
        return json(status, ["error": ["message": message, "type": type, "param": NSNull(), "code": code]])
    }

    static func json(_ status: Int, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8)
        return Response(
            status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func addControlRoutes(to router: Router<FakeLLMRequestContext>, state: FakeLLMState) {
        FakeControlRoutes.add(
            to: router, keys: state.keys, injection: FakeLLMState.Injection.self, inject: { await state.inject($0) },
            reset: { await state.reset() }, reportsName: "requests", reports: { await state.allRequests() })
    }
}
