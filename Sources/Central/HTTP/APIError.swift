import Foundation
import Hummingbird
import NIOCore
import Protocol

/// An error answered as `{"error":{"code":"…","message":"…"}}` with a real status code.
public struct APIError: Error, HTTPResponseError {
    public var status: HTTPResponse.Status
    public var code: ErrorCode
    public var message: String
    public var field: String?
    public var retryAfterSeconds: Int?

    public init(_ status: HTTPResponse.Status, _ code: ErrorCode, _ message: String, field: String? = nil, retryAfterSeconds: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.retryAfterSeconds = retryAfterSeconds
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        let data = try WireCoding.encoder().encode(ErrorBody(code: code, message: message, field: field))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Maps anything a handler throws to the API's error shape.
    static func from(_ error: any Error) -> APIError? {
        switch error {
        case let error as APIError:
            return error
        case let error as RequestValidationError:
            return APIError(.badRequest, error.code, error.message, field: error.field)
        case let error as AdministrationError:
            switch error {
            case .licenseNotFound: return APIError(.notFound, error.code, error.message)
            case .planNotFound: return APIError(.badRequest, error.code, error.message, field: "plan")
            case .invalidTransition: return APIError(.conflict, error.code, error.message)
            }
        case is NIOTooManyBytesError:
            return APIError(.contentTooLarge, .payloadTooLarge, "The request body is too large.")
        case StoreError.notReady:
            // The database is away (or not migrated): say so, and that trying again is right.
            return APIError(.serviceUnavailable, .unavailable, "The database is unreachable right now; try again in a moment.")
        case StoreError.invalidCursor:
            return APIError(.badRequest, .invalidQuery, "The cursor is not one this server issued.", field: "cursor")
        case let error as HTTPError:
            switch error.status {
            case .notFound: return APIError(.notFound, .notFound, "No such endpoint.")
            case .contentTooLarge: return APIError(.contentTooLarge, .payloadTooLarge, "The request body is too large.")
            case .methodNotAllowed: return APIError(.methodNotAllowed, .invalidQuery, "Method not allowed on this endpoint.")
            default: return APIError(error.status, .invalidQuery, error.body ?? error.status.reasonPhrase)
            }
        default:
            return nil
        }
    }
}

/// Turns every error leaving a handler into the JSON error shape; unknown errors become a
/// logged 500 whose body says nothing about internals.
struct ErrorResponseMiddleware: RouterMiddleware {
    typealias Context = CentralRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            if let apiError = APIError.from(error) {
                return try apiError.response(from: request, context: context)
            }
            context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return try APIError(.internalServerError, .internalError, "Internal error; the request was not applied.")
                .response(from: request, context: context)
        }
    }
}
