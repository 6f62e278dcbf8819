/// The four TOML string forms (spec, "String"): basic `"..."`, multi-line basic `"""..."""`,
/// literal `'...'` and multi-line literal `'''...'''`.
extension TOMLScanner {
  /// Cursor on the opening `"`. Keys pass `allowMultiline: false`: quoted keys are single-line only.
  mutating func scanBasicString(allowMultiline: Bool) throws(TOMLError) -> String {
    let start = position
    let multiline = at("\"", offset: 1) && at("\"", offset: 2)
    if multiline {
      guard allowMultiline else { throw error("multi-line strings cannot be used as keys") }
      return try scanMultilineString(start: start, quote: UInt8(ascii: "\""), escapes: true)
    }
    advance()
    var text: [UInt8] = []
    while true {
      guard let byte = peek(), byte != 0x0A, byte != 0x0D else {
        throw error("unterminated string: missing closing \" before the end of the line", at: start)
      }
      switch byte {
      case UInt8(ascii: "\""):
        advance()
        return String(decoding: text, as: UTF8.self)
      case UInt8(ascii: "\\"):
        try scanEscape(into: &text, multiline: false)
      default:
        try checkStringByte(byte)
        text.append(byte)
        advance()
      }
    }
  }

  /// Cursor on the opening `'`. Literal strings have no escapes at all.
  mutating func scanLiteralString(allowMultiline: Bool) throws(TOMLError) -> String {
    let start = position
    let multiline = at("'", offset: 1) && at("'", offset: 2)
    if multiline {
      guard allowMultiline else { throw error("multi-line strings cannot be used as keys") }
      return try scanMultilineString(start: start, quote: UInt8(ascii: "'"), escapes: false)
    }
    advance()
    let first = index
    while true {
      guard let byte = peek(), byte != 0x0A, byte != 0x0D else {
        throw error("unterminated string: missing closing ' before the end of the line", at: start)
      }
      if byte == UInt8(ascii: "'") {
        let text = String(decoding: bytes[first..<index], as: UTF8.self)
        advance()
        return text
      }
      try checkStringByte(byte)
      advance()
    }
  }

  /// Both multi-line forms. A newline right after the opening delimiter is dropped, and up to two
  /// quotes may stand right before the closing delimiter as content (spec: `""""` ... `"""""` is
  /// legal, `mlb-quotes = 1*2quotation-mark`). CRLF is stored as LF, which the spec permits
  /// ("normalize newline to whatever makes sense for their platform").
  private mutating func scanMultilineString(
    start: SourcePosition, quote: UInt8, escapes: Bool
  ) throws(TOMLError) -> String {
    advance(by: 3)
    _ = try consumeNewline()
    var text: [UInt8] = []
    while true {
      guard let byte = peek() else {
        let delimiter = String(repeating: String(UnicodeScalar(quote)), count: 3)
        throw error("unterminated multi-line string: missing closing \(delimiter)", at: start)
      }
      if byte == quote {
        var count = 0
        while peek(count) == quote { count += 1 }
        if count >= 3 {
          guard count <= 5 else {
            throw error("too many quotes: at most two may stand right before the closing delimiter")
          }
          text.append(contentsOf: repeatElement(quote, count: count - 3))
          advance(by: count)
          return String(decoding: text, as: UTF8.self)
        }
        text.append(contentsOf: repeatElement(quote, count: count))
        advance(by: count)
      } else if byte == UInt8(ascii: "\\") && escapes {
        try scanEscape(into: &text, multiline: true)
      } else if try consumeNewline() {
        text.append(0x0A)
      } else {
        try checkStringByte(byte)
        text.append(byte)
        advance()
      }
    }
  }

  /// Control characters other than tab must be escaped inside strings (spec, "String"); newlines
  /// are dealt with by the callers.
  private func checkStringByte(_ byte: UInt8) throws(TOMLError) {
    if isForbiddenControl(byte) {
      let code = Self.hex(UInt32(byte), digits: 4)
      throw error("\(describeCurrent()) must be escaped in a string (write \\u\(code))")
    }
  }

  /// Cursor on a `\` inside a basic string. Appends the UTF-8 of the escaped character. In a
  /// multi-line string, a `\` that ends the line (trailing whitespace allowed) removes the newline
  /// and all whitespace and newlines that follow it (spec, "line ending backslash").
  private mutating func scanEscape(into text: inout [UInt8], multiline: Bool) throws(TOMLError) {
    let start = position
    advance()
    guard let byte = peek() else { throw error("unterminated escape sequence at end of file", at: start) }
    let simple: UInt8? =
      switch byte {
      case UInt8(ascii: "b"): 0x08
      case UInt8(ascii: "t"): 0x09
      case UInt8(ascii: "n"): 0x0A
      case UInt8(ascii: "f"): 0x0C
      case UInt8(ascii: "r"): 0x0D
      case UInt8(ascii: "\""): UInt8(ascii: "\"")
      case UInt8(ascii: "\\"): UInt8(ascii: "\\")
      default: nil
      }
    if let simple {
      text.append(simple)
      advance()
      return
    }
    if byte == UInt8(ascii: "u") || byte == UInt8(ascii: "U") {
      advance()
      try scanUnicodeEscape(digits: byte == UInt8(ascii: "u") ? 4 : 8, start: start, into: &text)
      return
    }
    if multiline && (byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D) {
      skipWhitespace()
      guard try consumeNewline() else {
        throw error("only whitespace may follow a line-ending backslash, found \(describeCurrent())")
      }
      while true {
        skipWhitespace()
        if try !consumeNewline() { return }
      }
    }
    let shown = byte == 0x0A || byte == 0x0D ? "a newline" : describeCurrent()
    throw error(
      "invalid escape sequence: \\ followed by \(shown) (TOML 1.0 allows \\b \\t \\n \\f \\r \\\" \\\\ "
        + "\\uXXXX \\UXXXXXXXX)", at: start)
  }

  /// `\uXXXX` or `\UXXXXXXXX`: exactly that many hex digits naming a Unicode scalar value, so
  /// surrogates (U+D800 to U+DFFF) and values past U+10FFFF are errors.
  private mutating func scanUnicodeEscape(
    digits: Int, start: SourcePosition, into text: inout [UInt8]
  ) throws(TOMLError) {
    let letter = digits == 4 ? "u" : "U"
    var value: UInt32 = 0
    for _ in 0..<digits {
      guard let byte = peek(), let digit = Self.hexDigitValue(byte) else {
        throw error("\\\(letter) escape needs exactly \(digits) hex digits, found \(describeCurrent())")
      }
      value = value << 4 | UInt32(digit)
      advance()
    }
    guard let scalar = Unicode.Scalar(value) else {
      throw error("escape \\\(letter)\(Self.hex(value, digits: digits)) is not a Unicode scalar value", at: start)
    }
    text.append(contentsOf: String(scalar).utf8)
  }

  static func hexDigitValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }
}
