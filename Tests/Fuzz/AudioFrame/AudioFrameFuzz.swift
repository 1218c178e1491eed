import Protocol

/// libFuzzer entry point: one input is one binary WebSocket frame as an edge could send it.
///
/// Besides "no crash, no trap", it checks what central relies on: a frame that decodes
/// re-encodes to the same bytes, its duration is the one its Opus packet's TOC gives, and a
/// refusal is one of the codes docs/protocol.md lists for audio frames.
@_cdecl("LLVMFuzzerTestOneInput")
public func audioFrameFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    do {
        let frame = try AudioFrame.decode(bytes)
        guard frame.encoded() == bytes else { fatalError("decoded frame does not re-encode to its input") }
        guard !frame.packet.isEmpty, frame.packet.count <= OpusPacketInfo.maxPacketBytes else {
            fatalError("accepted a packet of \(frame.packet.count) bytes")
        }
        guard let actual = try? OpusPacketInfo.durationMicroseconds(frame.packet), actual == frame.durationMicroseconds else {
            fatalError("accepted a frame whose duration is not its packet's")
        }
    } catch {
        switch error.code {
        case .frameTooLarge, .malformedFrame, .unsupportedVersion, .invalidOpusPacket: break
        default: fatalError("audio frame refused with unexpected code \(error.code)")
        }
    }
    return 0
}
