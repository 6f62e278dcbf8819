/// One data row: its variables by name, and where it was in the file so errors can point at it.
public struct BatchRow: Sendable, Equatable {
  /// The record number: 1 is the first data row (the CSV header row is not counted; skipped blank
  /// lines are not counted either).
  public let number: Int
  /// The line of the file where the record starts (1-based; a quoted CSV field may span lines).
  public let line: Int
  public let values: [String: String]

  public init(number: Int, line: Int, values: [String: String]) {
    self.number = number
    self.line = line
    self.values = values
  }
}

/// Where rows come from; `CSVReader` and `JSONLinesReader` are the two kinds. A source yields each
/// record as a row or as the reason it is bad, so one bad row never hides the others; it throws
/// only when it cannot go on (the file cannot be read, a quote is never closed).
public protocol BatchRowSource {
  /// The variable names every row has (the CSV header row), or nil when each row names its own
  /// (JSON Lines).
  var columns: [String]? { get }
  /// The next record, or nil at the end of the input.
  mutating func next() throws(BatchInputError) -> Result<BatchRow, BatchRowError>?
}

/// A problem with one row: it cannot be read, or the template cannot be filled from it. Other rows
/// are not affected. The message says which row, which line, and which variable or header.
public struct BatchRowError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    /// The record does not follow the file's syntax (field count, a stray quote, not a JSON object).
    case malformedRecord
    /// The bytes of a field or line are not UTF-8.
    case invalidUTF8
    /// A JSON value that is an array or an object: a variable holds text.
    case unsupportedValue
    /// The template uses a variable this row does not have.
    case missingVariable
    /// A value with CR or LF would reach a header field (it could add fields of its own).
    case headerInjection
    /// A header value that is not well-formed once the values are in (a control character, a
    /// structured field that must be ASCII, a line that cannot be folded).
    case invalidHeader
    /// An address header that does not parse once the values are in.
    case invalidAddress
    /// No To, Cc or Bcc address once the values are in.
    case noRecipients
    /// Another row has the same idempotency key, so a re-run could not tell the two apart.
    case duplicateKey
    /// No configured channel carries mail from this row's sender.
    case noChannel
  }

  public let kind: Kind
  /// The record number (1 = first data row).
  public let row: Int
  /// The line where the record starts.
  public let line: Int
  /// The variable at fault, when one is.
  public let variable: String?
  /// The header field at fault, when one is.
  public let header: String?
  /// What is wrong, without the row prefix.
  public let problem: String

  public init(
    _ kind: Kind, row: Int, line: Int, variable: String? = nil, header: String? = nil, _ problem: String
  ) {
    self.kind = kind
    self.row = row
    self.line = line
    self.variable = variable
    self.header = header
    self.problem = problem
  }

  /// `row 3 (line 4): <problem>`; the caller may put the file name in front.
  public var message: String { "row \(row) (line \(line)): \(problem)" }
  public var description: String { message }

  /// Every row problem is bad input data.
  public var exitCode: ExitCode { .dataError }
}

/// A problem with the input as a whole, after which no further row can be trusted: the file cannot
/// be read, its header row is unusable, a quote opened in one record is never closed.
public struct BatchInputError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    /// The file cannot be opened or read.
    case unreadable
    /// No header row (an empty CSV file).
    case missingHeader
    /// A header row with an empty or repeated name, or one that does not parse.
    case invalidHeader
    /// A quoted field runs to the end of the file.
    case unterminatedQuote
    /// A record larger than the reader's limit (usually a quote that is never closed).
    case recordTooLarge
    /// The template uses variables the CSV header row does not name.
    case missingColumns
    /// A campaign name that cannot be part of an idempotency key.
    case invalidCampaign
  }

  public let kind: Kind
  /// The line the problem is on, when it has one.
  public let line: Int?
  public let message: String

  public init(_ kind: Kind, line: Int? = nil, _ message: String) {
    self.kind = kind
    self.line = line
    self.message = message
  }

  public var description: String { message }

  /// EX_IOERR when the file cannot be read, EX_DATAERR for everything in it.
  public var exitCode: ExitCode { kind == .unreadable ? .ioError : .dataError }
}
