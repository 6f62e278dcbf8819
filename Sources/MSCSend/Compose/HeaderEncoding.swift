import Foundation

/// RFC 2047 encoded words, which carry non-ASCII text in header fields of a 7-bit message, and the
/// checks every header name and value goes through before it is written. Folding whole fields into
/// lines lives in `HeaderFolding.swift`.
public enum HeaderEncoding {
  /// RFC 2047 section 2: an encoded word is at most 75 characters, delimiters included.
  public static let maximumEncodedWordLength = 75

  /// The two RFC 2047 section 4 encodings.
  public enum WordEncoding: Sendable, Equatable {
    /// "B": base64 of the UTF-8 bytes; compact for scripts where nearly every byte is non-ASCII.
    case base64
    /// "Q": mostly readable; each unsafe byte costs three characters.
    case quotedPrintable
  }

  /// `=?UTF-8?X?` plus `?=`.
  static let wordOverhead = 12

  // MARK: Encoding

  /// Q while it is at most a third longer than B, because Q keeps ASCII letters readable in the raw
  /// header: Latin scripts with accents ("Hälsningar från Göteborg") come out as Q, Japanese,
  /// Chinese or Cyrillic (every byte escaped, three characters each) as B.
  public static func preferredEncoding(for text: String) -> WordEncoding {
    let bytes = Array(text.utf8)
    let qLength = bytes.reduce(0) { $0 + qCost($1) }
    let bLength = (bytes.count + 2) / 3 * 4
    return qLength * 3 <= bLength * 4 ? .quotedPrintable : .base64
  }

  /// `text` as UTF-8 encoded words of at most `maximumLength` characters each (RFC 2047 section 2),
  /// split only between characters (between Unicode scalars inside a character too long for one
  /// word), so each word decodes on its own to valid UTF-8. Join them with a space: whitespace
  /// between adjacent encoded words is not part of the text (RFC 2047 section 6.2). A character
  /// that does not fit in `maximumLength` gets a word of up to 75 characters of its own.
  public static func encodedWords(
    _ text: String, encoding: WordEncoding? = nil, maximumLength: Int = maximumEncodedWordLength
  ) -> [String] {
    let chosen = encoding ?? preferredEncoding(for: text)
    let length = min(maximumLength, maximumEncodedWordLength)
    let units = encodingUnits(text, encoding: chosen)
    var words: [String] = []
    var start = 0
    while start < units.count,
      let (word, end) = encodedWord(units, from: start, encoding: chosen, maximumLength: length)
        ?? encodedWord(units, from: start, encoding: chosen, maximumLength: maximumEncodedWordLength)
    {
      words.append(word)
      start = end
    }
    return words
  }

  /// The byte groups a word may not split: one per character, or one per scalar for a character
  /// whose bytes would not fit in a word of the largest size.
  static func encodingUnits(_ text: String, encoding: WordEncoding) -> [[UInt8]] {
    var units: [[UInt8]] = []
    for character in text {
      let bytes = Array(character.utf8)
      if cost(of: bytes, encoding: encoding) <= maximumEncodedWordLength - wordOverhead {
        units.append(bytes)
      } else {
        for scalar in character.unicodeScalars { units.append(Array(String(scalar).utf8)) }
      }
    }
    return units
  }

  /// One encoded word holding as many units from `start` on as fit in `maximumLength` characters,
  /// or nil when not even one fits (the caller then starts a new line and tries again).
  static func encodedWord(
    _ units: [[UInt8]], from start: Int, encoding: WordEncoding, maximumLength: Int
  ) -> (word: String, end: Int)? {
    let capacity = maximumLength - wordOverhead
    var bytes: [UInt8] = []
    var end = start
    while end < units.count {
      if cost(of: bytes + units[end], encoding: encoding) > capacity { break }
      bytes += units[end]
      end += 1
    }
    guard end > start else { return nil }
    switch encoding {
    case .base64:
      return ("=?UTF-8?B?" + Data(bytes).base64EncodedString() + "?=", end)
    case .quotedPrintable:
      return ("=?UTF-8?Q?" + qEncode(bytes) + "?=", end)
    }
  }

  private static func cost(of bytes: [UInt8], encoding: WordEncoding) -> Int {
    switch encoding {
    case .base64: (bytes.count + 2) / 3 * 4
    case .quotedPrintable: bytes.reduce(0) { $0 + qCost($1) }
    }
  }

