/// The TOML folder owns reading TOML 1.0.0 (https://toml.io/en/v1.0.0) into a tree of values that
/// remember where each key and value was written, so that config errors can name file, line and
/// column. It uses only the Swift standard library.
///
/// Whole document in memory, one pass, no backtracking beyond a few bytes, so time is linear in
/// the input; nesting is capped so that no input can exhaust the stack. Checked against the
/// official toml-test suite (Tests/MSCSendTests/Config/TOMLConformanceTests.swift).
public enum TOMLParser {
  /// Arrays and inline tables nested deeper than this, or table paths longer than this, are
  /// rejected: recursion depth is bounded by the input, and config files never come close.
  public static let maximumNesting = 128

  /// Parses a whole document. `file` is only used to prefix error messages (`file:line:col: ...`).
  public static func parse(_ data: [UInt8], file: String? = nil) throws(TOMLError) -> TOMLTable {
    var parser = DocumentParser(scanner: try TOMLScanner(bytes: data, file: file))
    return try parser.parseDocument()
  }

  public static func parse(_ text: String, file: String? = nil) throws(TOMLError) -> TOMLTable {
    try parse(Array(text.utf8), file: file)
  }
}

/// The grammar above the lexical level: expressions, headers, key/value pairs, arrays and inline
/// tables. Where values go, and which definitions conflict, is in `TOMLParser+Tables.swift`.
struct DocumentParser {
  var scanner: TOMLScanner
  let root: TableBuilder
  /// The table that key/value lines go into: the root, or the table of the last header.
  var current: TableBuilder

  init(scanner: TOMLScanner) {
    self.scanner = scanner
    root = TableBuilder(position: SourcePosition(line: 1, column: 1), definition: .header, path: [], depth: 0)
    current = root
  }

  /// `toml = expression *( newline expression )`; each expression is a key/value pair, a header,
  /// or nothing, optionally followed by a comment (spec ABNF).
  mutating func parseDocument() throws(TOMLError) -> TOMLTable {
    while true {
      scanner.skipWhitespace()
      if scanner.isAtEnd { break }
      let what: String
      if scanner.at("#") || scanner.at("\n") || scanner.at("\r") {
        what = "comment"
      } else if scanner.at("[") {
        try parseHeader()
        what = "table header"
      } else {
        try parseKeyValue(into: current)
        what = "value"
      }
      scanner.skipWhitespace()
      if scanner.at("#") { try scanner.skipComment() }
      guard try scanner.consumeNewline() || scanner.isAtEnd else {
        throw scanner.error("expected a newline after the \(what), found \(scanner.describeCurrent())")
      }
    }
    return root.build()
  }

  /// `[a.b]` or `[[a.b]]`. The brackets of an array-of-tables header must be adjacent.
  private mutating func parseHeader() throws(TOMLError) {
    let start = scanner.position
    scanner.advance()
    let isArray = scanner.at("[")
    if isArray { scanner.advance() }
    scanner.skipWhitespace()
    let keys = try scanner.scanKey()
    scanner.skipWhitespace()
    guard scanner.at("]") else {
      let header = isArray ? "\"]]\" to close the array-of-tables header" : "\"]\" to close the table header"
      throw scanner.error("expected \(header), found \(scanner.describeCurrent())")
    }
    scanner.advance()
    if isArray {
      guard scanner.at("]") else {
        throw scanner.error("expected \"]]\" to close the array-of-tables header, found \(scanner.describeCurrent())")
      }
      scanner.advance()
      current = try appendArrayTable(keys, at: start)
    } else {
      current = try defineTable(keys, at: start)
    }
  }

  /// `key = value`, with the value on the same line (spec: "the key, equals sign, and value must
  /// be on the same line").
  private mutating func parseKeyValue(into table: TableBuilder) throws(TOMLError) {
    let keys = try scanner.scanKey()
    scanner.skipWhitespace()
    guard scanner.at("=") else {
      throw scanner.error("expected \"=\" after the key \(TOMLScanner.quoted(keys.map(\.name))), found "
        + scanner.describeCurrent())
    }
    scanner.advance()
    scanner.skipWhitespace()
    // The dotted key's tables are made after the value is parsed, but count towards its nesting.
    let node = try parseValue(depth: table.depth + keys.count - 1)
    try insert(node, at: keys, into: table)
  }

