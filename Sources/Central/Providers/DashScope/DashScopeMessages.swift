import Foundation

/// The DashScope "inference" duplex protocol (Gummy, Paraformer, Fun-ASR): JSON text frames for
/// control and events, binary frames for audio. Field names are DashScope's own.
/// Both central's client and the fake server (`fake-dashscope`) use these types.
public enum DashScopeWire {
    public static let streaming = "duplex"

    /// A client command: `run-task` or `finish-task`.
    public struct Command: Codable, Sendable, Equatable {
        public var header: CommandHeader
        public var payload: CommandPayload

        public static func runTask(id: String, model: String, parameters: TaskParameters) -> Command {
            Command(
                header: CommandHeader(action: "run-task", taskID: id, streaming: DashScopeWire.streaming),
                payload: CommandPayload(
                    taskGroup: "audio", task: "asr", function: "recognition", model: model, parameters: parameters,
                    input: [:]))
        }

        public static func finishTask(id: String) -> Command {
            Command(
                header: CommandHeader(action: "finish-task", taskID: id, streaming: DashScopeWire.streaming),
                payload: CommandPayload(input: [:]))
        }
    }

    public struct CommandHeader: Codable, Sendable, Equatable {
        public var action: String
        public var taskID: String
        public var streaming: String?

        enum CodingKeys: String, CodingKey {
            case action
            case taskID = "task_id"
            case streaming
        }
    }

    public struct CommandPayload: Codable, Sendable, Equatable {
        public var taskGroup: String?
        public var task: String?
        public var function: String?
        public var model: String?
        public var parameters: TaskParameters?
        public var input: [String: String]?

        public init(
            taskGroup: String? = nil, task: String? = nil, function: String? = nil, model: String? = nil,
            parameters: TaskParameters? = nil, input: [String: String]?
        ) {
            self.taskGroup = taskGroup
            self.task = task
            self.function = function
            self.model = model
            self.parameters = parameters
            self.input = input
        }

        enum CodingKeys: String, CodingKey {
            case taskGroup = "task_group"
            case task, function, model, parameters, input
        }
    }

    /// `run-task` parameters. Gummy reads the translation keys, Paraformer/Fun-ASR `language_hints`.
    public struct TaskParameters: Codable, Sendable, Equatable {
        public var sampleRate: Int
        public var format: String
        public var sourceLanguage: String?
        public var transcriptionEnabled: Bool?
        public var translationEnabled: Bool?
        public var translationTargetLanguages: [String]?
        public var languageHints: [String]?
        public var heartbeat: Bool?

        public init(
            sampleRate: Int, format: String, sourceLanguage: String? = nil, transcriptionEnabled: Bool? = nil,
            translationEnabled: Bool? = nil, translationTargetLanguages: [String]? = nil, languageHints: [String]? = nil,
            heartbeat: Bool? = nil
        ) {
            self.sampleRate = sampleRate
            self.format = format
            self.sourceLanguage = sourceLanguage
            self.transcriptionEnabled = transcriptionEnabled
            self.translationEnabled = translationEnabled
            self.translationTargetLanguages = translationTargetLanguages
            self.languageHints = languageHints
            self.heartbeat = heartbeat
        }

        enum CodingKeys: String, CodingKey {
            case sampleRate = "sample_rate"
            case format
            case sourceLanguage = "source_language"
            case transcriptionEnabled = "transcription_enabled"
            case translationEnabled = "translation_enabled"
            case translationTargetLanguages = "translation_target_languages"
            case languageHints = "language_hints"
            case heartbeat
        }
    }

    /// A server event: `task-started`, `result-generated`, `task-finished` or `task-failed`.
    public struct Event: Codable, Sendable, Equatable {
        public var header: EventHeader
        public var payload: EventPayload?

        public init(header: EventHeader, payload: EventPayload?) {
            self.header = header
            self.payload = payload
        }
    }

    public struct EventHeader: Codable, Sendable, Equatable {
        public var taskID: String
        public var event: String
        public var errorCode: String?
        public var errorMessage: String?
        public var attributes: [String: String]?

        public init(taskID: String, event: String, errorCode: String? = nil, errorMessage: String? = nil) {
            self.taskID = taskID
            self.event = event
            self.errorCode = errorCode
            self.errorMessage = errorMessage
            self.attributes = [:]
        }

        enum CodingKeys: String, CodingKey {
            case taskID = "task_id"
            case event
            case errorCode = "error_code"
            case errorMessage = "error_message"
            case attributes
        }
    }

