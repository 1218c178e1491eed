import Foundation

/// Every JSON text frame of the stream: `{"type": "...", "v": 1, ...fields}`.
///
/// Unknown fields are ignored (so a newer peer may add some); an unknown `type`, a different
/// `v`, a missing or mistyped field is a `ProtocolError` naming the problem.
public enum ControlMessage: Equatable, Sendable {
    case start(StartMessage)
    case started(StartedMessage)
    case stop(StopMessage)
    case stopped(StoppedMessage)
    case quota(QuotaMessage)
    case transcript(ResultMessage)
    case translation(ResultMessage)
    case heartbeat(HeartbeatMessage)
    case ack(AckMessage)
    case error(ErrorMessage)

    /// One encoder for every message: building a JSONEncoder costs more than encoding a quota.
    private static let encoder = WireCoding.encoder()
    private static let decoder = WireCoding.decoder()

    /// Text frames larger than this are refused with `frame_too_large`.
    public static let maxTextBytes = 16 * 1024

    public var type: String {
        switch self {
        case .start: "start"
        case .started: "started"
        case .stop: "stop"
        case .stopped: "stopped"
        case .quota: "quota"
        case .transcript: "transcript"
        case .translation: "translation"
        case .heartbeat: "heartbeat"
        case .ack: "ack"
        case .error: "error"
        }
    }

    /// The JSON text of this message.
    public func encodedText() -> String {
        // Acks and quota pushes go out several times a second per stream: written by hand,
        // byte-identical to the encoder's output (sorted keys), which the goldens and
        // WireJSONWriterTests check.
        switch self {
        case .ack(let ack): return ack.wireText
        case .quota(let quota): return quota.wireText
        default: break
        }
        // Encoding our own value types cannot fail; the fallback keeps runtime paths trap-free.
        guard let data = try? Self.encoder.encode(self) else {
            return #"{"code":"internal_error","fatal":true,"message":"encoding failed","type":"error","v":1}"#
        }
        return String(decoding: data, as: UTF8.self)
    }

    public static func decode(_ text: String) throws(ProtocolError) -> ControlMessage {
        try decode(Array(text.utf8))
    }

    public static func decode(_ bytes: some Collection<UInt8>) throws(ProtocolError) -> ControlMessage {
        guard bytes.count <= maxTextBytes else {
            throw ProtocolError(.frameTooLarge, "text frame of \(bytes.count) bytes; at most \(maxTextBytes)")
        }
        let data = Data(bytes)
        let envelope: Envelope
        do {
            envelope = try decoder.decode(Envelope.self, from: data)
        } catch {
            throw ProtocolError(.malformedMessage, "a text frame must be a JSON object with \"type\" and \"v\"")
        }
        guard envelope.v == Int(ProtocolVersion.current) else {
            throw ProtocolError(.unsupportedVersion, "message version \(envelope.v); this peer speaks \(ProtocolVersion.current)")
        }
        guard Kind(rawValue: envelope.type) != nil else {
            throw ProtocolError(.unknownMessageType, "unknown message type '\(envelope.type.prefix(40))'")
        }
        do {
            return try decoder.decode(ControlMessage.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw ProtocolError(.invalidMessage, "\(envelope.type): missing field '\(path(context.codingPath + [key]))'")
        } catch let DecodingError.typeMismatch(_, context) {
            throw ProtocolError(.invalidMessage, "\(envelope.type): field '\(path(context.codingPath))' has the wrong type")
        } catch let DecodingError.valueNotFound(_, context) {
            throw ProtocolError(.invalidMessage, "\(envelope.type): field '\(path(context.codingPath))' is null")
        } catch let DecodingError.dataCorrupted(context) {
            throw ProtocolError(.invalidMessage, "\(envelope.type): field '\(path(context.codingPath))' is invalid")
        } catch {
            throw ProtocolError(.invalidMessage, "\(envelope.type): invalid message")
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }

    private struct Envelope: Decodable {
        var type: String
        var v: Int
    }

    enum Kind: String {
        case start, started, stop, stopped, quota, transcript, translation, heartbeat, ack, error
    }
}

extension ControlMessage: Codable {
    enum EnvelopeKeys: String, CodingKey {
        case type, v
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: EnvelopeKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch Kind(rawValue: type) {
        case .start: self = .start(try StartMessage(from: decoder))
        case .started: self = .started(try StartedMessage(from: decoder))
        case .stop: self = .stop(try StopMessage(from: decoder))
        case .stopped: self = .stopped(try StoppedMessage(from: decoder))
        case .quota: self = .quota(try QuotaMessage(from: decoder))
        case .transcript: self = .transcript(try ResultMessage(from: decoder))
        case .translation: self = .translation(try ResultMessage(from: decoder))
        case .heartbeat: self = .heartbeat(try HeartbeatMessage(from: decoder))
        case .ack: self = .ack(try AckMessage(from: decoder))
        case .error: self = .error(try ErrorMessage(from: decoder))
        case nil:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "unknown type")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: EnvelopeKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(Int(ProtocolVersion.current), forKey: .v)
        switch self {
        case .start(let payload): try payload.encode(to: encoder)
        case .started(let payload): try payload.encode(to: encoder)
        case .stop(let payload): try payload.encode(to: encoder)
        case .stopped(let payload): try payload.encode(to: encoder)
        case .quota(let payload): try payload.encode(to: encoder)
        case .transcript(let payload): try payload.encode(to: encoder)
        case .translation(let payload): try payload.encode(to: encoder)
        case .heartbeat(let payload): try payload.encode(to: encoder)
        case .ack(let payload): try payload.encode(to: encoder)
        case .error(let payload): try payload.encode(to: encoder)
        }
    }
}
