/// Rows from JSON Lines (https://jsonlines.org): one JSON object (RFC 8259) per line, its members
/// the row's variables. Lines end with LF or CRLF; empty and all-whitespace lines are skipped; a
/// UTF-8 byte order mark at the start is skipped.
///
/// Values become text: strings as they are, `true`/`false`, `null` as the empty string, numbers as
/// written except that a fraction of only zeros is dropped (`3.0` gives `3`, so integers a program
/// wrote as floats look like integers; `1.50` and `1e3` stay as written, with no rounding ever).
/// An array or object as a value, a line that is not an object, a repeated key or invalid JSON is
/// a row error naming the line; reading goes on with the next line.
public struct JSONLinesReader: BatchRowSource {
  /// Longer lines are refused (fatal).
  public static let defaultMaximumLineBytes = 1 << 20

  /// JSON Lines has no header: each row names its own variables.
  public var columns: [String]? { nil }

  private var input: ChunkedInput
  private var line = 0
  private var recordCount = 0
  private let maximumLineBytes: Int

  /// Reads JSON Lines held in memory.
  public init(bytes: [UInt8], maximumLineBytes: Int = defaultMaximumLineBytes) {
    input = ChunkedInput(bytes: bytes)
    self.maximumLineBytes = maximumLineBytes
  }

  /// Reads a JSON Lines file `chunkSize` bytes at a time.
  public init(
    contentsOfFile path: String, chunkSize: Int = 64 * 1024, maximumLineBytes: Int = defaultMaximumLineBytes
  ) throws(BatchInputError) {
    input = try ChunkedInput(contentsOfFile: path, chunkSize: chunkSize)
    self.maximumLineBytes = maximumLineBytes
  }

  /// The next non-blank line as a row, or why it is not one; nil at the end of the input.
  public mutating func next() throws(BatchInputError) -> Result<BatchRow, BatchRowError>? {
    if line == 0 { try input.skipByteOrderMark() }
    while let bytes = try readLine() {
      if bytes.allSatisfy({ JSONObjectLine.isWhitespace($0) }) { continue }
      recordCount += 1
      let number = recordCount
      guard String(validating: bytes, as: UTF8.self) != nil else {
        return .failure(BatchRowError(.invalidUTF8, row: number, line: line, "the line is not valid UTF-8"))
      }
      var parser = JSONObjectLine(bytes)
      do throws(JSONObjectLine.Problem) {
        let values = try parser.parse()
        return .success(BatchRow(number: number, line: line, values: values))
      } catch {
        return .failure(BatchRowError(error.kind, row: number, line: line, variable: error.key, error.message))
      }
    }
    return nil
  }

  /// The next line without its line end; nil at the end of the input.
  private mutating func readLine() throws(BatchInputError) -> [UInt8]? {
    guard try input.peek() != nil else { return nil }
    line += 1
    var bytes: [UInt8] = []
    while let byte = try input.next(), byte != .lineFeed {
      bytes.append(byte)
      if bytes.count > maximumLineBytes + 1 {
        throw BatchInputError(.recordTooLarge, line: line, "line \(line) is longer than \(maximumLineBytes) bytes")
      }
    }
    if bytes.last == .carriageReturn { bytes.removeLast() }
    return bytes
  }
}

/// One line holding one JSON object whose values are scalars (RFC 8259 sections 4-7).
struct JSONObjectLine {
  struct Problem: Error {
    var kind: BatchRowError.Kind = .malformedRecord
    var key: String?
    var message: String
  }

  private let bytes: [UInt8]
  private var index = 0

  init(_ bytes: [UInt8]) {
    self.bytes = bytes
  }

  /// RFC 8259 section 2: space, tab, LF, CR.
  static func isWhitespace(_ byte: UInt8) -> Bool {
    byte == .space || byte == .tab || byte == .lineFeed || byte == .carriageReturn
  }

  mutating func parse() throws(Problem) -> [String: String] {
    skipWhitespace()
    guard peek() == UInt8(ascii: "{") else {
      throw Problem(message: "the line is not a JSON object: each line must be one object, like {\"email\": \"...\"}")
    }
    index += 1
    var values: [String: String] = [:]
    skipWhitespace()
    if peek() == UInt8(ascii: "}") {
      index += 1
    } else {
      while true {
        skipWhitespace()
        guard peek() == UInt8(ascii: "\"") else { throw invalid("expected a key in double quotes") }
        let key = try parseString()
        skipWhitespace()
        guard peek() == UInt8(ascii: ":") else { throw invalid("expected \":\" after the key") }
        index += 1
        skipWhitespace()
        let value = try parseValue(key: key)
        if values.updateValue(value, forKey: key) != nil {
          throw Problem(key: key, message: "the key \(ComposeError.visible(key)) appears twice")
        }
        skipWhitespace()
        if peek() == UInt8(ascii: ",") {
          index += 1
        } else if peek() == UInt8(ascii: "}") {
          index += 1
          break
        } else {
          throw invalid("expected \",\" or \"}\"")
        }
      }
    }
    skipWhitespace()
    if index < bytes.count { throw invalid("text after the object") }
    return values
  }

