@testable import Central
import Foundation
import HTTPTypes
import Protocol
import Testing

/// Length limits hold in UTF-8 bytes as well as characters, and names carry no control
/// characters: a grapheme cluster can be any number of bytes long, and a name with an escape
/// sequence or a bidi override rewrites the admin table, the CLI and the usage CSV it lands in.
struct TextFieldLimitsTests {
    static func reader(_ fields: [String: JSONValue]) throws -> JSONObjectReader {
        try JSONObjectReader(value: .object(fields), allowed: Set(fields.keys))
    }

    static func refusal(_ body: () throws -> Void) -> RequestValidationError? {
        do {
            try body()
            return nil
        } catch {
            return error as? RequestValidationError
        }
    }

    @Test func aFortyKilobyteSingleCharacterNameIsRefused() throws {
        // One grapheme cluster: "a" and 20 000 combining acute accents, 40 001 bytes.
        let name = "a" + String(repeating: "\u{0301}", count: 20_000)
        #expect(name.count == 1 && name.utf8.count == 40_001)
        let reader = try Self.reader(["customer_name": .string(name)])
        let error = Self.refusal { _ = try reader.string("customer_name", maxLength: 200) }
        #expect(error?.code == .stringTooLong)
        #expect(error?.field == "customer_name")
        #expect(error?.message.contains("bytes") == true, "\(String(describing: error))")
    }

    @Test func twoHundredChineseCharactersStillFitAName() throws {
        let name = String(repeating: "测", count: 200)
        #expect(try Self.reader(["customer_name": .string(name)]).string("customer_name", maxLength: 200) == name)
        let longer = try Self.reader(["customer_name": .string(name + "测")])
        #expect(Self.refusal { _ = try longer.string("customer_name", maxLength: 200) }?.code == .stringTooLong)
    }

    @Test func familyEmojiCountAsCharactersUpToTheByteBudget() throws {
        // 👨‍👩‍👧‍👦 is one character of 25 bytes: 32 of them (800 bytes) fit 200 characters' budget.
        let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}"
        #expect(try Self.reader(["customer_name": .string(String(repeating: family, count: 32))])
            .string("customer_name", maxLength: 200) != nil)
        let many = try Self.reader(["customer_name": .string(String(repeating: family, count: 40))])
        #expect(Self.refusal { _ = try many.string("customer_name", maxLength: 200) }?.code == .stringTooLong)
    }

    @Test(arguments: [
        "Acme\u{0}Ltd", "\u{1B}[31mAcme", "Acme\nLtd", "Acme\rLtd", "Acme\tLtd", "Acme\u{7F}", "Acme\u{85}Ltd",
        "Acme\u{202E}dtL", "Acme\u{2066}x\u{2069}", "Acme\u{2028}Ltd",
    ])
    func controlCharactersAreRefusedInNames(name: String) throws {
        let reader = try Self.reader(["customer_name": .string(name)])
        let error = Self.refusal { _ = try reader.string("customer_name", maxLength: 200) }
        #expect(error?.code == .invalidValue, "\(name.debugDescription) passed")
        #expect(error?.field == "customer_name")
    }

    @Test func notesKeepTheirLineBreaksButNotOtherControls() throws {
        let notes = "Line one\nLine two\r\n\tindented"
        #expect(try Self.reader(["notes": .string(notes)]).string("notes", maxLength: 2000, text: .multiline) == notes)
        let escape = try Self.reader(["notes": .string("ok\u{1B}[2J")])
        #expect(Self.refusal { _ = try escape.string("notes", maxLength: 2000, text: .multiline) }?.code == .invalidValue)
    }

    @Test func ordinaryNamesPass() throws {
        for name in ["Acme Ltd", "北京某某科技有限公司", "Zoë & Søn", "O'Brien-Smith (UK)"] {
            #expect(try Self.reader(["customer_name": .string(name)]).string("customer_name", maxLength: 200) == name)
        }
    }

    @Test func theAdminAPIRefusesBothOverTheWire() async throws {
        let fixture = try CentralFixture()
        try await fixture.withLiveServer { central in
            let huge = "a" + String(repeating: "\u{0301}", count: 20_000)
            let body = String(decoding: try JSONEncoder().encode(["customer_name": huge]), as: UTF8.self)
            let long = try await central.admin(.post, "/v1/admin/licenses", body: body)
            #expect(long.status == .badRequest)
            #expect(long.error?.code == .stringTooLong && long.error?.field == "customer_name", "\(long.text)")

            let escape = try await central.admin(.post, "/v1/admin/licenses", body: #"{"customer_name":"\u001b[31mAcme"}"#)
            #expect(escape.status == .badRequest)
            #expect(escape.error?.code == .invalidValue && escape.error?.field == "customer_name", "\(escape.text)")
        }
    }

    @Test func admissionRefusesAControlCharacterInTheDeviceID() async throws {
        let fixture = try CentralFixture()
        let (key, _) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let reply = try await central.edge(.post, "/v1/sessions", key: key, body: #"{"device_id":"dev\u0000ice"}"#)
            #expect(reply.status == .badRequest)
            #expect(reply.error?.code == .invalidValue && reply.error?.field == "device_id", "\(reply.text)")
        }
    }
}
