import Protocol

/// libFuzzer entry point: one input is one JSON text frame of the stream, from either side
/// (central decodes `start`/`stop`/`heartbeat`, the edge everything central sends).
///
/// Besides "no crash, no trap": a refusal carries one of the message codes, and a message
/// that decodes survives its own encoding (what one peer writes, the other reads back equal).
@_cdecl("LLVMFuzzerTestOneInput")
public func controlMessageFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let message: ControlMessage
    do {
        message = try ControlMessage.decode(bytes)
    } catch {
        switch error.code {
        case .frameTooLarge, .malformedMessage, .unsupportedVersion, .unknownMessageType, .invalidMessage: return 0
        default: fatalError("text frame refused with unexpected code \(error.code)")
        }
    }
    let text = message.encodedText()
    guard let again = try? ControlMessage.decode(text) else {
        fatalError("re-encoded message does not decode: \(text)")
    }
    guard again == message else { fatalError("message changed through encode/decode: \(text)") }
    return 0
}
