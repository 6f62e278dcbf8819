import Foundation
import Testing
@testable import MSCSend

private func jsonOutcomes(_ text: String) throws(BatchInputError) -> [ReadOutcome] {
  var reader = JSONLinesReader(bytes: Array(text.utf8))
  return try outcomes(&reader)
}

private let notAnObject = "the line is not a JSON object: each line must be one object, like {\"email\": \"...\"}"
private let scalarsOnly = "values must be strings, numbers, booleans or null"

@Suite struct BatchJSONLinesReaderTests {
  @Test(arguments: [
    (
      "{\"email\": \"a@x.test\", \"name\": \"Åsa\"}\n{\"email\":\"b@x.test\"}",
      [
        ReadOutcome.row(number: 1, line: 1, ["email": "a@x.test", "name": "Åsa"]),
        .row(number: 2, line: 2, ["email": "b@x.test"]),
      ]
    ),
    (
      "\u{FEFF}\n  \r\n{\"a\":\"1\"}\r\n\n\t\n{}\n",  // BOM, blank lines skipped; CRLF
      [.row(number: 1, line: 3, ["a": "1"]), .row(number: 2, line: 6, [:])]
    ),
    (
      #"{"n": 42, "neg": -7, "zero": 0, "f": 3.0, "g": 3.000, "h": 1.50, "e": 1e3, "E": -2.5E-3, "#
        + #""big": 123456789012345678901234567890}"#,
      [
        .row(
          number: 1, line: 1,
          [
            "n": "42", "neg": "-7", "zero": "0", "f": "3", "g": "3", "h": "1.50", "e": "1e3", "E": "-2.5E-3",
            "big": "123456789012345678901234567890",
          ])
      ]
    ),
    (
      #"{"yes": true, "no": false, "nothing": null}"#,
      [.row(number: 1, line: 1, ["yes": "true", "no": "false", "nothing": ""])]
    ),
    (
      #"{"q": "say \"hi\"\\ \/ \b\f\n\r\t", "u": "\u00e5\u6771\u4eac", "pair": "\ud83d\ude00", "raw": "東京 Göteborg"}"#,
      [
        .row(
          number: 1, line: 1,
          ["q": "say \"hi\"\\ / \u{8}\u{C}\n\r\t", "u": "å東京", "pair": "😀", "raw": "東京 Göteborg"])
      ]
    ),
  ])
  func readsObjects(input: String, expected: [ReadOutcome]) throws {
    #expect(try jsonOutcomes(input) == expected)
  }

  /// Each bad line is a row error naming the line; the lines after it are still read.
  @Test(arguments: [
    (#"["a@x.test"]"#, notAnObject),
    (#""a@x.test""#, notAnObject),
    (#"{"tags": ["a", "b"]}"#, "the value of \"tags\" is an array: " + scalarsOnly),
    (#"{"who": {"n": 1}}"#, "the value of \"who\" is an object: " + scalarsOnly),
    (#"{"a": "1", "a": "2"}"#, "the key \"a\" appears twice"),
    (#"{"a": 1,}"#, "invalid JSON at column 9: expected a key in double quotes"),
    (#"{"a" 1}"#, "invalid JSON at column 6: expected \":\" after the key"),
    (#"{"a": 1 "b": 2}"#, "invalid JSON at column 9: expected \",\" or \"}\""),
    (#"{"a": 1} x"#, "invalid JSON at column 10: text after the object"),
    (#"{"a": 01}"#, "invalid JSON at column 7: a number cannot start with 0"),
    (#"{"a": 1.}"#, "invalid JSON at column 9: expected a digit after \".\""),
    (#"{"a": 1e}"#, "invalid JSON at column 9: expected a digit in the exponent"),
    (#"{"a": tru}"#, "invalid JSON at column 7: expected a value"),
    (#"{"a": "x\q"}"#, "invalid JSON at column 9: unknown escape \\q"),
    (#"{"a": "\ud83d"}"#, "invalid JSON at column 8: a \\u escape with a lone surrogate is not a character"),
    (#"{"a": "\u12"}"#, "invalid JSON at column 10: \\u needs four hex digits"),
    ("{\"a\": \"tab\there\"}", "invalid JSON at column 11: a control character inside a string must be escaped"),
    (#"{"a": "open}"#, "invalid JSON at column 13: the string is not closed"),
  ])
  func reportsBadLines(line: String, problem: String) throws {
    let outcomes = try jsonOutcomes("\n" + line + "\n{\"ok\": \"yes\"}\n")
    #expect(outcomes == [.error("row 1 (line 2): " + problem), .row(number: 2, line: 3, ["ok": "yes"])])
  }

  @Test func nestedValueErrorNamesTheVariable() throws {
    var reader = JSONLinesReader(bytes: Array(#"{"email": "a@x.test", "tags": []}"#.utf8))
    let record = try #require(try reader.next())
    guard case .failure(let error) = record else {
      Issue.record("expected a row error, got \(record)")
      return
    }
    #expect(error.kind == .unsupportedValue)
    #expect(error.variable == "tags")
    #expect(reader.columns == nil)
  }

  @Test func invalidUTF8IsARowError() throws {
    var reader = JSONLinesReader(bytes: Array("{\"a\": \"".utf8) + [0xC3, 0x28] + Array("\"}\n{\"a\": \"b\"}".utf8))
    #expect(
      try outcomes(&reader) == [
        .error("row 1 (line 1): the line is not valid UTF-8"), .row(number: 2, line: 2, ["a": "b"]),
      ])
  }

  @Test func lineLongerThanTheLimitIsFatal() {
    let input = Array(("{}\n{\"a\": \"" + String(repeating: "x", count: 64) + "\"}").utf8)
    var reader = JSONLinesReader(bytes: input, maximumLineBytes: 32)
    let error = inputError { () throws(BatchInputError) in _ = try outcomes(&reader) }
    #expect(error == BatchInputError(.recordTooLarge, line: 2, "line 2 is longer than 32 bytes"))
  }

  @Test func chunkedFileReadingMatchesInMemoryReading() throws {
    let text = "\u{FEFF}{\"name\": \"山田 太郎\", \"n\": 1.0}\r\n\n[1]\n{\"q\": \"\\u00e5\\ud83d\\ude00\"}"
    var whole = JSONLinesReader(bytes: Array(text.utf8))
    let expected = try outcomes(&whole)
    #expect(expected.count == 3)
    let file = try TemporaryFile(Array(text.utf8), name: "rows.jsonl")
    defer { file.cleanUp() }
    for chunkSize in [1, 2, 3, 5, 64 * 1024] {
      var reader = try JSONLinesReader(contentsOfFile: file.path, chunkSize: chunkSize)
      #expect(try outcomes(&reader) == expected, "chunk size \(chunkSize)")
    }
  }
}
