@testable import Central
import Foundation
import HummingbirdWSClient
import Protocol
import Testing

/// The demo provider serves exactly the pairs it publishes at `GET /v1/providers`, like
/// DashScope: an edge written from that catalog and an edge that ignores it see the same rules.
@Suite(.bounded, .serialized) struct DemoCatalogTests {
    @Test(arguments: [("en", "fr"), ("de", "ja"), ("xx", "yy"), ("zh", "zh"), ("klingon", nil)] as [(String, String?)])
    func aPairOutsideTheCatalogIsRefusedWith4003(source: String, target: String?) async throws {
        let provider = DemoSpeechProvider()
        #expect(!provider.catalog.supports(source: source, target: target))
        #expect(!provider.supports(source: source, target: target))
        let fixture = try CentralFixture(realTime: true)
        let (key, _) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let admitted = try await central.admit(key: key)
            let token = try #require(try admitted.json()["stream_token"] as? String)
            let client = StreamTestClient(port: central.port, token: token)
            client.start(source: source, target: target)
            let error = try #require(await client.waitFor { if case .error(let e) = $0 { e } else { nil } }, "\(client.messages)")
            #expect(error.code == .unsupportedLanguagePair)
            let close = try await client.connection.value
            #expect(close?.closeCode == .unknown(4003), "\(String(describing: close))")
            #expect(!client.messages.contains { if case .started = $0 { true } else { false } })
        }
    }

    @Test func everyPublishedPairIsServed() {
        let provider = DemoSpeechProvider()
        for language in provider.catalog.languages {
            for target in language.targets { #expect(provider.supports(source: language.source, target: target)) }
            if language.transcription { #expect(provider.supports(source: language.source, target: nil)) }
        }
    }
}