    public struct EventPayload: Codable, Sendable, Equatable {
        public var output: Output?
        public var usage: Usage?

        public init(output: Output?, usage: Usage?) {
            self.output = output
            self.usage = usage
        }

        enum CodingKeys: String, CodingKey {
            case output, usage
        }

        /// As DashScope writes it: `{}` for task-started/failed; with an output, `usage` is
        /// always present (null until there is a billed duration). The official SDK depends on it.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            guard let output else { return }
            try container.encode(output, forKey: .output)
            try container.encode(usage, forKey: .usage)
        }
    }

    public struct Output: Codable, Sendable, Equatable {
        /// Paraformer / Fun-ASR.
        public var sentence: Sentence?
        /// Gummy.
        public var transcription: Sentence?
        public var translations: [Sentence]?

        public init(sentence: Sentence? = nil, transcription: Sentence? = nil, translations: [Sentence]? = nil) {
            self.sentence = sentence
            self.transcription = transcription
            self.translations = translations
        }
    }

    public struct Sentence: Codable, Sendable, Equatable {
        public var sentenceID: Int?
        public var beginTime: Int?
        public var endTime: Int?
        public var text: String
        public var lang: String?
        public var sentenceEnd: Bool?
        /// Paraformer: a keep-alive result carrying no speech.
        public var heartbeat: Bool?
        /// Gummy: the unfinished start of the next sentence.
        public var stash: Stash?
        public var words: [Word]?

        public init(
            sentenceID: Int?, beginTime: Int?, endTime: Int?, text: String, lang: String? = nil, sentenceEnd: Bool?,
            heartbeat: Bool? = nil, stash: Stash? = nil, words: [Word]? = []
        ) {
            self.sentenceID = sentenceID
            self.beginTime = beginTime
            self.endTime = endTime
            self.text = text
            self.lang = lang
            self.sentenceEnd = sentenceEnd
            self.heartbeat = heartbeat
            self.stash = stash
            self.words = words
        }

        enum CodingKeys: String, CodingKey {
            case sentenceID = "sentence_id"
            case beginTime = "begin_time"
            case endTime = "end_time"
            case text, lang
            case sentenceEnd = "sentence_end"
            case heartbeat, stash, words
        }

        /// `end_time` is written as null while a sentence is interim (clients test it for
        /// null); an absent stash is left out, never null.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeIfPresent(sentenceID, forKey: .sentenceID)
            try container.encodeIfPresent(beginTime, forKey: .beginTime)
            try container.encode(endTime, forKey: .endTime)
            try container.encode(text, forKey: .text)
            try container.encodeIfPresent(lang, forKey: .lang)
            try container.encodeIfPresent(sentenceEnd, forKey: .sentenceEnd)
            try container.encodeIfPresent(heartbeat, forKey: .heartbeat)
            try container.encodeIfPresent(stash, forKey: .stash)
            try container.encodeIfPresent(words, forKey: .words)
        }
    }

    public struct Stash: Codable, Sendable, Equatable {
        public var sentenceID: Int?
        public var text: String
        public var beginTime: Int?
        public var endTime: Int?

        public init(sentenceID: Int?, text: String, beginTime: Int?, endTime: Int?) {
            self.sentenceID = sentenceID
            self.text = text
            self.beginTime = beginTime
            self.endTime = endTime
        }

        enum CodingKeys: String, CodingKey {
            case sentenceID = "sentence_id"
            case text
            case beginTime = "begin_time"
            case endTime = "end_time"
        }
    }

    public struct Word: Codable, Sendable, Equatable {
        public var beginTime: Int
        public var endTime: Int
        public var text: String
        public var punctuation: String
        public var fixed: Bool?

        public init(beginTime: Int, endTime: Int, text: String, punctuation: String, fixed: Bool?) {
            self.beginTime = beginTime
            self.endTime = endTime
            self.text = text
            self.punctuation = punctuation
            self.fixed = fixed
        }

        enum CodingKeys: String, CodingKey {
            case beginTime = "begin_time"
            case endTime = "end_time"
            case text, punctuation, fixed
        }
    }

    /// The provider's own count: "current task billed duration", whole seconds.
    public struct Usage: Codable, Sendable, Equatable {
        public var duration: Int?

        public init(duration: Int?) {
            self.duration = duration
        }
    }

    /// A fresh `task_id`: 32 hex characters.
    public static func newTaskID() -> String {
        UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }
}
