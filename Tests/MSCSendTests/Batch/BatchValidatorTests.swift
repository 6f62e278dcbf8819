import Foundation
import Testing
@testable import MSCSend

private let greetingTemplate =
  "From: shop@acme.test\nTo: {{name}} <{{email}}>\nSubject: Hi {{name}}\n\nHello {{name}}\n"

private func validator(_ template: String = greetingTemplate) throws -> BatchValidator {
  try BatchValidator(template: try MessageTemplate(template), campaign: "spring")
}

@Suite struct BatchValidatorTests {
  /// Rendering on several threads a window at a time gives exactly what one thread gives: the same
  /// rows, keys, errors in the same order, and `accept` called in row order.
  @Test func renderingOnSeveralThreadsChangesNothing() throws {
    var csv = "email,name,key\n"
    for number in 1...1300 {
      switch number % 97 {
      case 0: csv += "bad@,Dan \(number),\(number)\n"
      case 1: csv += "d\(number)@x.test,Di,7\n"
      default: csv += "p\(number)@x.test,Person \(number),\(number)\n"
      }
    }
    var sequential = try CSVReader(bytes: Array(csv.utf8))
    let one = try validator().validate(&sequential)
    var parallel = try CSVReader(bytes: Array(csv.utf8))
    let order = OrderLog()
    let four = try validator().validate(&parallel, workers: 4, prepare: { row, _ in row.number }) { keyed, _, number in
      order.numbers.append(number)
      return keyed.row.number == 500 ? BatchRowError(.noChannel, row: 500, line: 501, "refused by accept") : nil
    }
    #expect(four.rowCount == one.rowCount)
    #expect(four.rows.map(\.key) == one.rows.map(\.key).filter { $0 != "spring:500" })
    var expected = one.errors.map(\.message)
    let position = one.errors.firstIndex { $0.row > 500 } ?? expected.count
    expected.insert("row 500 (line 501): refused by accept", at: position)
    #expect(four.errors.map(\.message) == expected)
    #expect(order.numbers == order.numbers.sorted(), "accept sees the rows in order")
    #expect(!one.errors.isEmpty)
  }

  /// Every bad row is reported, each problem with its row and line, in file order; the good rows
  /// come back with their keys.
  @Test func reportsEveryBadRowOfACSVFile() throws {
    let csv = """
      email,name,key
      a@x.test,Ada,1
      b@x.test,Bo
      c@x.test,"Eve
      Bcc: victim@x.test",3
      bad@,Dan,4
      d@x.test,Di,1
      e@x.test,Ed,
      e@x.test,Ed,
      f@x.test,Fa,7

      """
    var reader = try CSVReader(bytes: Array(csv.utf8))
    let validation = try validator().validate(&reader)
    let injection = "contains a line break (CR or LF) and would go into header"
    #expect(
      validation.errors.map(\.message) == [
        "row 2 (line 3): has 2 fields, the header row has 3",
        "row 3 (line 4): the value of {{name}} \(injection) To: refused to prevent header injection",
        "row 3 (line 4): the value of {{name}} \(injection) Subject: refused to prevent header injection",
        "row 4 (line 6): header To: invalid address \"\\\"Dan\\\" <bad@>\": missing domain (from {{name}}, {{email}})",
        "row 5 (line 7): the key \"1\" is also row 1's: a re-run could not tell them apart",
        "row 7 (line 9): the same values as row 6, so the same idempotency key: "
          + "give each row a unique \"key\" column to send both",
      ])
    #expect(
      validation.errors.map(\.kind) == [
        .malformedRecord, .headerInjection, .headerInjection, .invalidAddress, .duplicateKey, .duplicateKey,
      ])
    #expect(validation.badRows == [2, 3, 4, 5, 7])
    #expect(validation.rowCount == 8)
    #expect(validation.rows.map(\.row.number) == [1, 6, 8])
    #expect(validation.rows.map(\.key).prefix(1) == ["spring:1"])
    #expect(validation.rows[1].key.hasPrefix("spring:sha256:"))
    #expect(validation.rows[2].key == "spring:7")
    #expect(!validation.isValid)
  }

  @Test func cleanInputIsValid() throws {
    var reader = try CSVReader(bytes: Array("email,name\na@x.test,Ada\nb@x.test,\"Doe, Jane\"\n".utf8))
    let validation = try validator().validate(&reader)
    #expect(validation.isValid)
    #expect(validation.errors.isEmpty)
    #expect(validation.rows.count == 2)
    #expect(validation.rowCount == 2)
  }

  /// JSON Lines rows name their own variables, so a missing one is reported per row.
  @Test func reportsMissingVariablesPerJSONLine() throws {
    let jsonl = """
      {"email": "a@x.test", "name": "Ada"}
      {"email": "b@x.test"}

      {"name": "Cy", "tags": ["x"]}
      {"mail": "d@x.test", "name": "Di"}
      """
    var reader = JSONLinesReader(bytes: Array(jsonl.utf8))
    let validation = try validator().validate(&reader)
    #expect(
      validation.errors.map(\.message) == [
        "row 2 (line 2): no value for {{name}}: the row has no variable \"name\"",
        "row 3 (line 4): the value of \"tags\" is an array: values must be strings, numbers, booleans or null",
        "row 4 (line 5): no value for {{email}}: the row has no variable \"email\"; did you mean \"mail\"?",
      ])
    #expect(validation.rows.map(\.row.number) == [1])
  }

  /// A column the template needs but the header row lacks would fail every row: it is one error.
  @Test func missingColumnIsOneErrorNotOnePerRow() throws {
    let checker = try validator()
    var reader = try CSVReader(bytes: Array("email,nmae\na@x.test,Ada\nb@x.test,Bo\n".utf8))
    let error = inputError { () throws(BatchInputError) in _ = try checker.validate(&reader) }
    #expect(
      error
        == BatchInputError(
          .missingColumns, line: 1,
          "the template uses {{name}} but the header row has no column \"name\"; did you mean \"nmae\"?"))

    var other = try CSVReader(bytes: Array("address,x\n".utf8))
    let several = inputError { () throws(BatchInputError) in _ = try checker.validate(&other) }
    #expect(
      several?.message
        == "the template uses {{name}}, {{email}} but the header row has no columns \"name\", \"email\" "
        + "(its columns: \"address\", \"x\")")
  }

  @Test func refusesAnInvalidCampaign() throws {
    let template = try MessageTemplate(greetingTemplate)
    let error = inputError { () throws(BatchInputError) in _ = try BatchValidator(template: template, campaign: "a:b") }
    #expect(error?.kind == .invalidCampaign)
  }

  /// A fatal reader error still stops validation: nothing after it can be trusted.
  @Test func unterminatedQuoteStopsValidation() throws {
    let checker = try validator()
    var reader = try CSVReader(bytes: Array("email,name\na@x.test,\"Ada\nb@x.test,Bo\n".utf8))
    let error = inputError { () throws(BatchInputError) in _ = try checker.validate(&reader) }
    #expect(error?.kind == .unterminatedQuote)
    #expect(error?.message == "row 1 (line 2): the quote opened on line 2 is never closed")
  }
}

/// Collects what `accept` saw.
private final class OrderLog: @unchecked Sendable {
  var numbers: [Int] = []
}
