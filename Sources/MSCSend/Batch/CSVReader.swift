/// Rows from CSV as RFC 4180 defines it, read as a stream: the first record names the variables
/// (section 2 (3)); fields are separated by commas; a field in double quotes may hold commas, line
/// breaks and quotes written twice (section 2 (5)-(7)).
///
/// Beyond the RFC, as spreadsheets write it: records may end with CRLF, LF or a lone CR; the last
/// record may lack a line end; a UTF-8 byte order mark at the start is skipped; empty lines between
/// records are skipped (so a one-column file cannot hold an empty value on a line of its own).
/// Header names are taken exactly as written, spaces included.
///
/// A record with the wrong number of fields, a stray quote or bytes that are not UTF-8 is a row
/// error and reading goes on with the next record. A quote never closed is fatal: the rest of the
/// file would be one field, so the error names the record and line where the quote opened.
public struct CSVReader: BatchRowSource {
  /// Larger records are refused (fatal): nearly always an unclosed quote swallowing the file.
  public static let defaultMaximumRecordBytes = 1 << 20

  /// The variable names from the header row, in column order.
  public private(set) var header: [String]
  public var columns: [String]? { header }

  private var input: ChunkedInput
  private var line = 1
  private var recordCount = 0
  private let maximumRecordBytes: Int

  /// Reads CSV held in memory.
  public init(bytes: [UInt8], maximumRecordBytes: Int = defaultMaximumRecordBytes) throws(BatchInputError) {
    try self.init(input: ChunkedInput(bytes: bytes), maximumRecordBytes: maximumRecordBytes)
  }

  /// Reads a CSV file `chunkSize` bytes at a time.
  public init(
    contentsOfFile path: String, chunkSize: Int = 64 * 1024, maximumRecordBytes: Int = defaultMaximumRecordBytes
  ) throws(BatchInputError) {
    let input = try ChunkedInput(contentsOfFile: path, chunkSize: chunkSize)
    try self.init(input: input, maximumRecordBytes: maximumRecordBytes)
  }

  private init(input: ChunkedInput, maximumRecordBytes: Int) throws(BatchInputError) {
    self.input = input
    self.maximumRecordBytes = maximumRecordBytes
    self.header = []
    try self.input.skipByteOrderMark()
    guard let record = try readRecord(names: []) else {
      throw BatchInputError(.missingHeader, line: 1, "the CSV input is empty: its first line must name the variables")
    }
    self.header = try Self.names(of: record)
  }

  /// The header row's fields as names: UTF-8, none empty, none repeated.
  private static func names(of record: RawRecord) throws(BatchInputError) -> [String] {
    let prefix = "header row (line \(record.line)): "
    if let problem = record.problem { throw BatchInputError(.invalidHeader, line: record.line, prefix + problem) }
    var names: [String] = []
    var firstColumn: [String: Int] = [:]
    for (index, bytes) in record.fields.enumerated() {
      let column = index + 1
      guard let name = String(validating: bytes, as: UTF8.self) else {
        throw BatchInputError(.invalidHeader, line: record.line, prefix + "column \(column) is not valid UTF-8")
      }
      if name.isEmpty {
        throw BatchInputError(.invalidHeader, line: record.line, prefix + "column \(column) has no name")
      }
      if let first = firstColumn[name] {
        throw BatchInputError(
          .invalidHeader, line: record.line,
          prefix + "column \(column) repeats the name \(ComposeError.visible(name)) of column \(first)")
      }
      firstColumn[name] = column
      names.append(name)
    }
    return names
  }

  /// The next record as a row, or why it is not one; nil at the end of the input.
  public mutating func next() throws(BatchInputError) -> Result<BatchRow, BatchRowError>? {
    guard let record = try readRecord(names: header) else { return nil }
    recordCount += 1
    let number = recordCount
    if let problem = record.problem {
      return .failure(BatchRowError(.malformedRecord, row: number, line: record.line, problem))
    }
    guard record.fields.count == header.count else {
      let count = record.fields.count
      let problem = "has \(count) field\(count == 1 ? "" : "s"), the header row has \(header.count)"
      return .failure(BatchRowError(.malformedRecord, row: number, line: record.line, problem))
    }
    var values: [String: String] = [:]
    values.reserveCapacity(header.count)
    for (index, bytes) in record.fields.enumerated() {
      guard let value = String(validating: bytes, as: UTF8.self) else {
        let problem = "field \(index + 1) (\(header[index])) is not valid UTF-8: save the file as UTF-8"
        return .failure(
          BatchRowError(.invalidUTF8, row: number, line: record.line, variable: header[index], problem))
      }
      values[header[index]] = value
    }
    return .success(BatchRow(number: number, line: record.line, values: values))
  }

