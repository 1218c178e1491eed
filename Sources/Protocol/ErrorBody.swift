/// The body of every refusal or error response: `{"error":{"code":"…","message":"…"}}`.
public struct ErrorBody: Codable, Sendable, Equatable {
    public struct Detail: Codable, Sendable, Equatable {
        public var code: ErrorCode
        public var message: String
        /// The request field at fault, for validation errors.
        public var field: String?

        public init(code: ErrorCode, message: String, field: String? = nil) {
            self.code = code
            self.message = message
            self.field = field
        }
    }

    public var error: Detail

    public init(code: ErrorCode, message: String, field: String? = nil) {
        self.error = Detail(code: code, message: message, field: field)
    }
}
