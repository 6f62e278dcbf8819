import Foundation
import Testing
@testable import MSCSend

/// 100,000 rows stream through the readers and the validator within the time limit. No assertion
/// on wall-clock time (machines differ); the limit catches a quadratic slip or a per-row cost
/// far beyond the few tens of microseconds a debug build spends.
@Suite struct BatchLargeInputTests {
  static let rowCount = 100_000

  @Test(.timeLimit(.minutes(1)))
  func validatesOneHundredThousandCSVRows() throws {
    var csv = "key,email,name,note\r\n"
    csv.reserveCapacity(Self.rowCount * 64)
    for index in 1...Self.rowCount {
      let name = index % 3 == 0 ? "\"Doe, Jane \(index)\"" : "Åsa \(index)"
      let note = index % 5 == 0 ? "\"two\r\nlines\"" : "plain"
      csv += "\(index),user\(index)@example.com,\(name),\(note)\r\n"
    }
    let file = try TemporaryFile(Array(csv.utf8), name: "large.csv")
    defer { file.cleanUp() }
    // Values reach one header (rendering headers is the costly part in a debug build) and the body.
    let template = try MessageTemplate("From: shop@acme.test\nTo: {{email}}\nSubject: Hej!\n\nHej {{name}},\n{{note}}")
    let validator = try BatchValidator(template: template, campaign: "large")
    var reader = try CSVReader(contentsOfFile: file.path)
    let validation = try validator.validate(&reader)
    #expect(validation.isValid)
    #expect(validation.rowCount == Self.rowCount)
    let last = try #require(validation.rows.last)
    #expect(last.row.number == Self.rowCount)
    // Every fifth record so far spanned two lines: the header line, then 1.2 lines per record.
    #expect(last.row.line == 2 + (Self.rowCount - 1) + (Self.rowCount - 1) / 5)
    #expect(last.row.values["name"] == "Åsa \(Self.rowCount)")
    #expect(last.key == "large:\(Self.rowCount)")
  }

  @Test(.timeLimit(.minutes(1)))
  func readsOneHundredThousandJSONLines() throws {
    var jsonl = ""
    jsonl.reserveCapacity(Self.rowCount * 64)
    for index in 1...Self.rowCount {
      jsonl += "{\"email\": \"user\(index)@example.com\", \"n\": \(index), \"vip\": \(index % 2 == 0)}\n"
    }
    let file = try TemporaryFile(Array(jsonl.utf8), name: "large.jsonl")
    defer { file.cleanUp() }
    var reader = try JSONLinesReader(contentsOfFile: file.path)
    let (rows, errors) = try reader.readAll()
    #expect(errors.isEmpty)
    #expect(rows.count == Self.rowCount)
    let values = ["email": "user\(Self.rowCount)@example.com", "n": "\(Self.rowCount)", "vip": "true"]
    #expect(rows.last == BatchRow(number: Self.rowCount, line: Self.rowCount, values: values))
  }
}
