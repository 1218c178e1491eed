/// The key from an `Authorization` header in a provider's scheme (`Bearer` for DashScope and
/// OpenAI, `Token` for Deepgram); nil for anything else.
public enum FakeCredential {
    public static func key(_ header: String?, scheme: String) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == scheme.lowercased() else { return nil }
        return String(parts[1])
    }

    @Sendable public static func bearer(_ header: String?) -> String? { key(header, scheme: "bearer") }

    @Sendable public static func token(_ header: String?) -> String? { key(header, scheme: "token") }
}
