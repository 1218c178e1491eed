/// The DashScope section of `providers` under the names central had when it ran one provider.
extension CentralConfiguration {
    /// The default provider: the first of `providers.enabled`. Setting it runs that one alone.
    public var speechProvider: String? {
        get { providers.enabled?.first }
        set { providers.enabled = newValue.map { [$0] } }
    }

    public var dashScope: DashScopeSettings {
        get { providers.dashScope }
        set { providers.dashScope = newValue }
    }

    public var dashScopeKeys: [String] {
        get { providers.environmentKeys[DashScopeInferenceWire.name] ?? [] }
        set { providers.environmentKeys[DashScopeInferenceWire.name] = newValue }
    }

    public var dashScopeKeysFromFile: [String] {
        get { providers.fileKeys[DashScopeInferenceWire.name] ?? [] }
        set { providers.fileKeys[DashScopeInferenceWire.name] = newValue }
    }
}
