import Foundation

/// libFuzzer entry point: one input is one body of `POST /api/translation/start` as any local
/// process or web page could send it. Compiled together with
/// Sources/EdgeAgent/LocalAPI/TranslationStartRequest.swift, the edge's own decoding.
///
/// Besides "no crash, no trap": whatever is accepted keeps the route's promises.
@_cdecl("LLVMFuzzerTestOneInput")
public func edgeStartRequestFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = data.map { Data(bytes: $0, count: size) } ?? Data()
    guard let request = TranslationStartRequest.parse(body) else { return 0 }
    guard !request.sourceLanguage.isEmpty,
          request.sourceLanguage.count <= TranslationStartRequest.maxLanguageLength,
          (request.targetLanguage?.count ?? 0) <= TranslationStartRequest.maxLanguageLength
    else { fatalError("accepted a start request outside the route's limits") }
    return 0
}
