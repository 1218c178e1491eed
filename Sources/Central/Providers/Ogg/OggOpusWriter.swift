import COgg
import Protocol

/// Wraps raw Opus packets in an Ogg Opus stream (RFC 7845) with libogg: an `OpusHead` page, an
/// `OpusTags` page, then audio pages whose granule positions count every 48 kHz sample decoded
/// so far (the pre-skip samples included, RFC 7845 §4), and a last page marked end-of-stream.
/// A player therefore plays the audio sent minus the encoder's pre-skip. One writer is one logical stream: every
/// provider task gets a fresh writer (a new serial and new header pages).
///
/// Not thread-safe; one writer belongs to one task.
public final class OggOpusWriter {
    public let serial: Int32
    public let preSkip: Int
    public let inputSampleRate: Int
    /// Audio pages are cut every this many packets (5 × 20 ms = one page per 100 ms).
    public let packetsPerPage: Int
    /// 48 kHz samples of audio written so far: the granule position of the newest packet.
    public private(set) var samplesWritten: Int64 = 0

    private let stream: UnsafeMutablePointer<ogg_stream_state>
    private var packetNumber: Int64 = 0
    /// The newest packet is held back so that `finish()` can mark it end-of-stream.
    private var heldBack: [UInt8]?
    private var packetsOnPage = 0
    private var finished = false

    public init(serial: Int32 = Int32.random(in: 1...Int32.max), preSkip: Int, inputSampleRate: Int, packetsPerPage: Int = 5) {
        self.serial = serial
        self.preSkip = preSkip
        self.inputSampleRate = inputSampleRate
        self.packetsPerPage = max(1, packetsPerPage)
        stream = .allocate(capacity: 1)
        ogg_stream_init(stream, serial)
    }

    deinit {
        ogg_stream_clear(stream)
        stream.deallocate()
    }

    /// The two header pages; send them before any audio.
    public func headers(vendor: String = "speech-edge central") -> [UInt8] {
        var head: [UInt8] = Array("OpusHead".utf8)
        head.append(1)  // version
        head.append(1)  // mono
        head += Self.littleEndian(UInt16(clamping: preSkip))
        head += Self.littleEndian(UInt32(clamping: inputSampleRate))
        head += [0, 0]  // output gain
        head.append(0)  // channel mapping family 0
        submit(head, granule: 0, beginning: true, end: false)
        var output = drain(flush: true)

        var tags: [UInt8] = Array("OpusTags".utf8)
        tags += Self.littleEndian(UInt32(vendor.utf8.count))
        tags += Array(vendor.utf8)
        tags += Self.littleEndian(UInt32(0))
        submit(tags, granule: 0, beginning: false, end: false)
        // Audio must start on a fresh page.
        output += drain(flush: true)
        return output
    }

    /// Adds one packet; returns the pages completed by it (empty until a page is full).
    public func append(_ packet: [UInt8]) -> [UInt8] {
        guard !finished else { return [] }
        var output: [UInt8] = []
        if let previous = heldBack {
            output = write(previous, end: false)
        }
        heldBack = packet
        return output
    }

    /// Ends the stream: the held-back packet goes out on a page marked end-of-stream.
    public func finish() -> [UInt8] {
        guard !finished else { return [] }
        finished = true
        guard let last = heldBack else { return drain(flush: true) }
        heldBack = nil
        return write(last, end: true) + drain(flush: true)
    }

    private func write(_ packet: [UInt8], end: Bool) -> [UInt8] {
        // Durations come from the TOC byte, so the granule follows the audio itself.
        samplesWritten += Int64((try? OpusPacketInfo.samplesAt48kHz(packet)) ?? 960)
        submit(packet, granule: samplesWritten, beginning: false, end: end)
        packetsOnPage += 1
        guard end || packetsOnPage >= packetsPerPage else { return [] }
        packetsOnPage = 0
        return drain(flush: true)
    }

    private func submit(_ bytes: [UInt8], granule: Int64, beginning: Bool, end: Bool) {
        var copy = bytes
        copy.withUnsafeMutableBufferPointer { buffer in
            var packet = ogg_packet(
                packet: buffer.baseAddress, bytes: buffer.count, b_o_s: beginning ? 1 : 0, e_o_s: end ? 1 : 0,
                granulepos: granule, packetno: packetNumber)
            // libogg copies the bytes into its own buffer before returning.
            ogg_stream_packetin(stream, &packet)
        }
        packetNumber += 1
    }

    private func drain(flush: Bool) -> [UInt8] {
        var output: [UInt8] = []
        var page = ogg_page()
        while (flush ? ogg_stream_flush(stream, &page) : ogg_stream_pageout(stream, &page)) != 0 {
            output += UnsafeBufferPointer(start: page.header, count: page.header_len)
            output += UnsafeBufferPointer(start: page.body, count: page.body_len)
        }
        return output
    }

    private static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }
}