  // MARK: Records

  private struct RawRecord {
    var fields: [[UInt8]]
    var line: Int
    /// The first syntax problem; the record was still read to its end.
    var problem: String?
  }

  private enum State {
    case fieldStart, unquoted, quoted, afterClosingQuote
  }

  /// One record's raw fields, after skipping empty lines; nil at the end of the input. `names`
  /// label fields in problems; without names it is the header row.
  private mutating func readRecord(names: [String]) throws(BatchInputError) -> RawRecord? {
    while let byte = try input.peek(), byte == .lineFeed || byte == .carriageReturn {
      _ = try input.next()
      try endLine(after: byte)
    }
    let quote = UInt8(ascii: "\"")
    var record = RawRecord(fields: [], line: line)
    var field: [UInt8] = []
    var state = State.fieldStart
    var quoteLine = line
    var size = 0
    func label() -> String { names.isEmpty ? "header row" : "row \(recordCount + 1)" }
    func describeField() -> String {
      let index = record.fields.count
      return index < names.count ? "field \(index + 1) (\(names[index]))" : "field \(index + 1)"
    }
    while true {
      guard let byte = try input.next() else {
        if size == 0 { return nil }
        if state == .quoted {
          throw BatchInputError(
            .unterminatedQuote, line: quoteLine,
            "\(label()) (line \(record.line)): the quote opened on line \(quoteLine) is never closed")
        }
        record.fields.append(field)
        return record
      }
      size += 1
      if size > maximumRecordBytes {
        throw BatchInputError(
          .recordTooLarge, line: record.line,
          "\(label()) (line \(record.line)) is larger than \(maximumRecordBytes) bytes: is a quote never closed?")
      }
      if state == .quoted {
        if byte == quote {
          state = .afterClosingQuote
        } else {
          field.append(byte)
          if byte == .lineFeed { line += 1 }
          if byte == .carriageReturn, try input.peek() != .lineFeed { line += 1 }
        }
        continue
      }
      if byte == UInt8(ascii: ",") {
        record.fields.append(field)
        field = []
        state = .fieldStart
        continue
      }
      if byte == .lineFeed || byte == .carriageReturn {
        try endLine(after: byte)
        record.fields.append(field)
        return record
      }
      switch state {
      case .fieldStart where byte == quote:
        state = .quoted
        quoteLine = line
        continue
      case .fieldStart, .quoted:
        state = .unquoted
      case .unquoted where byte == quote:
        let onlySpaces = field.allSatisfy { $0 == .space || $0 == .tab }
        record.problem =
          record.problem
          ?? (onlySpaces
            ? "\(describeField()) has a space before its opening quote: remove it, or quote the whole field"
            : "\(describeField()) has a quote inside an unquoted value: quote the field and double the quote")
      case .unquoted:
        break
      case .afterClosingQuote where byte == quote:
        state = .quoted  // "" inside quotes: one literal quote
      case .afterClosingQuote:
        record.problem =
          record.problem
          ?? "\(describeField()) has text after its closing quote: a quote inside quotes is written twice (\"\")"
        state = .unquoted
      }
      field.append(byte)
    }
  }

  /// Counts a line end; a CR followed by LF is one line end.
  private mutating func endLine(after byte: UInt8) throws(BatchInputError) {
    if byte == .carriageReturn, try input.peek() == .lineFeed { _ = try input.next() }
    line += 1
  }
}

extension BatchRowSource {
  /// Every remaining record: the good rows and the bad ones, each in file order.
  public mutating func readAll() throws(BatchInputError) -> (rows: [BatchRow], errors: [BatchRowError]) {
    var rows: [BatchRow] = []
    var errors: [BatchRowError] = []
    while let record = try next() {
      switch record {
      case .success(let row): rows.append(row)
      case .failure(let error): errors.append(error)
      }
    }
    return (rows, errors)
  }
}
