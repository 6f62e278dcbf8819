/// Byte-level reading of a TOML document: the cursor with its line and column, whitespace,
/// newlines, comments and keys. Strings, numbers and date-times are in extensions next to it.
///
/// The whole document is validated as UTF-8 up front, so every later step can walk bytes and copy
/// non-ASCII bytes through unchanged.
struct TOMLScanner {
  let bytes: [UInt8]
  let file: String?
  private(set) var index = 0
  private(set) var line = 1
  private(set) var column = 1

  init(bytes: [UInt8], file: String?) throws(TOMLError) {
    self.bytes = bytes
    self.file = file
    try validateEncoding()
  }

  var position: SourcePosition { SourcePosition(line: line, column: column) }
  var isAtEnd: Bool { index >= bytes.count }

  func peek(_ offset: Int = 0) -> UInt8? {
    let at = index + offset
    return at < bytes.count ? bytes[at] : nil
  }

  /// True if the byte `offset` ahead is the ASCII character `char`.
  func at(_ char: Unicode.Scalar, offset: Int = 0) -> Bool { peek(offset) == UInt8(ascii: char) }

  /// Moves one byte on. The column advances on every byte that starts a character (not on UTF-8
  /// continuation bytes), so columns count characters.
  mutating func advance() {
    let byte = bytes[index]
    index += 1
    if byte == 0x0A {
      line += 1
      column = 1
    } else if byte & 0xC0 != 0x80 {
      column += 1
    }
  }

  mutating func advance(by count: Int) {
    for _ in 0..<count { advance() }
  }

  func error(_ message: String, at position: SourcePosition? = nil) -> TOMLError {
    TOMLError(message: message, position: position ?? self.position, file: file)
  }

  // MARK: - Whitespace, newlines, comments

  /// Spaces and tabs: the only whitespace TOML knows (spec: "Whitespace means tab or space").
  mutating func skipWhitespace() {
    while let byte = peek(), byte == 0x20 || byte == 0x09 { advance() }
  }

  /// Consumes LF or CRLF and returns true; returns false if no newline is here. A CR that is not
  /// followed by LF is an error: TOML newlines are LF or CRLF only, and a bare CR is a control
  /// character.
  mutating func consumeNewline() throws(TOMLError) -> Bool {
    if at("\n") {
      advance()
      return true
    }
    guard at("\r") else { return false }
    guard at("\n", offset: 1) else {
      throw error("carriage return (CR) must be followed by a line feed (LF)")
    }
    advance(by: 2)
    return true
  }

  /// A `#` comment up to (not including) the newline. Control characters other than tab are not
  /// allowed in comments (spec, "Comment").
  mutating func skipComment() throws(TOMLError) {
    advance()
    while let byte = peek(), byte != 0x0A {
      if byte == 0x0D && at("\n", offset: 1) { return }
      if isForbiddenControl(byte) {
        throw error("\(describeCurrent()) is not allowed in a comment")
      }
      advance()
    }
  }

  /// Whitespace, comments and newlines in any mix: what may separate array elements.
  mutating func skipBlankLinesAndComments() throws(TOMLError) {
    while true {
      skipWhitespace()
      if at("#") {
        try skipComment()
      } else if try !consumeNewline() {
        return
      }
    }
  }

  // MARK: - Keys

  struct KeyPart {
    var name: String
    var position: SourcePosition
  }

  /// `key`, `"quoted key"`, `'literal key'` or any of them joined by dots, with optional
  /// whitespace around the dots (spec, "Keys").
  mutating func scanKey() throws(TOMLError) -> [KeyPart] {
    var parts = [try scanSimpleKey()]
    while true {
      let saved = self
      skipWhitespace()
      guard at(".") else {
        self = saved
        return parts
      }
      advance()
      skipWhitespace()
      parts.append(try scanSimpleKey())
    }
  }

  private mutating func scanSimpleKey() throws(TOMLError) -> KeyPart {
    let start = position
    if at("\"") {
      return KeyPart(name: try scanBasicString(allowMultiline: false), position: start)
    }
    if at("'") {
      return KeyPart(name: try scanLiteralString(allowMultiline: false), position: start)
    }
    let first = index
    while let byte = peek(), Self.isBareKeyByte(byte) { advance() }
    guard index > first else { throw error("expected a key, found \(describeCurrent())") }
    return KeyPart(name: String(decoding: bytes[first..<index], as: UTF8.self), position: start)
  }

