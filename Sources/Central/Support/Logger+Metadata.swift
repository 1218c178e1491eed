import Logging

extension Logger {
    /// A copy that adds `metadata` to every line (a session's id, say).
    func with(metadata: Logger.Metadata) -> Logger {
        var copy = self
        for (key, value) in metadata { copy[metadataKey: key] = value }
        return copy
    }
}
