import Testing

extension Trait where Self == TimeLimitTrait {
    /// Every suite's bound per test: a test that hangs fails with its name and the run goes on,
    /// instead of using up CI's time (the slowest test takes about a minute here).
    static var bounded: Self { .timeLimit(.minutes(5)) }
}