  /// Bare keys are ASCII letters, digits, `_` and `-` (spec, "Keys").
  static func isBareKeyByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
      UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
      true
    default:
      false
    }
  }

  /// A key path for a message: `"server.host"`, or `server."mail host"` when a part needs quotes.
  static func quoted(_ keys: [String]) -> String {
    let text = display(keys)
    return text.contains("\"") ? text : "\"" + text + "\""
  }

  /// A key path as it would be written in TOML, quoting parts that are not bare keys.
  static func display(_ keys: some Sequence<String>) -> String {
    keys.map { key in
      if !key.isEmpty && key.utf8.allSatisfy(isBareKeyByte) { return key }
      var quoted = "\""
      for scalar in key.unicodeScalars {
        switch scalar {
        case "\"": quoted += "\\\""
        case "\\": quoted += "\\\\"
        default:
          if scalar.value < 0x20 || scalar.value == 0x7F {
            quoted += "\\u" + hex(scalar.value, digits: 4)
          } else {
            quoted.unicodeScalars.append(scalar)
          }
        }
      }
      return quoted + "\""
    }.joined(separator: ".")
  }

  // MARK: - Describing input in messages

  /// U+0000 to U+0008, U+000A to U+001F and U+007F: the control characters that TOML 1.0 allows
  /// neither in comments nor (unescaped) in strings. Tab is allowed; newlines are handled by callers.
  func isForbiddenControl(_ byte: UInt8) -> Bool {
    (byte < 0x20 && byte != 0x09) || byte == 0x7F
  }

  /// The character at the cursor as a message shows it: `"x"`, `a newline`, `U+0007`, `end of file`.
  func describeCurrent() -> String {
    guard let byte = peek() else { return "end of file" }
    switch byte {
    case 0x0A: return "a newline"
    case 0x0D: return at("\n", offset: 1) ? "a newline" : "a carriage return (U+000D)"
    case 0x09: return "a tab"
    case _ where byte < 0x20 || byte == 0x7F: return "control character U+" + Self.hex(UInt32(byte), digits: 4)
    case _ where byte < 0x80: return "\"" + String(UnicodeScalar(byte)) + "\""
    default:
      let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
      let end = min(index + length, bytes.count)
      let text = String(decoding: bytes[index..<end], as: UTF8.self)
      guard let scalar = text.unicodeScalars.first else { return "end of file" }
      // Invisible characters (a BOM in mid-file, U+3000 IDEOGRAPHIC SPACE) are shown by code point.
      switch scalar.properties.generalCategory {
      case .spaceSeparator, .lineSeparator, .paragraphSeparator, .format, .control, .nonspacingMark:
        return "U+" + Self.hex(scalar.value, digits: 4)
      default:
        return "\"" + text + "\""
      }
    }
  }

  static func hex(_ value: UInt32, digits: Int) -> String {
    let text = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
  }

  // MARK: - Encoding

  /// Skips a UTF-8 byte order mark and rejects anything that is not well-formed UTF-8 (overlong
  /// forms, surrogates, values past U+10FFFF, truncated sequences): TOML documents must be valid
  /// UTF-8 (spec, "Spec"). Runs once, before parsing, and leaves the cursor at the first character.
  private mutating func validateEncoding() throws(TOMLError) {
    if bytes.starts(with: [0xFE, 0xFF]) || bytes.starts(with: [0xFF, 0xFE]) {
      throw error("file starts with a UTF-16 byte order mark; TOML files must be UTF-8")
    }
    let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    var offset = start
    var line = 1
    var column = 1
    while offset < bytes.count {
      let byte = bytes[offset]
      if byte < 0x80 {
        offset += 1
        if byte == 0x0A { (line, column) = (line + 1, 1) } else { column += 1 }
        continue
      }
      let length: Int
      var secondRange: ClosedRange<UInt8> = 0x80...0xBF
      switch byte {
      case 0xC2...0xDF: length = 2
      case 0xE0: (length, secondRange) = (3, 0xA0...0xBF)
      case 0xED: (length, secondRange) = (3, 0x80...0x9F)
      case 0xE1...0xEF: length = 3
      case 0xF0: (length, secondRange) = (4, 0x90...0xBF)
      case 0xF4: (length, secondRange) = (4, 0x80...0x8F)
      case 0xF1...0xF3: length = 4
      default: length = 0
      }
      var valid = length > 0 && offset + length <= bytes.count && secondRange.contains(bytes[offset + 1])
      if valid {
        for next in offset + 2 ..< offset + length where bytes[next] & 0xC0 != 0x80 { valid = false }
      }
      guard valid else {
        throw TOMLError(
          message: "invalid UTF-8 (byte 0x\(Self.hex(UInt32(byte), digits: 2))); TOML files must be UTF-8",
          position: SourcePosition(line: line, column: column), file: file)
      }
      offset += length
      column += 1
    }
    index = start
  }
}
