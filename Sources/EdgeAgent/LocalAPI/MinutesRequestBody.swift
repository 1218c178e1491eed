import Foundation
import Protocol

/// The body of `POST /api/license/minutes-request`: `{"minutes": 30, "note": "optional"}`,
/// checked here before central hears of it (central checks again).
struct MinutesRequestBody: Decodable, Equatable {
    var minutes: Double
    var note: String?

    static func parse(_ body: Data) -> MinutesRequestBody? {
        guard let asked = try? JSONDecoder().decode(MinutesRequestBody.self, from: body),
              asked.minutes.isFinite, MinutesRequestNotice.minutesRange.contains(asked.minutes),
              (asked.note?.count ?? 0) <= MinutesRequestNotice.noteLength
        else { return nil }
        return asked
    }
}
