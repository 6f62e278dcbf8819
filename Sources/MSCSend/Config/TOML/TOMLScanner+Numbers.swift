/// Integers and floats (spec, "Integer" and "Float"). The scanner takes the whole run of characters
/// that can appear in a number, then checks it against the grammar, so `1__2`, `01` or `0x` get a
/// message about the number rather than "expected a newline".
extension TOMLScanner {
  /// Cursor on a sign, a digit, `i` or `n`. Returns `.integer` or `.float`.
  mutating func scanNumber() throws(TOMLError) -> TOMLValue {
    let start = position
    let first = index
    while let byte = peek(), Self.isNumberByte(byte) { advance() }
    // Every byte of the token is ASCII, so the column of its i-th byte is start.column + i.
    var number = NumberToken(bytes: bytes[first..<index], start: start, scanner: self)
    return try number.value()
  }

  private static func isNumberByte(_ byte: UInt8) -> Bool {
    isBareKeyByte(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".")
  }
}

/// One number as written, checked and converted. `index` counts from the token's first byte.
private struct NumberToken {
  let bytes: ArraySlice<UInt8>
  let start: SourcePosition
  /// Positioned just after the number: names what follows it in errors, and knows the file name.
  let scanner: TOMLScanner
  var index = 0

  init(bytes: ArraySlice<UInt8>, start: SourcePosition, scanner: TOMLScanner) {
    self.bytes = bytes
    self.start = start
    self.scanner = scanner
  }

  var text: String { String(decoding: bytes, as: UTF8.self) }

  func error(_ message: String, at offset: Int? = nil) -> TOMLError {
    scanner.error(message, at: SourcePosition(line: start.line, column: start.column + (offset ?? 0)))
  }

  func byte(_ offset: Int = 0) -> UInt8? {
    index + offset < bytes.count ? bytes[bytes.startIndex + index + offset] : nil
  }

  func character(at offset: Int) -> String { String(UnicodeScalar(bytes[bytes.startIndex + offset])) }

  mutating func value() throws(TOMLError) -> TOMLValue {
    var negative = false
    if byte() == UInt8(ascii: "+") || byte() == UInt8(ascii: "-") {
      negative = byte() == UInt8(ascii: "-")
      index += 1
    }
    let unsigned = bytes.dropFirst(index)
    if unsigned.elementsEqual("inf".utf8) { return .float(negative ? -.infinity : .infinity) }
    if unsigned.elementsEqual("nan".utf8) { return .float(negative ? -.nan : .nan) }
    if byte() == UInt8(ascii: "0"), let radix = Self.radix(for: byte(1)) {
      guard index == 0 else {
        throw error("a sign is not allowed on hexadecimal, octal or binary integers")
      }
      index += 2
      return .integer(try scanRadixInteger(radix))
    }
    guard let first = byte(), Self.digitValue(first, radix: 10) != nil else {
      throw error("expected a value, found \"\(text)\"")
    }
    let integerStart = index
    try scanDigitGroup(radix: 10, what: "integer")
    if bytes[bytes.startIndex + integerStart] == UInt8(ascii: "0") && index - integerStart > 1 {
      throw error("leading zeros are not allowed in decimal numbers", at: integerStart)
    }
    let integerEnd = index
    var isFloat = false
    if byte() == UInt8(ascii: ".") {
      isFloat = true
      index += 1
      try scanDigitGroup(radix: 10, what: "fraction")
    }
    if byte() == UInt8(ascii: "e") || byte() == UInt8(ascii: "E") {
      isFloat = true
      index += 1
      if byte() == UInt8(ascii: "+") || byte() == UInt8(ascii: "-") { index += 1 }
      try scanDigitGroup(radix: 10, what: "exponent")
    }
    if index < bytes.count {
      throw error("unexpected \"\(character(at: index))\" in number \"\(text)\"", at: index)
    }
    if isFloat { return .float(try floatValue()) }
    let digits = bytes.dropFirst(integerStart).prefix(integerEnd - integerStart)
    return .integer(try decimalValue(digits: digits, negative: negative))
  }

  /// One or more digits, with each `_` between two digits (spec: "each underscore must be
  /// surrounded by at least one digit on each side").
  private mutating func scanDigitGroup(radix: Int, what: String) throws(TOMLError) {
    guard let first = byte(), Self.digitValue(first, radix: radix) != nil else {
      let found = index < bytes.count ? "\"\(character(at: index))\"" : scanner.describeCurrent()
      throw error("expected a digit in the \(what) of \"\(text)\", found \(found)", at: index)
    }
    index += 1
    while let next = byte() {
      if next == UInt8(ascii: "_") {
        guard let after = byte(1), Self.digitValue(after, radix: radix) != nil else {
          throw error("an underscore in a number must stand between two digits", at: index)
        }
        index += 2
      } else if Self.digitValue(next, radix: radix) != nil {
        index += 1
      } else {
        return
      }
    }
  }

  /// `0x`, `0o`, `0b`: no sign, leading zeros allowed, and the value must fit in a signed 64-bit
  /// integer (spec: "Arbitrary 64-bit signed integers ... should be accepted and handled
  /// losslessly. If an integer cannot be represented losslessly, an error must be thrown").
  private mutating func scanRadixInteger(_ radix: Int) throws(TOMLError) -> Int64 {
    let digitsStart = index
    try scanDigitGroup(radix: radix, what: "integer")
    if index < bytes.count {
      throw error("unexpected \"\(character(at: index))\" in number \"\(text)\"", at: index)
    }
    var value: Int64 = 0
    for byte in bytes.dropFirst(digitsStart) where byte != UInt8(ascii: "_") {
      let (shifted, overflow1) = value.multipliedReportingOverflow(by: Int64(radix))
      let (sum, overflow2) = shifted.addingReportingOverflow(Int64(Self.digitValue(byte, radix: radix)!))
      guard !overflow1 && !overflow2 else { throw error("integer \(text) does not fit in 64 bits") }
      value = sum
    }
    return value
  }

  /// Negative numbers are accumulated downwards so that -9223372036854775808 fits.
  private func decimalValue(digits: ArraySlice<UInt8>, negative: Bool) throws(TOMLError) -> Int64 {
    var value: Int64 = 0
    for byte in digits where byte != UInt8(ascii: "_") {
      let digit = Int64(byte - UInt8(ascii: "0"))
      let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
      let (sum, overflow2) =
        negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
      guard !overflow1 && !overflow2 else { throw error("integer \(text) does not fit in 64 bits") }
      value = sum
    }
    return value
  }

  /// The grammar has been checked, so without underscores the text is a valid Swift float literal.
  /// A finite number too large for a Double is an error rather than a silent infinity.
  private func floatValue() throws(TOMLError) -> Double {
    let digits = String(decoding: bytes.filter { $0 != UInt8(ascii: "_") }, as: UTF8.self)
    guard let value = Double(digits), value.isFinite else {
      throw error("float \(text) is out of range for a 64-bit float")
    }
    return value
  }

  private static func radix(for byte: UInt8?) -> Int? {
    switch byte {
    case UInt8(ascii: "x"): 16
    case UInt8(ascii: "o"): 8
    case UInt8(ascii: "b"): 2
    default: nil
    }
  }

  private static func digitValue(_ byte: UInt8, radix: Int) -> Int? {
    guard let value = TOMLScanner.hexDigitValue(byte), Int(value) < radix else { return nil }
    return Int(value)
  }
}
