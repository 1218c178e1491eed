import Foundation
import Hummingbird
import NIOCore
import Protocol

/// The chat proxy's errors in OpenAI's shape (with `Retry-After` where waiting helps), so
/// OpenAI clients raise their usual exceptions: a refusal, any API error, and unknown errors
/// as a logged 500 that says nothing about internals.
struct OpenAIErrorMiddleware: RouterMiddleware {
    typealias Context = CentralRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let refusal as ChatRefusal {
            return Self.response(status: refusal.status, code: refusal.code, message: refusal.message, retryAfter: refusal.retryAfterSeconds)
        } catch {
            if let apiError = APIError.from(error) {
                return Self.response(
                    status: Int(apiError.status.code), code: apiError.code, message: apiError.message, param: apiError.field,
                    retryAfter: apiError.retryAfterSeconds)
            }
            context.logger.error("chat request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return Self.response(status: 500, code: .internalError, message: "Internal error; the request was not applied.")
        }
    }

    static func response(status: Int, code: ErrorCode, message: String, param: String? = nil, retryAfter: Int? = nil) -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        let body = OpenAIErrorBody(message: message, type: OpenAIErrorBody.type(for: status), param: param, code: code.rawValue)
        let data = (try? JSONEncoder().encode(body)) ?? Data("{}".utf8)
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
