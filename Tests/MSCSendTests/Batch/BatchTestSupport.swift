import Foundation
import Testing
@testable import MSCSend

/// What a reader gave for one record, in a form tests can compare in one `#expect`: the row, or
/// the error's full message.
enum ReadOutcome: Equatable, CustomStringConvertible {
  case row(number: Int, line: Int, [String: String])
  case error(String)

  init(_ record: Result<BatchRow, BatchRowError>) {
    switch record {
    case .success(let row): self = .row(number: row.number, line: row.line, row.values)
    case .failure(let error): self = .error(error.message)
    }
  }

  var description: String {
    switch self {
    case .row(let number, let line, let values): "row \(number) line \(line) \(values.sorted { $0.key < $1.key })"
    case .error(let message): "error: \(message)"
    }
  }
}

/// Every record of `source`, in order.
func outcomes(_ source: inout some BatchRowSource) throws(BatchInputError) -> [ReadOutcome] {
  var outcomes: [ReadOutcome] = []
  while let record = try source.next() { outcomes.append(ReadOutcome(record)) }
  return outcomes
}

func csvOutcomes(_ text: String) throws(BatchInputError) -> [ReadOutcome] {
  var reader = try CSVReader(bytes: Array(text.utf8))
  return try outcomes(&reader)
}

/// The error a reader throws somewhere in `body`, or nil when it throws none.
func inputError(_ body: () throws(BatchInputError) -> Void) -> BatchInputError? {
  do {
    try body()
    return nil
  } catch {
    return error
  }
}

/// A file in a fresh temporary directory holding `bytes`; removed by `cleanUp`.
struct TemporaryFile {
  let directory: URL
  let path: String

  init(_ bytes: [UInt8], name: String = "input") throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("msc-batch-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    path = directory.appendingPathComponent(name).path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
  }

  func cleanUp() {
    try? FileManager.default.removeItem(at: directory)
  }
}

/// A row as the first data row of a CSV file: number 1, line 2.
func batchRow(_ values: [String: String], number: Int = 1, line: Int? = nil) -> BatchRow {
  BatchRow(number: number, line: line ?? number + 1, values: values)
}
