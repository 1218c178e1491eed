import ArgumentParser
import AsyncHTTPClient
import Central
import Foundation
import Logging
import NIOCore

/// `central-bench`: admissions per second and latency percentiles on a real SQLite file.
/// A measuring tool, not a test: run it on a quiet machine and record the numbers in
/// docs/benchmarks.md together with the command line.
@main
struct AdmissionBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "central-bench",
        abstract: "Measure admission throughput and latency (store or HTTP) on SQLite.")

    enum Mode: String, ExpressibleByArgument {
        /// The store's admission transaction, called directly.
        case store
        /// POST /v1/sessions against an in-process central over loopback HTTP.
        case http
    }

    @Option(help: "store or http.") var mode: Mode = .store
    @Option(help: "Admissions to time, after the warm-up.") var admissions = 20_000
    @Option(help: "Concurrent clients.") var concurrency = 8
    @Option(help: "Licenses to spread the load over.") var licenses = 256
    @Option(help: "Database file (default: a fresh temporary file).") var database: String?

    func run() async throws {
        let path = database ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("central-bench-\(UUID().uuidString).sqlite").path
        let store = try SQLiteCentralStore(path: path)
        let administration = StoreLicenseAdministration(store: store, clock: SystemWallClock(), actor: AdminOperator(name: "bench", ip: nil))
        var keys: [String] = []
        for index in 0..<licenses {
            var draft = LicenseDraft(plan: "trial-enterprise", customerName: "Bench \(index)")
            draft.concurrent = 1
            draft.devices = 1
            draft.minutes = 100_000
            keys.append(try await administration.createLicense(draft).key)
        }
        print("mode=\(mode.rawValue) admissions=\(admissions) concurrency=\(concurrency) licenses=\(licenses) db=\(path)")
        let driver: any AdmissionDriver = switch mode {
        case .store: StoreDriver(store: store)
        case .http: try await HTTPDriver.start(store: store)
        }
        // Each client owns a disjoint set of licenses, admits and releases: every timed admission
        // is the full admitted path (device bind check, counts, lease insert, commit).
        let warmup = min(1_000, admissions / 10)
        _ = try await drive(driver, keys: keys, count: warmup)
        let started = ContinuousClock.now
        let latencies = try await drive(driver, keys: keys, count: admissions)
        let elapsed = ContinuousClock.now - started
        try await driver.shutdown()
        report(latencies, elapsed: elapsed)
    }

    func drive(_ driver: any AdmissionDriver, keys: [String], count: Int) async throws -> [Duration] {
        let perClient = max(1, count / concurrency)
        return try await withThrowingTaskGroup(of: [Duration].self) { group in
            for client in 0..<concurrency {
                let owned = keys.enumerated().filter { $0.offset % concurrency == client }.map(\.element)
                group.addTask {
                    var latencies: [Duration] = []
                    latencies.reserveCapacity(perClient)
                    for iteration in 0..<perClient {
                        let key = owned[iteration % owned.count]
                        let start = ContinuousClock.now
                        let lease = try await driver.admit(key: key)
                        latencies.append(ContinuousClock.now - start)
                        try await driver.release(key: key, lease: lease)
                    }
                    return latencies
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }

    func report(_ latencies: [Duration], elapsed: Duration) {
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> String {
            let index = min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)
            return String(format: "%.3f ms", milliseconds(sorted[max(0, index)]))
        }
        let seconds = milliseconds(elapsed) / 1000
        print(String(format: "admissions/s: %.0f (each followed by a release)", Double(sorted.count) / seconds))
        print("latency p50: \(percentile(0.50))  p90: \(percentile(0.90))  p99: \(percentile(0.99))  max: \(percentile(1.0))")
    }

    func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}

protocol AdmissionDriver: Sendable {
    func admit(key: String) async throws -> String
    func release(key: String, lease: String) async throws
    func shutdown() async throws
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    var description: String
}

struct StoreDriver: AdmissionDriver {
    let store: SQLiteCentralStore

    func admit(key: String) async throws -> String {
        let decision = try await store.admit(
            AdmissionRequest(licenseKey: key, deviceFingerprint: "bench-device", clientIP: "127.0.0.1"),
            keyHash: LicenseKey.hash(key), leaseTTL: 30, now: Date())
        guard case .admitted(let lease, _) = decision else {
            throw BenchmarkFailure(description: "refused: \(decision.refusalCode?.rawValue ?? "?")")
        }
        return "\(lease.licenseID) \(lease.id)"
    }

    func release(key: String, lease: String) async throws {
        let parts = lease.split(separator: " ").map(String.init)
        _ = try await store.releaseLease(id: parts[1], licenseID: parts[0])
    }

    func shutdown() async throws {}
}

final class HTTPDriver: AdmissionDriver {
    let client: HTTPClient
    let baseURL: String
    let server: Task<Void, any Error>

    init(client: HTTPClient, baseURL: String, server: Task<Void, any Error>) {
        self.client = client
        self.baseURL = baseURL
        self.server = server
    }

    static func start(store: SQLiteCentralStore) async throws -> HTTPDriver {
        var configuration = CentralConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.adminToken = CentralConfiguration.generateAdminToken()
        var logger = Logger(label: "central-bench")
        logger.logLevel = .error
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        let app = try buildApplication(configuration: configuration, store: store, logger: logger) { channel in
            portContinuation.yield(channel.localAddress?.port ?? 0)
        }
        let server = Task { try await app.run() }
        var iterator = portStream.makeAsyncIterator()
        guard let bound = await iterator.next() else { throw BenchmarkFailure(description: "server did not start") }
        let client = HTTPClient(configuration: .init(connectionPool: .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)))
        return HTTPDriver(client: client, baseURL: "http://127.0.0.1:\(bound)", server: server)
    }

    func admit(key: String) async throws -> String {
        var request = HTTPClientRequest(url: baseURL + "/v1/sessions")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"device_id":"bench-device"}"#))
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 16)
        guard response.status.code == 201,
              let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
              let session = object["session_id"] as? String
        else { throw BenchmarkFailure(description: "admission answered \(response.status.code)") }
        return session
    }

    func release(key: String, lease: String) async throws {
        var request = HTTPClientRequest(url: baseURL + "/v1/sessions/\(lease)")
        request.method = .DELETE
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        let response = try await client.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 16)
    }

    func shutdown() async throws {
        try await client.shutdown()
        server.cancel()
    }
}
