// The value tree that `TOMLParser` produces; see TOMLParser.swift for what this folder owns.

/// Where something was written in a TOML document. Both numbers are 1-based; the column counts
/// Unicode scalars, not bytes, so it matches what an editor shows for non-ASCII text.
public struct SourcePosition: Sendable, Hashable, Comparable, CustomStringConvertible {
  public var line: Int
  public var column: Int

  public init(line: Int, column: Int) {
    self.line = line
    self.column = column
  }

  /// `line:column`, the form compilers and editors understand.
  public var description: String { "\(line):\(column)" }

  public static func < (lhs: SourcePosition, rhs: SourcePosition) -> Bool {
    (lhs.line, lhs.column) < (rhs.line, rhs.column)
  }
}

/// A TOML value. Arrays hold nodes, so every element keeps its own position.
public indirect enum TOMLValue: Sendable, Equatable {
  case string(String)
  case integer(Int64)
  case float(Double)
  case boolean(Bool)
  /// `1979-05-27T07:32:00Z`: date, time and offset are all present.
  case offsetDateTime(TOMLDateTime)
  /// `1979-05-27T07:32:00`: date and time, no offset.
  case localDateTime(TOMLDateTime)
  /// `1979-05-27`: only the date is present.
  case localDate(TOMLDateTime)
  /// `07:32:00`: only the time is present.
  case localTime(TOMLDateTime)
  /// A static array `[1, 2]` or an array of tables built from `[[name]]` headers.
  case array([TOMLNode])
  /// A `[header]` table, an inline table `{ ... }`, or a table implied by a dotted key.
  case table(TOMLTable)

  /// The TOML name of the value's type, for messages such as "expected a string, found an integer".
  public var typeName: String {
    switch self {
    case .string: "string"
    case .integer: "integer"
    case .float: "float"
    case .boolean: "boolean"
    case .offsetDateTime: "offset date-time"
    case .localDateTime: "local date-time"
    case .localDate: "local date"
    case .localTime: "local time"
    case .array: "array"
    case .table: "table"
    }
  }

  /// `typeName` with its indefinite article: "an integer", "a string".
  public var typeNameWithArticle: String {
    switch self {
    case .integer, .offsetDateTime, .array: "an \(typeName)"
    default: "a \(typeName)"
    }
  }
}

/// A value and the position of its first character (for a table built from a header: the `[`).
public struct TOMLNode: Sendable, Equatable {
  public var value: TOMLValue
  public var position: SourcePosition

  public init(value: TOMLValue, position: SourcePosition) {
    self.value = value
    self.position = position
  }
}

/// A TOML table: keys in the order they first appeared, each remembering where the key itself was
/// written, so that a config reader can report "unknown key" at the key rather than at its value.
public struct TOMLTable: Sendable, Equatable {
  public struct Entry: Sendable, Equatable {
    public var key: String
    public var keyPosition: SourcePosition
    public var node: TOMLNode

    public init(key: String, keyPosition: SourcePosition, node: TOMLNode) {
      self.key = key
      self.keyPosition = keyPosition
      self.node = node
    }
  }

  public var entries: [Entry]
  /// Where the table header or inline table began; for a table implied by a dotted key or by a
  /// longer header, where that key part was written; 1:1 for the document root.
  public var position: SourcePosition

  public init(entries: [Entry] = [], position: SourcePosition) {
    self.entries = entries
    self.position = position
  }

  /// Linear search: config tables are small, and an index would have to be kept in step with
  /// `entries`, which callers may edit.
  public subscript(key: String) -> TOMLNode? { entry(key)?.node }

  public func entry(_ key: String) -> Entry? { entries.first { $0.key == key } }

  public var keys: [String] { entries.map(\.key) }
}

/// A syntax or structure error, with the position of the offending character or key.
public struct TOMLError: Error, Sendable, Equatable, CustomStringConvertible {
  public var message: String
  public var position: SourcePosition
  /// The file name passed to the parser, if any; used only in `description`.
  public var file: String?

  public init(message: String, position: SourcePosition, file: String? = nil) {
    self.message = message
    self.position = position
    self.file = file
  }

  /// `file:line:col: message`, or `line:col: message` when no file name was given.
  public var description: String {
    if let file { "\(file):\(position): \(message)" } else { "\(position): \(message)" }
  }
}
