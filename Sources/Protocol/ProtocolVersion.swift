/// The wire protocol's version. Every control message carries it as `v`; every audio frame
/// carries it in its second byte. A peer refuses versions it does not speak with
/// `unsupported_version`.
public enum ProtocolVersion {
    public static let current: UInt8 = 1
}
