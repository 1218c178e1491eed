import Hummingbird

extension Request {
    /// The first value of a header by its lower-case name; avoids building `HTTPField.Name`
    /// values (which are optional) for the few custom headers central reads.
    func header(_ lowercasedName: String) -> String? {
        headers.first { $0.name.canonicalName == lowercasedName }?.value
    }

    /// The credential after `Bearer ` in the Authorization header.
    var bearerToken: String? {
        guard let value = headers[.authorization] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }
}
