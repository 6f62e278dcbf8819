/// One parameter of a MIME header field (RFC 2045 section 5.1), such as `charset=utf-8` or an
/// attachment's `filename`.
public struct MIMEParameter: Sendable, Equatable {
  public var name: String
  public var value: String
  /// Quote the value even when it is a token: file names are conventionally quoted, and some
  /// clients expect it.
  public var alwaysQuoted: Bool

  public init(_ name: String, _ value: String, alwaysQuoted: Bool = false) {
    self.name = name
    self.value = value
    self.alwaysQuoted = alwaysQuoted
  }
}

/// Header fields whose value is a keyword followed by parameters: Content-Type (RFC 2045
/// section 5.1) and Content-Disposition (RFC 2183). Each parameter that does not fit the line goes
/// on a line of its own; one too long for any line is split into RFC 2231 section 3 continuations
/// (`filename*0=`, `filename*1=`); non-ASCII values use RFC 2231 section 4 (`filename*=utf-8''%E6...`),
/// split between characters, never inside a UTF-8 sequence.
public enum MIMEParameters {
  /// The room for one parameter on a folded line: 78 columns less the leading space and the `;`.
  static let segmentBudget = HeaderFolder.preferredLineLength - 2

  /// The complete field, folded, ending with CRLF. Names and values are checked like any header
  /// value (no control characters); the keyword must be ASCII.
  public static func field(name: String, value: String, parameters: [MIMEParameter]) throws(ComposeError) -> String {
    try HeaderEncoding.validateName(name)
    try HeaderEncoding.validateValue(value, header: name)
    var segments: [String] = []
    for parameter in parameters {
      try HeaderEncoding.validateValue(parameter.value, header: name)
      segments += self.segments(parameter)
    }
    var tokens = [HeaderToken(separator: " ", text: value + (segments.isEmpty ? "" : ";"), isEncoded: false)]
    for (index, segment) in segments.enumerated() {
      let text = segment + (index < segments.count - 1 ? ";" : "")
      tokens.append(HeaderToken(separator: " ", text: text, isEncoded: false))
    }
    return try HeaderFolder.fold(name: name, tokens: tokens)
  }

  /// `name=value`, or its RFC 2231 continuations and extended form, as separate segments.
  static func segments(_ parameter: MIMEParameter) -> [String] {
    let name = parameter.name
    let value = parameter.value
    if value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
      let isToken = !value.isEmpty && value.utf8.allSatisfy(MediaType.isTokenCharacter)
      if isToken && !parameter.alwaysQuoted && name.utf8.count + 1 + value.utf8.count <= segmentBudget {
        return [name + "=" + value]
      }
      let whole = name + "=" + quoted(value)
      if whole.utf8.count <= segmentBudget { return [whole] }
      return quotedContinuations(name: name, value: value)
    }
    let extended = name + "*=utf-8''" + percentEncoded(Array(value.utf8))
    if extended.utf8.count <= segmentBudget { return [extended] }
    return extendedContinuations(name: name, value: value)
  }

  /// RFC 2231 section 3: `name*0="..."; name*1="..."`, split between characters.
  private static func quotedContinuations(name: String, value: String) -> [String] {
    var segments: [String] = []
    var current = ""
    for character in value {
      let piece = quotedContent(String(character))
      let prefix = name + "*" + String(segments.count) + "=\"\""
      if !current.isEmpty && prefix.utf8.count + current.utf8.count + piece.utf8.count > segmentBudget {
        segments.append(name + "*" + String(segments.count) + "=\"" + current + "\"")
        current = ""
      }
      current += piece
    }
    segments.append(name + "*" + String(segments.count) + "=\"" + current + "\"")
    return segments
  }

  /// RFC 2231 sections 3 and 4 together: `name*0*=utf-8''%E6...; name*1*=%E6...`, each segment
  /// ending on a character boundary so it also decodes on its own.
  private static func extendedContinuations(name: String, value: String) -> [String] {
    var segments: [String] = []
    var current = ""
    func prefix(_ index: Int) -> String { name + "*" + String(index) + "*=" + (index == 0 ? "utf-8''" : "") }
    for scalar in value.unicodeScalars {
      let piece = percentEncoded(Array(String(scalar).utf8))
      if !current.isEmpty && prefix(segments.count).utf8.count + current.utf8.count + piece.utf8.count > segmentBudget {
        segments.append(prefix(segments.count) + current)
        current = ""
      }
      current += piece
    }
    segments.append(prefix(segments.count) + current)
    return segments
  }

  /// RFC 2045 section 5.1 quoted-string: backslash before `"` and `\`.
  static func quoted(_ value: String) -> String { "\"" + quotedContent(value) + "\"" }

  private static func quotedContent(_ value: String) -> String {
    var out = ""
    for scalar in value.unicodeScalars {
      if scalar == "\"" || scalar == "\\" { out += "\\" }
      out.unicodeScalars.append(scalar)
    }
    return out
  }

  /// RFC 2231 section 7 `attribute-char` literally, every other octet as `%XX`.
  static func percentEncoded(_ bytes: [UInt8]) -> String {
    let hex = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    for byte in bytes {
      let isAttributeChar =
        MediaType.isTokenCharacter(byte) && byte != UInt8(ascii: "*")
        && byte != UInt8(ascii: "'") && byte != UInt8(ascii: "%")
      if isAttributeChar {
        out.append(byte)
      } else {
        out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
      }
    }
    return String(decoding: out, as: UTF8.self)
  }
}
