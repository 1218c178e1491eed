import Crypto
import Foundation

/// A stable device fingerprint sent with admission: SHA-256 of the machine id (when the host
/// has one) and a random id kept in the data directory. Reinstalling the edge on the same
/// machine with the same data directory keeps the identity; a copied data directory on
/// another machine does not.
public enum DeviceIdentity {
    public static func load(dataDirectory: String, machineIDPath: String = "/etc/machine-id") throws -> String {
        let directory = URL(fileURLWithPath: dataDirectory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("device-id")
        var local = (try? String(contentsOf: file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if local.count < 32 {
            var generator = SystemRandomNumberGenerator()
            local = (0..<2).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
            try Data((local + "\n").utf8).write(to: file, options: .atomic)
        }
        let machine = (try? String(contentsOfFile: machineIDPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let digest = SHA256.hash(data: Data("\(machine):\(local)".utf8))
        return digest.map { String(format: "%02x", $0) }.joined()
    }
}
