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
    let end = text.firstIndex(of: " ") ?? text.endIndex
    let parts = text[..<end].split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 3,
      parts[0].count == 1, let first = Int(parts[0]), [2, 4, 5].contains(first),
      (1...3).contains(parts[1].count), parts[1].allSatisfy(\.isASCIIDigit), let second = Int(parts[1]),
      (1...3).contains(parts[2].count), parts[2].allSatisfy(\.isASCIIDigit), let third = Int(parts[2])
    else { return nil }
    let rest = end == text.endIndex ? text[end...] : text[text.index(after: end)...]
    return (EnhancedStatus(first, second, third), rest)
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
