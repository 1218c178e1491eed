import COgg
import COpus
import Central

/// Checks an Ogg Opus byte stream the way a strict server would: libogg finds pages (and
/// rejects bad CRCs), the first packet must be OpusHead on a BOS page, the second OpusTags, every
/// audio packet must decode with libopus, and every page's granule must equal the 48 kHz samples
/// decoded so far (pre-skip included). Bytes may arrive split anywhere.
public final class OggOpusValidator {
    public private(set) var pages = 0
    public private(set) var packets = 0
    public private(set) var audioPackets = 0
    public private(set) var decodedSamples48k: Int64 = 0
    public private(set) var preSkip = 0
    public private(set) var inputSampleRate = 0
    public private(set) var sawEndOfStream = false
    public private(set) var errors: [String] = []
    /// Decoded PCM not yet taken by the caller (at the decoder's rate).
    private var pcm: [Int16] = []

    private let sync: UnsafeMutablePointer<ogg_sync_state>
    private let stream: UnsafeMutablePointer<ogg_stream_state>
    private var streamReady = false
    private let decoder: OpusFrameDecoder?
    public let sampleRate: Int32

    public init(sampleRate: Int32) {
        self.sampleRate = [8_000, 12_000, 16_000, 24_000, 48_000].contains(sampleRate) ? sampleRate : 16_000
        sync = .allocate(capacity: 1)
        stream = .allocate(capacity: 1)
        ogg_sync_init(sync)
        decoder = OpusFrameDecoder(sampleRate: self.sampleRate)
    }

    deinit {
        ogg_sync_clear(sync)
        if streamReady { ogg_stream_clear(stream) }
        sync.deallocate()
        stream.deallocate()
    }

    /// Feeds bytes; returns the PCM decoded from the pages they completed.
    public func feed(_ bytes: [UInt8]) -> [Int16] {
        guard let buffer = ogg_sync_buffer(sync, bytes.count) else {
            errors.append("libogg could not allocate a buffer")
            return []
        }
        bytes.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: bytes.count) }
        }
        ogg_sync_wrote(sync, bytes.count)
        var page = ogg_page()
        while true {
            let result = ogg_sync_pageout(sync, &page)
            if result == 0 { break }
            if result < 0 {
                errors.append("bytes skipped: bad page or CRC mismatch")
                continue
            }
            handle(&page)
        }
        defer { pcm.removeAll(keepingCapacity: true) }
        return pcm
    }

    private func handle(_ page: inout ogg_page) {
        pages += 1
        if !streamReady {
            guard ogg_page_bos(&page) != 0 else {
                errors.append("the first page is not a beginning-of-stream page")
                return
            }
            ogg_stream_init(stream, ogg_page_serialno(&page))
            streamReady = true
        }
        if ogg_page_eos(&page) != 0 { sawEndOfStream = true }
        guard ogg_stream_pagein(stream, &page) == 0 else {
            errors.append("page \(pages) does not belong to the stream")
            return
        }
        var packet = ogg_packet()
        while ogg_stream_packetout(stream, &packet) == 1 {
            let bytes = Array(UnsafeBufferPointer(start: packet.packet, count: packet.bytes))
            handle(packet: bytes)
        }
        let granule = ogg_page_granulepos(&page)
        // The last page may end earlier than the decoded audio (end trimming, RFC 7845 §4.4).
        let endOfStream = ogg_page_eos(&page) != 0
        if audioPackets > 0, granule >= 0, endOfStream ? granule > decodedSamples48k : granule != decodedSamples48k {
            errors.append("page \(pages): granule \(granule) but \(decodedSamples48k) samples decoded")
        }
    }

    private func handle(packet bytes: [UInt8]) {
        packets += 1
        switch packets {
        case 1:
            guard bytes.count >= 19, Array(bytes[0..<8]) == Array("OpusHead".utf8), bytes[8] == 1 else {
                errors.append("the first packet is not an OpusHead (version 1)")
                return
            }
            if bytes[9] != 1 { errors.append("OpusHead says \(bytes[9]) channels; mono expected") }
            preSkip = Int(bytes[10]) | Int(bytes[11]) << 8
            inputSampleRate = Int(bytes[12]) | Int(bytes[13]) << 8 | Int(bytes[14]) << 16 | Int(bytes[15]) << 24
        case 2:
            if bytes.count < 16 || Array(bytes[0..<8]) != Array("OpusTags".utf8) {
                errors.append("the second packet is not OpusTags")
            }
        default:
            audioPackets += 1
            guard let samples = decoder?.decode(bytes) else {
                errors.append("audio packet \(audioPackets) does not decode")
                return
            }
            decodedSamples48k += Int64(samples.count) * 48_000 / Int64(sampleRate)
            pcm.append(contentsOf: samples)
        }
    }
}
