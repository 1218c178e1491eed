import Foundation
import NIOCore

/// Passes an upstream's server-sent events to the client one event at a time, as they come
/// (never the whole answer), and reads what it must from them on the way: the usage chunk, the
/// answer's parts that reached the client, the end. The usage chunk central asked for on the
/// client's behalf is kept from a client that did not ask for it; comments, unreadable events
/// and the upstream's own error events never reach the client (an error becomes ours).
struct ChatStreamRelay {
    /// Whether the client asked for `stream_options.include_usage`.
    let clientWantsUsage: Bool
    /// An event may not grow past this without its blank line: an upstream that never ends
    /// one is broken.
    static let maxEventBytes = 1 << 20

    private var pending = ByteBuffer()
    private(set) var usage: ChatCompletionUsage?
    /// UTF-8 bytes and parts of answer text forwarded.
    private(set) var deliveredContentBytes = 0
    private(set) var deliveredContentParts = 0
    /// `[DONE]` came.
    private(set) var finished = false
    /// The upstream sent an error event or an event too large: the answer is over.
    private(set) var brokeOff = false

    init(clientWantsUsage: Bool) {
        self.clientWantsUsage = clientWantsUsage
    }

    /// The events in `part` that are complete now, each as the bytes to write to the client.
    mutating func feed(_ part: ByteBuffer) -> [ByteBuffer] {
        guard !finished, !brokeOff else { return [] }
        var part = part
        pending.writeBuffer(&part)
        var events: [ByteBuffer] = []
        // A slice shares the buffer's storage: no copy per event.
        while let length = nextEventLength(), let event = pending.readSlice(length: length) {
            if let forwarded = relay(event) { events.append(forwarded) }
            if finished || brokeOff { break }
        }
        if pending.readableBytes > Self.maxEventBytes { brokeOff = true }
        // Keep the buffer from growing with what was already read.
        if pending.readerIndex > 64 * 1024 { pending.discardReadBytes() }
        return events
    }

    /// The length of the next complete event, up to and including its blank line.
    private func nextEventLength() -> Int? {
        let view = pending.readableBytesView
        var index = view.startIndex
        while index < view.endIndex {
            if view[index] == UInt8(ascii: "\n") {
                let next = view.index(after: index)
                if next < view.endIndex, view[next] == UInt8(ascii: "\n") {
                    return view.distance(from: view.startIndex, to: view.index(after: next))
                }
                if next < view.endIndex, view[next] == UInt8(ascii: "\r"), view.index(after: next) < view.endIndex,
                   view[view.index(after: next)] == UInt8(ascii: "\n") {
                    return view.distance(from: view.startIndex, to: view.index(next, offsetBy: 2))
                }
            }
            index = view.index(after: index)
        }
        return nil
    }

    private struct Chunk: Decodable {
        struct Choice: Decodable {
            struct Delta: Decodable { var content: String? }
            var delta: Delta?
        }
        var choices: [Choice]?
        var usage: ChatCompletionUsage?
        var error: JSONValue?
    }

    private mutating func relay(_ event: ByteBuffer) -> ByteBuffer? {
        // `data:` lines joined (SSE allows several per event); other fields and comments dropped.
        var data: [UInt8] = []
        for line in event.readableBytesView.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            var line = Array(line)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            guard line.starts(with: Array("data:".utf8)) else { continue }
            var value = line.dropFirst(5)
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
            if !data.isEmpty { data.append(UInt8(ascii: "\n")) }
            data.append(contentsOf: value)
        }
        guard !data.isEmpty else { return nil }
        if data == Array("[DONE]".utf8) {
            finished = true
            return ByteBuffer(string: "data: [DONE]\n\n")
        }
        guard let chunk = try? JSONDecoder().decode(Chunk.self, from: Data(data)) else { return nil }
        if chunk.error != nil {
            brokeOff = true
            return nil
        }
        if let usage = chunk.usage { self.usage = usage }
        let choices = chunk.choices ?? []
        if choices.isEmpty, chunk.usage != nil, !clientWantsUsage { return nil }
        for choice in choices {
            if let content = choice.delta?.content, !content.isEmpty {
                deliveredContentBytes += content.utf8.count
                deliveredContentParts += 1
            }
        }
        var out = ByteBuffer()
        out.reserveCapacity(data.count + 8)
        out.writeString("data: ")
        out.writeBytes(data)
        out.writeString("\n\n")
        return out
    }

    /// What the answer cost: the upstream's usage, else the prompt's estimate and what was
    /// delivered (a part is at least one token).
    func tokenUsage(estimatedInput: Int64) -> ChatTokenUsage {
        if let usage { return usage.tokenUsage }
        return ChatTokenUsage(
            inputTokens: estimatedInput,
            outputTokens: max(Int64(deliveredContentParts), Int64((deliveredContentBytes + 2) / 3)), source: .delivered)
    }

    /// Our own error event, for an answer that ends early: the OpenAI SDKs raise it as an error.
    static func errorEvent(_ code: String, _ message: String) -> ByteBuffer {
        let body = OpenAIErrorBody(message: message, type: "api_error", code: code)
        let json = (try? JSONEncoder().encode(body)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return ByteBuffer(string: "data: \(json)\n\n")
    }
}

/// An OpenAI-compatible `usage` object (prompt and completion tokens).
struct ChatCompletionUsage: Decodable, Sendable, Equatable {
    var promptTokens: Int64?
    var completionTokens: Int64?
    var totalTokens: Int64?

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
    }

    var tokenUsage: ChatTokenUsage {
        let input = promptTokens ?? 0
        let output = completionTokens ?? max(0, (totalTokens ?? 0) - input)
        return ChatTokenUsage(inputTokens: input, outputTokens: output, source: .upstream)
    }
}
