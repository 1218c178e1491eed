/// One result as a provider's task reports it, before the engine makes it the session's: the
/// id is the task's own, the times are offsets into the task's audio.
public struct ProviderTaskResult: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case transcript
        case translation
    }

    public var kind: Kind
    /// The provider's id for the sentence within its task (a new task may reuse ids).
    public var sentenceID: Int
    public var beginMs: Int?
    public var endMs: Int?
    public var text: String
    /// nil: the session's source language (a transcript) or target language (a translation).
    public var language: String?
    public var final: Bool

    public init(kind: Kind, sentenceID: Int, beginMs: Int?, endMs: Int?, text: String, language: String?, final: Bool) {
        self.kind = kind
        self.sentenceID = sentenceID
        self.beginMs = beginMs
        self.endMs = endMs
        self.text = text
        self.language = language
        self.final = final
    }
}
