import Foundation
import NIOSSL

/// How central talks to DashScope. Every value has an environment variable (README).
public struct DashScopeSettings: Sendable {
    /// `DASHSCOPE_URL`: Beijing by default; the international region or the fake go here.
    public var url = "wss://dashscope.aliyuncs.com/api-ws/v1/inference"
    /// `DASHSCOPE_MODEL`.
    public var model = DashScopeModel.gummyRealtime
    /// `DASHSCOPE_WORKSPACE`: sent as `X-DashScope-WorkSpace` when set.
    public var workspace: String?
    /// How long `task-started` may take.
    public var startTimeout: Duration = .seconds(10)
    /// How long the last results may take after `finish-task`.
    public var finishTimeout: Duration = .seconds(10)
    /// With no audio for this long the task is finished, well inside DashScope's 23 s limit, and a
    /// new one starts with the next audio: an edge that is reconnecting costs no provider time.
    public var idleFinishAfter: Duration = .seconds(10)
    /// `DASHSCOPE_ROTATE_SECONDS`: long sessions move to a fresh task after this much audio, at
    /// the next sentence end (or 30 s later at the latest).
    public var rotateAfterMs = 600_000
    /// Consecutive connection or provider errors retried before the session stops.
    public var retries = 3
    /// Frames queued for the provider (15 s): covers a reconnect or a key failover.
    public var inboxCapacity = 750
    public var tickInterval: Duration = .milliseconds(250)
    /// TLS for `wss://`; nil means the system trust roots.
    public var tlsConfiguration: TLSConfiguration?

    public init() {}

    /// The engine's share of these settings.
    public var timing: ProviderTiming {
        ProviderTiming(
            startTimeout: startTimeout, finishTimeout: finishTimeout, idleFinishAfter: idleFinishAfter,
            rotateAfterMs: rotateAfterMs, retries: retries, inboxCapacity: inboxCapacity, tickInterval: tickInterval)
    }
}

extension DashScopeSettings {
    /// `DASHSCOPE_URL`, `DASHSCOPE_MODEL`, `DASHSCOPE_WORKSPACE` and `DASHSCOPE_ROTATE_SECONDS`.
    mutating func read(_ environment: [String: String]) throws {
        typealias ConfigurationError = CentralConfiguration.ConfigurationError
        if let url = environment["DASHSCOPE_URL"], !url.isEmpty {
            guard url.hasPrefix("wss://") || url.hasPrefix("ws://") else {
                throw ConfigurationError.invalid(name: "DASHSCOPE_URL", value: url, expected: "a wss:// (or ws://) URL")
            }
            self.url = url
        }
        if let model = environment["DASHSCOPE_MODEL"], !model.isEmpty {
            guard let known = DashScopeModel(rawValue: model) else {
                throw ConfigurationError.invalid(
                    name: "DASHSCOPE_MODEL", value: model,
                    expected: DashScopeModel.allCases.map(\.rawValue).joined(separator: ", "))
            }
            self.model = known
        }
        if let workspace = environment["DASHSCOPE_WORKSPACE"], !workspace.isEmpty {
            self.workspace = workspace
        }
        if let rotate = environment["DASHSCOPE_ROTATE_SECONDS"] {
            rotateAfterMs = Int(try CentralConfiguration.parseSeconds(rotate, name: "DASHSCOPE_ROTATE_SECONDS") * 1000)
        }
    }
}
