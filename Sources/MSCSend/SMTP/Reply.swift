/// An RFC 3463 enhanced status code (`class.subject.detail`), as carried at the start of reply
/// text when the server offers ENHANCEDSTATUSCODES (RFC 2034).
public struct EnhancedStatus: Sendable, Equatable, Hashable, CustomStringConvertible {
  public let statusClass: Int
  public let subject: Int
  public let detail: Int

  public init(_ statusClass: Int, _ subject: Int, _ detail: Int) {
    self.statusClass = statusClass
    self.subject = subject
    self.detail = detail
  }

  /// Parses `2.1.5` (class 2/4/5, subject and detail 1-3 digits, RFC 3463 section 2) from the
  /// start of `text`. Returns the status and the rest of the text after one space.
  static func parse(prefixOf text: Substring) -> (EnhancedStatus, Substring)? {
    // Scanned as bytes, without splitting: every line of every reply goes through here.
    let bytes = text.utf8
    var parts: [(value: Int, digits: Int)] = [(0, 0)]
    var index = bytes.startIndex
    while index != bytes.endIndex {
      let byte = bytes[index]
      if byte == UInt8(ascii: " ") { break }
      if byte == UInt8(ascii: ".") {
        guard parts.count < 3 else { return nil }
        parts.append((0, 0))
      } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
        let last = parts.count - 1
        guard parts[last].digits < 3 else { return nil }
        parts[last] = (parts[last].value * 10 + Int(byte - UInt8(ascii: "0")), parts[last].digits + 1)
      } else {
        return nil
      }
      index = bytes.index(after: index)
    }
    guard parts.count == 3, parts[0].digits == 1, [2, 4, 5].contains(parts[0].value), parts[1].digits > 0,
      parts[2].digits > 0
    else { return nil }
    let rest = index == bytes.endIndex ? text[index...] : text[bytes.index(after: index)...]
    return (EnhancedStatus(parts[0].value, parts[1].value, parts[2].value), rest)
  }

  public var description: String { "\(statusClass).\(subject).\(detail)" }
}

extension Character {
  var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

/// One complete SMTP reply (RFC 5321 section 4.2). The text is the server's: untrusted data,
/// shown to the user as it came (after removal of control characters) but never interpreted
/// beyond the code and the enhanced status.
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
  public let code: Int
  /// Text of each line after the code and separator (the enhanced code left in place).
  public let lines: [String]
  /// The enhanced status of each line, when present and of the reply's class.
  public let lineStatuses: [EnhancedStatus?]

  public init(code: Int, lines: [String]) {
    self.code = code
    self.lines = lines
    let replyClass = code / 100
    self.lineStatuses = lines.map { line in
      guard let (status, _) = EnhancedStatus.parse(prefixOf: line[...]), status.statusClass == replyClass
      else { return nil }
      return status
    }
  }

  /// The first enhanced status found on any line (RFC 3463: preferred over the basic code).
  public var enhancedStatus: EnhancedStatus? { lineStatuses.lazy.compactMap { $0 }.first }

  public var isPositiveCompletion: Bool { (200..<300).contains(code) }
  public var isPositiveIntermediate: Bool { (300..<400).contains(code) }
  public var isTransientFailure: Bool { (400..<500).contains(code) }
  public var isPermanentFailure: Bool { (500..<600).contains(code) }

  /// All lines' text joined with a space, for messages and matching.
  public var text: String { lines.joined(separator: " ") }

  /// `550 5.1.1 No such user` on one line, as error messages quote it.
  public var description: String { text.isEmpty ? "\(code)" : "\(code) \(text)" }
}
