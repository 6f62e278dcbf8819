import Foundation
import Testing
@testable import MSCSend

/// SplitMix64: a fixed sequence, so a failing property test fails the same way every run.
private struct SeededGenerator: RandomNumberGenerator {
  var state: UInt64

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

@Suite struct BatchIdempotencyKeyTests {
  @Test func keyColumnGivesTheKey() {
    let row = batchRow(["key": "cust-42", "email": "a@x.test"])
    #expect(IdempotencyKey.make(campaign: "spring", row: row) == "spring:cust-42")
    #expect(IdempotencyKey.make(campaign: "spring", row: row, keyColumn: "email") == "spring:a@x.test")
  }

  /// Pinned: a change to the canonical encoding would make every earlier batch send again. The
  /// hash was computed independently (Python hashlib) from the documented encoding.
  @Test func rowWithoutKeyIsHashedCanonically() {
    let values = ["b": "2", "a": "xy"]
    #expect(IdempotencyKey.canonicalEncoding(values) == Array("msc-send-row-v11:a2:xy1:b1:2".utf8))
    let expected = "spring:sha256:38af2639f5cf441a4890f57d90a612be16321625392cb07a5033ffd0c3165d23"
    #expect(IdempotencyKey.make(campaign: "spring", row: batchRow(values)) == expected)
    #expect(IdempotencyKey.make(campaign: "spring", row: batchRow(values.merging(["key": " "]) { $1 })) != expected)
    #expect(
      IdempotencyKey.make(campaign: "spring", row: batchRow(values.merging(["key": " \t"]) { $1 }))
        .hasPrefix("spring:sha256:"))
  }

  /// The row's number and line are where it is, not what it is: moving a row keeps its key.
  @Test func positionDoesNotChangeTheKey() {
    let values = ["email": "a@x.test", "name": "Ada"]
    #expect(
      IdempotencyKey.make(campaign: "c", row: BatchRow(number: 1, line: 2, values: values))
        == IdempotencyKey.make(campaign: "c", row: BatchRow(number: 90, line: 4000, values: values)))
  }

  @Test(arguments: [
    (["a": "b", "c": ""], ["a": "", "c": "b"]),
    (["ab": "c"], ["a": "bc"]),
    (["a": "1:b"], ["a": "1", "b": ""]),
    (["a": "b1:c1:d"], ["a": "b", "c": "d"]),
    ([:], ["": ""]),
  ])
  func concatenationCannotCollide(first: [String: String], second: [String: String]) {
    #expect(IdempotencyKey.canonicalEncoding(first) != IdempotencyKey.canonicalEncoding(second))
    #expect(
      IdempotencyKey.make(campaign: "c", row: batchRow(first))
        != IdempotencyKey.make(campaign: "c", row: batchRow(second)))
  }

  /// Swift compares canonically equivalent strings equal; so does the key.
  @Test func normalizationFormDoesNotMatter() {
    let composed = batchRow(["name": "Åsa Ekström", "ort": "Göteborg"])
    let decomposed = batchRow(["name": "A\u{30A}sa Ekstro\u{308}m", "ort": "Go\u{308}teborg"])
    #expect(IdempotencyKey.make(campaign: "c", row: composed) == IdempotencyKey.make(campaign: "c", row: decomposed))
    #expect(
      IdempotencyKey.make(campaign: "c", row: batchRow(["key": "Åsa"]))
        == IdempotencyKey.make(campaign: "c", row: batchRow(["key": "A\u{30A}sa"])))
  }

  @Test func campaignsKeepKeysApart() {
    let row = batchRow(["email": "a@x.test"])
    #expect(IdempotencyKey.make(campaign: "spring", row: row) != IdempotencyKey.make(campaign: "autumn", row: row))
  }

  /// Property: over random rows built from pieces chosen to tempt collisions (separators, digits,
  /// empty strings, decomposed characters), two rows share a key exactly when they are equal, and
  /// the order a row's variables were added in never matters.
  @Test func randomRowsCollideOnlyWhenEqual() {
    var generator = SeededGenerator(state: 2026)
    let names = ["a", "b", "ab", "1", "1:", ":", "key2", "é", "e\u{301}x", "名前"]
    let pieces = ["", "a", "b", ":", "1", "1:", "2:a", "é", "e\u{301}", "東", "=", " "]
    var rowsByKey: [String: [String: String]] = [:]
    var distinctRows: Set<[String: String]> = []
    for _ in 0..<4000 {
      var pairs: [(String, String)] = []
      for _ in 0..<Int.random(in: 0...4, using: &generator) {
        let name = names.randomElement(using: &generator) ?? ""
        let value = (0..<Int.random(in: 0...3, using: &generator)).map { _ in
          pieces.randomElement(using: &generator) ?? ""
        }.joined()
        pairs.append((name, value))
      }
      let values = Dictionary(pairs, uniquingKeysWith: { _, last in last })
      let key = IdempotencyKey.make(campaign: "p", row: batchRow(values))
      if let earlier = rowsByKey[key] {
        #expect(earlier == values, "different rows share the key \(key): \(earlier) and \(values)")
      }
      rowsByKey[key] = values
      distinctRows.insert(values)
      let reordered = Dictionary(
        values.shuffled(using: &generator).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
      #expect(IdempotencyKey.make(campaign: "p", row: batchRow(reordered)) == key)
    }
    #expect(rowsByKey.count == distinctRows.count)
    #expect(distinctRows.count > 1000, "the generator should produce many distinct rows")
  }

  @Test(arguments: ["", "spring:2026", "spring 2026", "tab\there", "nl\n"])
  func rejectsCampaignNamesThatCannotBePartOfAKey(campaign: String) {
    let error = inputError { () throws(BatchInputError) in try IdempotencyKey.validateCampaign(campaign) }
    #expect(error?.kind == .invalidCampaign)
    #expect(
      error?.message
        == "invalid campaign name \(ComposeError.visible(campaign)): it must be non-empty, without \":\", "
        + "spaces or control characters")
  }

  @Test(arguments: ["spring-2026", "newsletter_07", "été.2026", "q3/launch"])
  func acceptsOrdinaryCampaignNames(campaign: String) {
    #expect(inputError { () throws(BatchInputError) in try IdempotencyKey.validateCampaign(campaign) } == nil)
  }
}