  private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

  private mutating func skipWhitespace() {
    while let byte = peek(), Self.isWhitespace(byte) { index += 1 }
  }

  /// Invalid JSON at the current position; columns count bytes from 1.
  private func invalid(_ problem: String) -> Problem {
    Problem(message: "invalid JSON at column \(index + 1): \(problem)")
  }

  private mutating func parseValue(key: String) throws(Problem) -> String {
    switch peek() {
    case UInt8(ascii: "\""):
      return try parseString()
    case UInt8(ascii: "["), UInt8(ascii: "{"):
      let what = peek() == UInt8(ascii: "[") ? "an array" : "an object"
      throw Problem(
        kind: .unsupportedValue, key: key,
        message: "the value of \(ComposeError.visible(key)) is \(what): values must be strings, numbers, "
          + "booleans or null")
    case UInt8(ascii: "-")?, (UInt8(ascii: "0")...UInt8(ascii: "9"))?:
      return try parseNumber()
    default:
      for (word, text) in [("true", "true"), ("false", "false"), ("null", "")] where matches(word) {
        index += word.utf8.count
        return text
      }
      throw invalid("expected a value")
    }
  }

  private func matches(_ word: String) -> Bool {
    let literal = Array(word.utf8)
    return bytes.count - index >= literal.count && Array(bytes[index..<index + literal.count]) == literal
  }

  /// RFC 8259 section 6, kept as written; a fraction of only zeros (and no exponent) is dropped.
  private mutating func parseNumber() throws(Problem) -> String {
    let start = index
    func digits() -> Int {
      let first = index
      while let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { index += 1 }
      return index - first
    }
    if peek() == UInt8(ascii: "-") { index += 1 }
    let integerStart = index
    guard digits() > 0 else { throw invalid("expected a digit") }
    if bytes[integerStart] == UInt8(ascii: "0"), index - integerStart > 1 {
      throw Problem(message: "invalid JSON at column \(integerStart + 1): a number cannot start with 0")
    }
    let integerEnd = index
    var fractionIsZero = true
    if peek() == UInt8(ascii: ".") {
      index += 1
      let fractionStart = index
      guard digits() > 0 else { throw invalid("expected a digit after \".\"") }
      fractionIsZero = bytes[fractionStart..<index].allSatisfy { $0 == UInt8(ascii: "0") }
    }
    var hasExponent = false
    if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
      hasExponent = true
      index += 1
      if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
      guard digits() > 0 else { throw invalid("expected a digit in the exponent") }
    }
    let end = fractionIsZero && !hasExponent ? integerEnd : index
    return String(decoding: bytes[start..<end], as: UTF8.self)
  }

  /// RFC 8259 section 7: escapes decoded, `\u` surrogate pairs joined; control characters must be
  /// escaped. The line was checked to be UTF-8 before.
  private mutating func parseString() throws(Problem) -> String {
    index += 1
    var text: [UInt8] = []
    while let byte = peek() {
      index += 1
      switch byte {
      case UInt8(ascii: "\""):
        return String(decoding: text, as: UTF8.self)
      case UInt8(ascii: "\\"):
        guard let escaped = peek() else { break }
        index += 1
        switch escaped {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escaped)
        case UInt8(ascii: "b"): text.append(0x08)
        case UInt8(ascii: "f"): text.append(0x0C)
        case UInt8(ascii: "n"): text.append(.lineFeed)
        case UInt8(ascii: "r"): text.append(.carriageReturn)
        case UInt8(ascii: "t"): text.append(.tab)
        case UInt8(ascii: "u"): text += Array(String(try parseUnicodeEscape()).utf8)
        default:
          index -= 2
          throw invalid("unknown escape \\\(Character(Unicode.Scalar(escaped)))")
        }
      case 0..<0x20:
        index -= 1
        throw invalid("a control character inside a string must be escaped")
      default:
        text.append(byte)
      }
    }
    throw invalid("the string is not closed")
  }

  /// After `\u`: four hex digits, and for a high surrogate the `\uXXXX` low surrogate after it.
  private mutating func parseUnicodeEscape() throws(Problem) -> Unicode.Scalar {
    let start = index - 2
    let high = try hexQuad()
    if let scalar = Unicode.Scalar(high) { return scalar }
    if (0xD800...0xDBFF).contains(high), matches("\\u") {
      index += 2
      let low = try hexQuad()
      if (0xDC00...0xDFFF).contains(low),
        let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
      {
        return scalar
      }
    }
    index = start
    throw invalid("a \\u escape with a lone surrogate is not a character")
  }

  private mutating func hexQuad() throws(Problem) -> UInt32 {
    guard bytes.count - index >= 4,
      let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16),
      bytes[index..<index + 4].allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") })
    else { throw invalid("\\u needs four hex digits") }
    index += 4
    return value
  }
}
