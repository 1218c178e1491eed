// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

/// What every fake speech provider (a WebSocket server with the shared fake parts) links.
let fakeSpeechProviderDependencies: [Target.Dependency] = [
    "Central",
    "FakeProviders",
    .product(name: "ArgumentParser", package: "swift-argument-parser"),
    .product(name: "Hummingbird", package: "hummingbird"),
    .product(name: "HummingbirdCore", package: "hummingbird"),
    .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
    .product(name: "Logging", package: "swift-log"),
]

let package = Package(
    name: "speech-edge",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "central", targets: ["CentralCommand"]),
        .executable(name: "edge-agent", targets: ["EdgeAgentCommand"]),
        .executable(name: "central-bench", targets: ["CentralBenchmark"]),
        .executable(name: "loadgen", targets: ["LoadGenerator"]),
        .executable(name: "metrics-bench", targets: ["MetricsBenchmark"]),
        .executable(name: "fake-dashscope", targets: ["FakeDashScope"]),
        .executable(name: "fake-deepgram", targets: ["FakeDeepgram"]),
        .executable(name: "fake-openai-realtime", targets: ["FakeOpenAIRealtime"]),
        .executable(name: "fake-llm", targets: ["FakeLLM"]),
        .library(name: "Protocol", targets: ["Protocol"]),
        .library(name: "Central", targets: ["Central"]),
        .library(name: "EdgeAgent", targets: ["EdgeAgent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // C libraries from Debian, found through pkg-config.
        .systemLibrary(name: "CALSA", pkgConfig: "alsa", providers: [.apt(["libasound2-dev"])]),
        .systemLibrary(name: "COpus", pkgConfig: "opus", providers: [.apt(["libopus-dev"])]),
        .systemLibrary(name: "COgg", pkgConfig: "ogg", providers: [.apt(["libogg-dev"])]),

        .target(
            name: "Protocol",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Central",
            dependencies: [
                "Protocol",
                "COpus",
                "COgg",
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            resources: [.copy("ConsoleWeb")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "CentralCommand",
            dependencies: ["Central"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "CentralBenchmark",
            dependencies: [
                "Central",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "MetricsBenchmark",
            dependencies: ["Central"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FakeProviders",
            dependencies: [
                "Central",
                "COgg",
                "COpus",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FakeDashScope",
            dependencies: fakeSpeechProviderDependencies,
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FakeDeepgram",
            dependencies: fakeSpeechProviderDependencies + [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FakeOpenAIRealtime",
            dependencies: fakeSpeechProviderDependencies,
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FakeLLM",
            dependencies: [
                "FakeProviders",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "LoadGenerator",
            dependencies: [
                "Protocol",
                "COpus",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "EdgeAgent",
            dependencies: [
                "Protocol",
                "CALSA",
                "COpus",
                "COgg",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            resources: [.copy("Web")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "EdgeAgentCommand",
            dependencies: [
                "EdgeAgent",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "ProtocolTests",
            dependencies: ["Protocol"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CentralTests",
            dependencies: [
                "Central",
                "EdgeAgent",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                "COpus",
                "Protocol",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EdgeAgentTests",
            dependencies: ["EdgeAgent", "Protocol", "COpus"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