  /// RFC 2047 section 5 (3): the characters a Q word may carry literally even inside a phrase
  /// (a display name), so one rule serves every header.
  private static func isQLiteral(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
      UInt8(ascii: "0")...UInt8(ascii: "9"):
      true
    case UInt8(ascii: "!"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "/"):
      true
    default: false
    }
  }

  private static func qCost(_ byte: UInt8) -> Int {
    isQLiteral(byte) || byte == UInt8(ascii: " ") ? 1 : 3
  }

  private static func qEncode(_ bytes: [UInt8]) -> String {
    let hex = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    for byte in bytes {
      if isQLiteral(byte) {
        out.append(byte)
      } else if byte == UInt8(ascii: " ") {
        out.append(UInt8(ascii: "_"))
      } else {
        out += [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  // MARK: Decoding

  /// The text a reader sees in a header value: folding removed and encoded words decoded
  /// (RFC 2047 section 6). Whitespace between two adjacent encoded words is dropped (section 6.2);
  /// adjacent words in the same charset are decoded together, so a multi-byte character split
  /// across two words by a careless encoder still comes out whole. A word in an unknown charset or
  /// that does not decode is left as it was. Meant for reading bounces and headers of `-t` input.
  public static func decode(_ value: String) -> String {
    let bytes = Array(value.utf8).filter { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }
    var output = ""
    var literal: [UInt8] = []
    var pending: (charset: String, bytes: [UInt8], original: [UInt8])?
    var lastWasWord = false

    func flushPending() {
      guard let word = pending else { return }
      output += decodeCharset(word.charset, word.bytes) ?? String(decoding: word.original, as: UTF8.self)
      pending = nil
    }

    var index = 0
    while index < bytes.count {
      if let word = parseEncodedWord(bytes, at: index) {
        if lastWasWord && literal.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { literal = [] }
        if !literal.isEmpty {
          flushPending()
          output += String(decoding: literal, as: UTF8.self)
          literal = []
        }
        let original = Array(bytes[index..<word.end])
        if let current = pending, current.charset == word.charset {
          pending = (current.charset, current.bytes + word.bytes, current.original + original)
        } else {
          flushPending()
          pending = (word.charset, word.bytes, original)
        }
        lastWasWord = true
        index = word.end
      } else {
        literal.append(bytes[index])
        index += 1
      }
    }
    flushPending()
    return output + String(decoding: literal, as: UTF8.self)
  }

  /// `=?charset?encoding?text?=` at `start` (RFC 2047 section 2), decoded to raw bytes.
  private static func parseEncodedWord(
    _ bytes: [UInt8], at start: Int
  ) -> (charset: String, bytes: [UInt8], end: Int)? {
    let question = UInt8(ascii: "?")
    guard start + 1 < bytes.count, bytes[start] == UInt8(ascii: "="), bytes[start + 1] == question else {
      return nil
    }
    var fields: [[UInt8]] = [[]]
    var index = start + 2
    while index < bytes.count, index - start <= 1000 {
      let byte = bytes[index]
      if byte <= 0x20 || byte >= 0x7F { return nil }
      if byte == question {
        if fields.count == 3 {
          guard index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "=") else { return nil }
          let charset = String(decoding: fields[0], as: UTF8.self).lowercased()
            .split(separator: "*", maxSplits: 1).first.map(String.init) ?? ""
          let text = fields[2]
          let decoded: [UInt8]?
          switch String(decoding: fields[1], as: UTF8.self).uppercased() {
          case "B": decoded = base64Decode(text)
          case "Q": decoded = qDecode(text)
          default: decoded = nil
          }
          guard let decoded, !charset.isEmpty else { return nil }
          return (charset, decoded, index + 2)
        }
        fields.append([])
      } else {
        fields[fields.count - 1].append(byte)
      }
      index += 1
    }
    return nil
  }

  private static func base64Decode(_ text: [UInt8]) -> [UInt8]? {
    var padded = String(decoding: text, as: UTF8.self)
    while padded.utf8.count % 4 != 0 { padded += "=" }
    return Data(base64Encoded: padded, options: .ignoreUnknownCharacters).map { Array($0) }
  }

  private static func qDecode(_ text: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var index = 0
    while index < text.count {
      let byte = text[index]
      if byte == UInt8(ascii: "_") {
        out.append(0x20)
      } else if byte == UInt8(ascii: "="), index + 2 < text.count,
        let value = UInt8(String(decoding: text[index + 1...index + 2], as: UTF8.self), radix: 16)
      {
        out.append(value)
        index += 2
      } else {
        out.append(byte)
      }
      index += 1
    }
    return out
  }

  private static func decodeCharset(_ charset: String, _ bytes: [UInt8]) -> String? {
    switch charset {
    case "utf-8", "utf8", "us-ascii", "ascii":
      return String(decoding: bytes, as: UTF8.self)
    case "iso-8859-1", "latin1", "l1":
      return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    default:
      let encodings: [String: String.Encoding] = [
        "windows-1252": .windowsCP1252, "cp1252": .windowsCP1252, "iso-8859-2": .isoLatin2,
        "windows-1250": .windowsCP1250, "windows-1251": .windowsCP1251, "shift_jis": .shiftJIS,
        "euc-jp": .japaneseEUC, "iso-2022-jp": .iso2022JP, "utf-16": .utf16,
      ]
      guard let encoding = encodings[charset] else { return nil }
      return String(bytes: bytes, encoding: encoding)
    }
  }

  // MARK: Validation

  /// RFC 5322 section 2.2: a field name is printable US-ASCII (33-126) except the colon.
  public static func validateName(_ name: String) throws(ComposeError) {
    let valid = !name.isEmpty && name.utf8.allSatisfy { $0 >= 33 && $0 <= 126 && $0 != UInt8(ascii: ":") }
    if !valid {
      throw ComposeError(
        .invalidHeader,
        "invalid header name \(ComposeError.visible(name)): use printable ASCII without spaces or \":\"")
    }
  }

  /// A value given by a user may not contain CR or LF (it would start a new header field: header
  /// injection), NUL, or other control characters; tabs are whitespace and allowed.
  public static func validateValue(_ value: String, header name: String) throws(ComposeError) {
    for scalar in value.unicodeScalars where ComposeError.isControl(scalar) && scalar != "\t" {
      switch scalar {
      case "\r", "\n":
        throw ComposeError.headerInjection(name)
      case "\0":
        throw ComposeError(.headerInjection, "header value for \(name) contains a NUL character: refused")
      default:
        throw ComposeError(
          .invalidHeader,
          "header value for \(name) contains the control character U+"
            + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4))
      }
    }
  }
}

extension String {
  /// The string with leading zeros up to `width` characters.
  func leftPadded(to width: Int, with pad: Character = "0") -> String {
    count >= width ? self : String(repeating: pad, count: width - count) + self
  }
}
