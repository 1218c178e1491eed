import Foundation
import Hummingbird
import Protocol

/// Encodes a value with the wire's JSON conventions.
func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    let data = try WireCoding.encoder().encode(value)
    return Response(
        status: status, headers: [.contentType: "application/json; charset=utf-8"],
        body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

extension Request {
    /// Collects the body (bounded by the context's upload limit) and reads it as a JSON object
    /// with only the `allowed` fields.
    func jsonObject(allowed: Set<String>, context: CentralRequestContext) async throws -> JSONObjectReader {
        let buffer = try await body.collect(upTo: context.maxUploadSize)
        return try JSONObjectReader(data: Data(buffer: buffer), allowed: allowed)
    }
}
