import Foundation

/// The one spelling of a path the local API answers to. The router ignores empty segments and
/// would match `//api/status` to `/api/status`, so a policy that looked at the spelling could
/// be walked around; instead only canonical paths reach the router at all.
enum LocalRequestPath {
    /// `/`, or `/`-separated non-empty segments of unreserved characters: no empty segment
    /// (`//`, a trailing `/`), no `.` or `..`, no percent-encoding, nothing a router or the
    /// file system could read two ways.
    static func isCanonical(_ path: String) -> Bool {
        guard path.first == "/" else { return false }
        if path == "/" { return true }
        let segments = path.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        return segments.allSatisfy { segment in
            !segment.isEmpty && !segment.elementsEqual(".".utf8) && !segment.elementsEqual("..".utf8)
                && segment.allSatisfy(isUnreserved)
        }
    }

    /// RFC 3986 unreserved characters: letters, digits, `-`, `.`, `_`, `~`.
    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// The page's own files as the browser asks for them (`/`, `/index.html`, `/js/app.js`, …):
    /// the only requests any page may make without an allowed Host and Origin.
    static func staticAssets(under directory: String) -> Set<String> {
        let root = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
            return []
        }
        var paths: Set<String> = []
        for case let file as URL in walker {
            guard (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let relative = file.standardizedFileURL.path.dropFirst(root.path.count)
            let path = relative.hasPrefix("/") ? String(relative) : "/" + relative
            // A file whose name needs encoding could not be asked for canonically anyway.
            if isCanonical(path) { paths.insert(path) }
        }
        if paths.contains("/index.html") { paths.insert("/") }
        return paths
    }
}
