import Central
import Foundation
import HummingbirdWebSocket
import Logging
import NIOCore

/// One transcription session on the fake, checked as OpenAI checks it: `session.update` with
/// `type: "transcription"` first (refused on a session opened with a `model`), PCM16 at 24 kHz
/// only, base64 that decodes to whole samples, no empty commit, VAD only for models that take
/// it. Speech is found by energy (the demo's segmenter); each committed turn gets a delta or two
/// and a `.completed` with its `usage`: duration for gpt-live-transcribe/gpt-realtime-whisper/
/// whisper-1, tokens for the others.
actor FakeRealtimeSession {
    static let models: Set<String> = [
        "whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe", "gpt-4o-transcribe-diarize", "gpt-transcribe",
        "gpt-live-transcribe", "gpt-realtime-whisper",
    ]
    static let durationBilled: Set<String> = ["whisper-1", "gpt-live-transcribe", "gpt-realtime-whisper"]
    static let withoutVAD: Set<String> = ["gpt-live-transcribe", "gpt-realtime-whisper"]
    static let sampleRate = 24_000

    private let outbound: WebSocketOutboundWriter
    private let state: FakeRealtimeState
    private let conversationSession: Bool
    private var report: FakeRealtimeReport
    private var injection: FakeRealtimeState.Injection?
    private var configured = false
    private var serverVAD = false
    private var model = ""
    /// Samples in the input buffer since the last commit.
    private var buffer: [Int16] = []
    private var totalSamples = 0
    private var segmenter = SpeechSegmenter()
    private var pendingLevel: [Int16] = []
    private var lastItemID: String?
    private var itemCount = 0
    private var closed = false

    init(outbound: WebSocketOutboundWriter, state: FakeRealtimeState, keyHint: String, conversationSession: Bool) {
        self.outbound = outbound
        self.state = state
        self.conversationSession = conversationSession
        report = FakeRealtimeReport(
            sessionID: "sess_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(20).lowercased(), keyHint: keyHint,
            audioMs: 0, appends: 0, commits: 0, items: 0, completed: 0, errors: [], state: "open")
    }

    nonisolated func run(inbound: WebSocketInboundStream) async {
        await start()
        do {
            for try await message in inbound.messages(maxSize: 16 << 20) {
                guard case .text(let text) = message else {
                    if await !fail("invalid_request_error", "invalid_event", "Binary frames are not accepted.") { break }
                    continue
                }
                if await !handle(text) { break }
            }
        } catch {}
        await ended()
    }

    private func start() async {
        injection = await state.takeInjection()
        await state.record(report)
        _ = await send([
            "type": "session.created", "event_id": eventID(),
            "session": ["type": conversationSession ? "realtime" : "transcription", "id": report.sessionID,
                        "object": conversationSession ? "realtime.session" : "realtime.transcription_session"],
        ])
    }

    private func handle(_ text: String) async -> Bool {
        guard let data = text.data(using: .utf8), let event = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let type = event["type"] as? String else {
            return await fail("invalid_request_error", "invalid_json", "The event is not a JSON object with a type.")
        }
        switch type {
        case "session.update": return await update(event["session"] as? [String: Any] ?? [:])
        case "input_audio_buffer.append": return await append(event["audio"] as? String)
        case "input_audio_buffer.commit": return await commit(byServer: false)
        case "input_audio_buffer.clear":
            buffer = []
            return await send(["type": "input_audio_buffer.cleared", "event_id": eventID()])
        default:
            return await fail("invalid_request_error", "unknown_event", "Unknown event type \(type).")
        }
    }

    private func update(_ session: [String: Any]) async -> Bool {
        guard session["type"] as? String == "transcription" else {
            return await fail("invalid_request_error", "invalid_value", "session.type must be transcription.")
        }
        guard !conversationSession else {
            return await fail("invalid_request_error", "invalid_value", "You must not provide a model parameter for transcription sessions.")
        }
        let input = (session["audio"] as? [String: Any])?["input"] as? [String: Any] ?? [:]
        let format = input["format"] as? [String: Any] ?? [:]
        guard format["type"] as? String == "audio/pcm", (format["rate"] as? Int) == Self.sampleRate else {
            return await fail("invalid_request_error", "invalid_value", "audio.input.format must be audio/pcm at rate 24000.")
        }
        let transcription = input["transcription"] as? [String: Any] ?? [:]
        guard let model = transcription["model"] as? String, Self.models.contains(model) else {
            return await fail("invalid_request_error", "invalid_value", "Unknown transcription model.")
        }
        let turnDetection = input["turn_detection"] as? [String: Any]
        if turnDetection != nil, Self.withoutVAD.contains(model) {
            return await fail("invalid_request_error", "invalid_value", "\(model) does not support turn_detection.")
        }
        self.model = model
        serverVAD = turnDetection?["type"] as? String == "server_vad"
        configured = true
        report.model = model
        report.language = transcription["language"] as? String
        report.turnDetection = serverVAD ? "server_vad" : "none"
        await state.record(report)
        return await send(["type": "session.updated", "event_id": eventID(), "session": session])
    }

    private func append(_ audio: String?) async -> Bool {
        guard configured else {
            return await fail("invalid_request_error", "session_not_configured", "Send session.update before audio.")
        }
        guard let audio, let bytes = Data(base64Encoded: audio), bytes.count % 2 == 0 else {
            return await fail("invalid_request_error", "invalid_value", "audio must be base64 PCM16.")
        }
        let samples = bytes.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }.map { Int16(littleEndian: $0) }
        buffer += samples
        totalSamples += samples.count
        report.appends += 1
        report.audioMs = totalSamples * 1000 / Self.sampleRate
        if let injection, report.audioMs >= (injection.afterMs ?? 0), let outcome = await strike(injection) { return outcome }
        await state.record(report)
        guard serverVAD else { return true }
        pendingLevel += samples
        let block = Self.sampleRate / 50
        while pendingLevel.count >= block {
            let slice = pendingLevel.prefix(block)
            pendingLevel.removeFirst(block)
            switch segmenter.process(levelDBFS: SpeechSegmenter.levelDBFS(slice), durationMs: 20) {
            case .ended(_, _, let endMs):
                _ = await send(["type": "input_audio_buffer.speech_stopped", "event_id": eventID(), "audio_end_ms": endMs])
                if await !commit(byServer: true) { return false }
            default: break
            }
        }
        return true
    }

    private func commit(byServer: Bool) async -> Bool {
        guard configured else {
            return await fail("invalid_request_error", "session_not_configured", "Send session.update before committing.")
        }
        let ms = buffer.count * 1000 / Self.sampleRate
        guard ms >= 100 else {
            // OpenAI answers an empty commit with an error and keeps the session.
            report.errors.append("commit of \(ms) ms")
            await state.record(report)
            return await send(["type": "error", "event_id": eventID(), "error": [
                "type": "invalid_request_error", "code": "input_audio_buffer_commit_empty",
                "message": "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has \(ms).00ms of audio.",
            ] as [String: Any]])
        }
        if !byServer { report.commits += 1 }
        itemCount += 1
        report.items = itemCount
        let item = "item_" + String(format: "%04d", itemCount) + UUID().uuidString.prefix(8).lowercased()
        let previous: Any = lastItemID ?? NSNull()
        lastItemID = item
        buffer = []
        let text = "[fake] segment \(itemCount) (\(String(format: "%.2f", Double(ms) / 1000)) s)"
        let half = text.index(text.startIndex, offsetBy: text.count / 2)
        guard await send(["type": "input_audio_buffer.committed", "event_id": eventID(), "item_id": item, "previous_item_id": previous]),
              await send(delta(item, String(text[..<half]))), await send(delta(item, String(text[half...]))) else { return false }
        let usage: [String: Any] = Self.durationBilled.contains(model)
            ? ["type": "duration", "seconds": Double(ms) / 1000]
            : ["type": "tokens", "input_tokens": ms / 100 + 10, "output_tokens": 8, "total_tokens": ms / 100 + 18,
               "input_token_details": ["audio_tokens": ms / 100, "text_tokens": 10]]
        report.completed += 1
        await state.record(report)
        return await send([
            "type": "conversation.item.input_audio_transcription.completed", "event_id": eventID(), "item_id": item,
            "content_index": 0, "transcript": text, "usage": usage,
        ])
    }

    private func delta(_ item: String, _ text: String) -> [String: Any] {
        ["type": "conversation.item.input_audio_transcription.delta", "event_id": eventID(), "item_id": item, "content_index": 0, "delta": text]
    }

    private func strike(_ injection: FakeRealtimeState.Injection) async -> Bool? {
        self.injection = nil
        switch injection.failure {
        case "server-error": return await fail("server_error", "server_error", "The server had an error while processing your request.")
        case "session-expired": return await fail("invalid_request_error", "session_expired", "Your session hit the maximum duration of 60 minutes.")
        case "disconnect":
            closed = true
            report.state = "disconnected"
            await state.record(report)
            try? await outbound.close(.unexpectedServerError, reason: nil)
            return false
        default: return nil
        }
    }

    /// An `error` event; protocol errors end the session here (a real one keeps some going, the
    /// adapter must not rely on either).
    private func fail(_ type: String, _ code: String, _ message: String) async -> Bool {
        report.errors.append("\(code): \(message)")
        report.state = "failed"
        await state.record(report)
        _ = await send(["type": "error", "event_id": eventID(), "error": ["type": type, "code": code, "message": message, "param": NSNull()] as [String: Any]])
        closed = true
        try? await outbound.close(.normalClosure, reason: nil)
        return false
    }

    private func ended() async {
        guard !closed else { return }
        closed = true
        report.state = "closed"
        await state.record(report)
    }

    private func eventID() -> String { "event_" + UUID().uuidString.prefix(12).lowercased() }

    private func send(_ object: [String: Any]) async -> Bool {
        guard !closed, let data = try? JSONSerialization.data(withJSONObject: object) else { return false }
        do {
            try await outbound.write(.text(String(decoding: data, as: UTF8.self)))
            return true
        } catch {
            return false
        }
    }
}
