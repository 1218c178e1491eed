import Foundation
import Logging
import NIOSSL

/// Central's own TLS: certificate chain and key from PEM files (TLS_CERT_FILE, TLS_KEY_FILE),
/// re-read on SIGHUP so a renewed certificate takes effect without a restart. Each handshake
/// asks for the current pair; a reload that fails keeps the previous one.
public final class CentralTLS: Sendable {
    public struct Files: Sendable, Equatable {
        public var certificate: String
        public var key: String

        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    public enum TLSError: Error, CustomStringConvertible {
        case unreadable(String, String)

        public var description: String {
            switch self {
            case .unreadable(let path, let why): "TLS: cannot use \(path): \(why)"
            }
        }
    }

    private struct Material: @unchecked Sendable {
        // @unchecked: NIOSSL's certificate and key are immutable reference types.
        var chain: [NIOSSLCertificate]
        var key: NIOSSLPrivateKey
    }

    public let files: Files
    private let current: LockedValue<Material>
    private let logger: Logger

    public init(files: Files, logger: Logger) throws {
        self.files = files
        self.logger = logger
        current = LockedValue(try Self.load(files))
    }

    /// Re-reads both files; on failure the certificate in use stays and the error is logged.
    @discardableResult
    public func reload() -> Bool {
        do {
            current.set(try Self.load(files))
            logger.notice("TLS certificate reloaded", metadata: ["certificate": "\(files.certificate)"])
            return true
        } catch {
            logger.error("TLS certificate reload failed; keeping the previous one", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// A server configuration whose every handshake uses the latest loaded pair.
    public func serverConfiguration() -> TLSConfiguration {
        let material = current.value
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: material.chain.map { .certificate($0) }, privateKey: .privateKey(material.key))
        configuration.minimumTLSVersion = .tlsv12
        let current = self.current
        configuration.sslContextCallback = { _, promise in
            let material = current.value
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = material.chain.map { .certificate($0) }
            override.privateKey = .privateKey(material.key)
            promise.succeed(override)
        }
        return configuration
    }

    private static func load(_ files: Files) throws -> Material {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificate)
        } catch {
            throw TLSError.unreadable(files.certificate, "not a PEM certificate chain (\(error))")
        }
        guard !chain.isEmpty else { throw TLSError.unreadable(files.certificate, "no certificate in the file") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: files.key, format: .pem)
        } catch {
            throw TLSError.unreadable(files.key, "not a PEM private key (\(error))")
        }
        // A certificate renewed without its key (or caught half-written) must not replace a
        // working pair: building a context checks that they belong together.
        do {
            _ = try NIOSSLContext(configuration: .makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)))
        } catch {
            throw TLSError.unreadable(files.key, "does not match the certificate in \(files.certificate) (\(error))")
        }
        return Material(chain: chain, key: key)
    }
}
