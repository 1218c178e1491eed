import Foundation

/// Whether a request says its body is JSON. A cross-site HTML form can send `text/plain`,
/// form-encoded or multipart bodies without a CORS preflight, but never `application/json`, so
/// state-changing endpoints a browser page could reach insist on it (the edge's local API,
/// central's console sign-in).
public enum JSONContentType {
    /// Exactly one Content-Type, whose media type is `application/json` (parameters such as
    /// `charset` allowed; media types are case-insensitive).
    public static func accepts(_ values: [String]) -> Bool {
        guard values.count == 1, let value = values.first else { return false }
        let mediaType = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return mediaType.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }
}
