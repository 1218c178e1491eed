@testable import Central
import Foundation
import Protocol
import Testing

/// What a provider says about its own failure stays in central's log: the edge is told our code
/// and our sentence, never the provider's text (which can carry internal hosts, request ids,
/// account details, or whatever a compromised provider response wants shown on the page).
@Suite(.bounded, .serialized) struct ProviderFailureTextTests {
    static let marker = "leak-marker-7f3a"

    @Test(arguments: [
        (#"{"failure":"task-failed","after_ms":400,"error_code":"InvalidParameter","error_message":"<script>alert(1)</script> at /srv/dashscope/worker-12 leak-marker-7f3a"}"#, ErrorCode.providerFailed),
        (#"{"failure":"task-failed","after_ms":400,"error_code":"InternalError","error_message":"upstream 10.0.0.7 leak-marker-7f3a","count":10}"#, ErrorCode.providerUnavailable),
    ])
    func theEdgeGetsOurSentenceAndTheLogKeepsTheProvidersText(injection: String, code: ErrorCode) async throws {
        let rig = try await DashScopeProviderTests.rig { $0.retries = 1 }
        defer { rig.fake.stop() }
        let (frames, _) = try DashScopeProviderTests.speechFrames("A short test sentence for failures.")
        let (key, _) = try await rig.fixture.createLicense()
        try await rig.fake.control("inject", injection)
        try await rig.fixture.withLiveServer(provider: rig.provider, keyVault: rig.vault) { central in
            let (client, _) = try await central.openStream(key: key, source: "en", target: "zh")
            let sent = Task { await client.stream(frames, interval: .milliseconds(20)) }
            let stopped = try #require(await client.stopped(timeout: .seconds(30)), "\(client.messages)")
            sent.cancel()
            #expect(stopped.reason == code)
            #expect(stopped.message == ProviderFailureSentence.sentence(for: code))
            let everything = client.messages.map { $0.encodedText() }.joined(separator: "\n")
            for leak in [Self.marker, "InvalidParameter", "InternalError", "10.0.0.7", "<script>", "DashScope:"] {
                #expect(!everything.contains(leak), "the edge was told '\(leak)'")
            }
            // The operator still learns what the provider said.
            #expect(rig.logs.all.contains { $0.contains(Self.marker) }, "the provider's text is not in central's log")
        }
    }

    @Test func everyProviderCodeHasItsOwnPlainSentence() {
        let codes: [ErrorCode] = [
            .providerUnavailable, .providerAuthFailed, .providerRateLimited, .providerFailed, .providerTimeout,
            .unsupportedLanguagePair,
        ]
        let sentences = codes.map(ProviderFailureSentence.sentence(for:))
        #expect(Set(sentences).count == codes.count)
        #expect(sentences.allSatisfy { $0.hasSuffix(".") && !$0.contains("DashScope") })
    }
}

/// Whatever a provider's reply says goes into a log line and a key's last error made safe, for
/// every adapter at once.
@Suite(.bounded) struct ProviderFailureMessageTests {
    @Test func controlCharactersCannotForgeALogLineAndTheTextIsBounded() {
        let forged = ProviderFailure.fatal(.providerFailed, "bad\nlevel=info msg=\"key accepted\"\r\u{1B}[31m\u{202E}x")
        #expect(!forged.message.unicodeScalars.contains { ["\n", "\r", "\u{1B}", "\u{202E}"].contains($0) })
        #expect(forged.message.hasPrefix("bad\u{FFFD}level=info"))
        let long = ProviderFailure.transient(.providerUnavailable, String(repeating: "a", count: 100_000))
        #expect(long.message.count == ProviderFailure.maximumMessageLength)
        #expect(long.keyOutcome == .failed(long.message))
    }
}
