import AsyncHTTPClient

/// Why a provider refused a WebSocket upgrade. The WebSocket client does not expose the
/// refusal's status, so the same URL is asked once over plain HTTP with the same credentials.
enum RefusedUpgrade {
    /// 401/403 is the key, 429 throttling; any other 4xx is final when `clientErrorsAreFinal`
    /// (a bad parameter is refused again however often it is retried), else transient.
    static func classify(url: String, authorization: String, provider: String, clientErrorsAreFinal: Bool) async -> ProviderFailure {
        let httpURL = url.replacingOccurrences(of: "wss://", with: "https://").replacingOccurrences(of: "ws://", with: "http://")
        var request = HTTPClientRequest(url: httpURL)
        request.headers.add(name: "Authorization", value: authorization)
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(5)) else {
            return .transient(.providerUnavailable, "\(provider) refused the WebSocket upgrade")
        }
        let code = response.status.code
        switch code {
        case 401, 403: return .authFailed("\(provider) refused the key (HTTP \(code))")
        case 429: return .rateLimited("\(provider) is throttling the key (HTTP 429)")
        case 400..<500 where clientErrorsAreFinal: return .fatal(.providerFailed, "\(provider) refused the request (HTTP \(code))")
        default: return .transient(.providerUnavailable, "\(provider) refused the WebSocket upgrade (HTTP \(code))")
        }
    }
}
