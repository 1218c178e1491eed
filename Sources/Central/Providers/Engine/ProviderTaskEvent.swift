/// What an adapter reads from its provider during a task, in the engine's terms. A task's end
/// is the return of `ProviderTaskChannel.read`; its failure is a thrown `ProviderFailure`.
public enum ProviderTaskEvent: Sendable, Equatable {
    /// The provider accepted the task: audio may flow.
    case started
    /// Recognised speech.
    case results([ProviderTaskResult])
    /// What the provider says it billed for this task so far, in seconds.
    case usage(seconds: Int)
    /// What a token-billed provider says it billed for this task so far, in tokens (OpenAI's
    /// gpt-4o-transcribe and kin report no seconds).
    case tokens(Int)
}
