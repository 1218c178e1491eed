/// One open task on a provider's connection, as an adapter gives it to the engine. The engine
/// calls `send` and `finish` from one writer task and `read` from one reader task, concurrently.
public protocol ProviderTaskChannel: Sendable {
    /// The task's id, for the log.
    var taskID: String { get }
    /// Audio, in order. Called only once the task started, and then also with no packets (the
    /// adapter may send what must precede audio, such as stream headers).
    func send(_ packets: [[UInt8]]) async throws
    /// No more audio for this task: flush and ask the provider for the last results.
    func finish() async throws
    /// Reads the provider's messages, handing each event on, until the task finished (returns)
    /// or failed (throws a `ProviderFailure`). A connection that ends first is a failure too.
    func read(_ deliver: (ProviderTaskEvent) -> Void) async throws
}
