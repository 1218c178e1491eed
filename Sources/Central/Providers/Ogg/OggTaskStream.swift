/// One provider task's Ogg Opus stream: the headers with the first audio write (every task,
/// every connection is a new logical stream), then a page per ~100 ms of packets.
struct OggTaskStream {
    let writer: OggOpusWriter
    var headersSent = false

    mutating func pages(for packets: [[UInt8]]) -> [UInt8] {
        var bytes: [UInt8] = []
        if !headersSent {
            bytes = writer.headers()
            headersSent = true
        }
        for packet in packets { bytes += writer.append(packet) }
        return bytes
    }
}