  private mutating func parseValue(depth: Int) throws(TOMLError) -> TOMLNode {
    let start = scanner.position
    guard let byte = scanner.peek() else { throw scanner.error("expected a value, found end of file") }
    let value: TOMLValue
    switch byte {
    case UInt8(ascii: "\""): value = .string(try scanner.scanBasicString(allowMultiline: true))
    case UInt8(ascii: "'"): value = .string(try scanner.scanLiteralString(allowMultiline: true))
    case UInt8(ascii: "t"), UInt8(ascii: "f"): value = .boolean(try parseBoolean())
    case UInt8(ascii: "["): value = .array(try parseArray(depth: depth + 1))
    case UInt8(ascii: "{"): value = .table(try parseInlineTable(depth: depth + 1))
    case UInt8(ascii: "0")...UInt8(ascii: "9") where scanner.atDateOrTime(): value = try scanner.scanDateTime()
    case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "i"),
      UInt8(ascii: "n"):
      value = try scanner.scanNumber()
    case UInt8(ascii: "."):
      throw scanner.error("a float needs a digit before the decimal point")
    default:
      throw scanner.error("expected a value, found \(scanner.describeCurrent())")
    }
    return TOMLNode(value: value, position: start)
  }

  /// `true` or `false`, lower case only.
  private mutating func parseBoolean() throws(TOMLError) -> Bool {
    let start = scanner.position
    var word: [UInt8] = []
    while let byte = scanner.peek(), TOMLScanner.isBareKeyByte(byte) {
      word.append(byte)
      scanner.advance()
    }
    if word.elementsEqual("true".utf8) { return true }
    if word.elementsEqual("false".utf8) { return false }
    throw scanner.error("expected a value, found \"\(String(decoding: word, as: UTF8.self))\"", at: start)
  }

  /// `[ v, v, ]`: newlines and comments may appear between elements, a trailing comma is allowed,
  /// and element types may be mixed (spec, "Array").
  private mutating func parseArray(depth: Int) throws(TOMLError) -> [TOMLNode] {
    let start = scanner.position
    try checkNesting(depth)
    scanner.advance()
    var elements: [TOMLNode] = []
    while true {
      try scanner.skipBlankLinesAndComments()
      if scanner.at("]") { break }
      if scanner.isAtEnd { throw scanner.error("unterminated array: missing \"]\" for the \"[\" at \(start)") }
      elements.append(try parseValue(depth: depth))
      try scanner.skipBlankLinesAndComments()
      if scanner.at(",") {
        scanner.advance()
      } else if scanner.at("]") {
        break
      } else if scanner.isAtEnd {
        throw scanner.error("unterminated array: missing \"]\" for the \"[\" at \(start)")
      } else {
        throw scanner.error("expected \",\" or \"]\" after an array element, found \(scanner.describeCurrent())")
      }
    }
    scanner.advance()
    return elements
  }

  /// `{ k = v, k = v }` on one line, no trailing comma (TOML 1.0; 1.1 relaxes both). Dotted keys
  /// may build sub-tables inside it; once closed, it cannot be extended (spec, "Inline Table").
  private mutating func parseInlineTable(depth: Int) throws(TOMLError) -> TOMLTable {
    let start = scanner.position
    try checkNesting(depth)
    scanner.advance()
    let table = TableBuilder(position: start, definition: .dotted, path: [], depth: depth)
    scanner.skipWhitespace()
    if scanner.at("}") {
      scanner.advance()
      return table.build()
    }
    while true {
      scanner.skipWhitespace()
      try checkInlineTableContinues(start)
      try parseKeyValue(into: table)
      scanner.skipWhitespace()
      if scanner.at(",") {
        scanner.advance()
        scanner.skipWhitespace()
        if scanner.at("}") { throw scanner.error("trailing comma is not allowed in an inline table (TOML 1.0)") }
      } else if scanner.at("}") {
        scanner.advance()
        return table.build()
      } else {
        try checkInlineTableContinues(start)
        throw scanner.error("expected \",\" or \"}\" in an inline table, found \(scanner.describeCurrent())")
      }
    }
  }

  /// The two ways an inline table can run off its line, each with its own message.
  private func checkInlineTableContinues(_ start: SourcePosition) throws(TOMLError) {
    if scanner.isAtEnd {
      throw scanner.error("unterminated inline table: missing \"}\" for the \"{\" at \(start)")
    }
    if scanner.at("\n") || scanner.at("\r") {
      throw scanner.error("newline inside an inline table: in TOML 1.0 an inline table must be on one line "
        + "(the \"{\" is at \(start))")
    }
  }

  func checkNesting(_ depth: Int) throws(TOMLError) {
    guard depth <= TOMLParser.maximumNesting else {
      throw scanner.error("nesting deeper than \(TOMLParser.maximumNesting) levels")
    }
  }
}
