import FakeProviders
import Foundation
import Hummingbird
import Logging
import NIOCore

/// An OpenAI-compatible chat upstream (DeepSeek, Qwen compatible mode, …) for tests:
/// `POST /v1/chat/completions`, streaming (server-sent events, a final usage chunk when
/// `stream_options.include_usage`) and not, and `GET /v1/models`, with OpenAI's error bodies.
/// The answer is the last user message, prefixed "[fake-llm] "; tokens are counted as words.
enum FakeLLMServer {
    static let models = ["deepseek-chat", "qwen-plus", "fake-chat"]

    struct Options: Sendable {
        var host = "127.0.0.1"
        var port = 0
        var keys: Set<String> = []
    }

    static func buildApplication(options: Options, logger: Logger, onServerRunning: @escaping @Sendable (any Channel) async -> Void)
        -> some ApplicationProtocol
    {
        let state = FakeLLMState(validKeys: options.keys)
        let router = Router()
        router.get("/v1/models") { request, _ -> Response in
            if let refusal = refusal(state.keys.status(of: FakeCredential.bearer(request.headers[.authorization]))) { return refusal }
            let list: [String: Any] = ["object": "list", "data": models.map { ["id": $0, "object": "model", "created": 1_700_000_000, "owned_by": "fake"] }]
            return json(200, list)
        }
        router.post("/v1/chat/completions") { request, context -> Response in
            let key = FakeCredential.bearer(request.headers[.authorization])
            let body = try await request.body.collect(upTo: 1 << 20)
            let object = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any]
            let messages = object?["messages"] as? [[String: Any]] ?? []
            let model = object?["model"] as? String
            let stream = object?["stream"] as? Bool ?? false
            let includeUsage = (object?["stream_options"] as? [String: Any])?["include_usage"] as? Bool ?? false
            func record(_ status: Int, _ prompt: Int = 0, _ completion: Int = 0) async {
                await state.record(.init(
                    keyHint: String((key ?? "").suffix(4)), model: model, messages: messages.count, stream: stream, status: status,
                    promptTokens: prompt, completionTokens: completion))
            }
            if let refusal = refusal(state.keys.status(of: key)) {
                await record(Int(refusal.status.code))
                return refusal
            }
            if let injection = await state.takeInjection() {
                switch injection.failure {
                case "slow": try await Task.sleep(for: .milliseconds(injection.delayMs ?? 2_000))
                default:
                    let status = Int(injection.failure) ?? 500
                    await record(status)
                    return error(status, status == 429 ? "rate_limit_exceeded" : "server_error", "Injected failure.")
                }
            }
            guard let model, models.contains(model) else {
                await record(404)
                return error(404, "model_not_found", "The model does not exist.")
            }
            guard !messages.isEmpty, messages.allSatisfy({ ["system", "user", "assistant"].contains($0["role"] as? String ?? "") && $0["content"] is String }) else {
                await record(400)
                return error(400, "invalid_request_error", "messages must be a non-empty list of {role, content}.")
            }
            let question = messages.last { $0["role"] as? String == "user" }?["content"] as? String ?? ""
            let answer = "[fake-llm] " + question
            let prompt = messages.reduce(0) { $0 + (($1["content"] as? String)?.split(separator: " ").count ?? 0) }
            let completion = answer.split(separator: " ").count
            await record(200, prompt, completion)
            let usage: [String: Any] = ["prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion]
            let id = "chatcmpl-" + UUID().uuidString.prefix(12).lowercased()
            guard stream else {
                return json(200, [
                    "id": id, "object": "chat.completion", "created": Int(Date().timeIntervalSince1970), "model": model,
                    "choices": [["index": 0, "message": ["role": "assistant", "content": answer], "finish_reason": "stop"]],
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
            events.append(chunk([["index": 0, "delta": [:] as [String: Any], "finish_reason": "stop"]]))
            if includeUsage { events.append(chunk([], usage: usage)) }
            events.append("data: [DONE]\n\n")
            let buffers = events.map { ByteBuffer(string: $0) }
            return Response(
                status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    for buffer in buffers {
                        try await writer.write(buffer)
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    try await writer.finish(nil)
                })
        }
        addControlRoutes(to: router, state: state)
        return Application(
            router: router,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "fake-llm"),
            onServerRunning: onServerRunning,
            logger: logger)
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

    static func addControlRoutes(to router: Router<BasicRequestContext>, state: FakeLLMState) {
        FakeControlRoutes.add(
            to: router, keys: state.keys, injection: FakeLLMState.Injection.self, inject: { await state.inject($0) },
            reset: { await state.reset() }, reportsName: "requests", reports: { await state.allRequests() })
    }
}
