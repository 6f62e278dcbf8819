import Foundation
import Testing
@testable import MSCSend

/// The official toml-test suite (TOML 1.0.0 subset), read in place from `<project>/../shared/corpus`.
/// `<project>/Tests/MSCSendTests/Config/this file` -> `<project>/../shared/corpus/toml-test`.
let tomlTestSuite = URL(fileURLWithPath: #filePath)
  .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()
  .appendingPathComponent("shared/corpus/toml-test")

/// Suite files allowed to fail, with the reason for each. Empty: the parser passes the whole suite.
/// An entry that starts passing fails the test, so the list cannot go stale.
private let excludedTests: [String: String] = [:]

/// The paths of the suite's `.toml` files, from upstream's own list for TOML 1.0.0.
func tomlTestFiles() throws -> [String] {
  let list = try String(contentsOf: tomlTestSuite.appendingPathComponent("files-toml-1.0.0"), encoding: .utf8)
  return list.split(whereSeparator: \.isNewline).map(String.init).filter { $0.hasSuffix(".toml") }
}

func readBytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

@Test func tomlTestSuiteConformance() throws {
  var validPassed = 0
  var validTotal = 0
  var invalidRejected = 0
  var invalidTotal = 0
  var failures: [String: String] = [:]
  let clock = ContinuousClock()
  var parsing = Duration.zero
  for path in try tomlTestFiles() {
    let bytes = try readBytes(tomlTestSuite.appendingPathComponent(path))
    let started = clock.now
    let result = Result { () throws(TOMLError) in try TOMLParser.parse(bytes, file: path) }
    parsing += clock.now - started
    if path.hasPrefix("valid/") {
      validTotal += 1
      let jsonPath = String(path.dropLast(".toml".count)) + ".json"
      let json = try Data(contentsOf: tomlTestSuite.appendingPathComponent(jsonPath))
      let expected = try JSONSerialization.jsonObject(with: json)
      switch result {
      case .success(let table):
        if let difference = TaggedJSON.difference(expected: expected, actual: TaggedJSON.tagged(table)) {
          failures[path] = difference
        } else {
          validPassed += 1
        }
      case .failure(let error):
        failures[path] = "rejected: \(error)"
      }
    } else {
      #expect(path.hasPrefix("invalid/"), "unexpected path \(path)")
      invalidTotal += 1
      if case .success(let table) = result {
        failures[path] = "accepted: \(TaggedJSON.tagged(table))"
      } else {
        invalidRejected += 1
      }
    }
  }
  print("toml-test: valid \(validPassed)/\(validTotal), invalid \(invalidRejected)/\(invalidTotal), "
    + "excluded \(excludedTests.count), parsing took \(parsing)")
  #expect(validTotal == 210 && invalidTotal == 499, "the suite's file list changed")
  for (path, reason) in failures.sorted(by: { $0.key < $1.key }) where excludedTests[path] == nil {
    Issue.record("\(path): \(reason)")
  }
  for (path, reason) in excludedTests where failures[path] == nil {
    Issue.record("\(path) is excluded (\(reason)) but passes now: remove it from the exclusions")
  }
  #expect(parsing < .seconds(2), "the whole suite should parse in well under a second")
}

/// The comparison above must be able to fail, or the suite proves nothing.
@Test func taggedJSONComparisonSeesDifferences() throws {
  let table = try TOMLParser.parse("a = 1\nb = [1.5, \"x\"]\nc = 1979-05-27T07:32:00Z\n")
  let tagged = TaggedJSON.tagged(table)
  func integer(_ value: String) -> [String: String] { ["type": "integer", "value": value] }
  let same: [String: Any] = [
    "a": integer("1"),
    "b": [["type": "float", "value": "15e-1"], ["type": "string", "value": "x"]],
    "c": ["type": "datetime", "value": "1979-05-27 00:32:00-07:00"],
  ]
  #expect(TaggedJSON.difference(expected: same, actual: tagged) == nil)
  var changed = same
  changed["a"] = integer("2")
  #expect(TaggedJSON.difference(expected: changed, actual: tagged) != nil)
  changed = same
  changed["c"] = ["type": "datetime", "value": "1979-05-27T07:32:00.001Z"]
  #expect(TaggedJSON.difference(expected: changed, actual: tagged) != nil)
  changed = same
  changed["b"] = [["type": "float", "value": "1.5"]]
  #expect(TaggedJSON.difference(expected: changed, actual: tagged) != nil)
  changed = same
  changed["d"] = integer("1")
  #expect(TaggedJSON.difference(expected: changed, actual: tagged) != nil)
  #expect(TaggedJSON.difference(expected: ["x": ["type": "float", "value": "nan"]],
    actual: ["x": ["type": "float", "value": "-nan"]]) == nil)
}
