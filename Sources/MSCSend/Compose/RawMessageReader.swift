/// Reads a ready-made message chunk by chunk (sendmail mode): header fields are collected, body
/// octets are handed back with every line break made CRLF, and the body's profile (longest line,
/// 8-bit, UTF-8) is learned on the way, so the body never has to be in memory whole.
///
/// Without `ignoringDots`, a line holding a single `.` ends the input, as classic sendmail reads
/// a message without `-i`/`-oi`. The header ends at the first empty line, or at the first line
/// that is neither a field nor a continuation (that line starts the body, as sendmail does). A
/// leading mbox `From ` line is dropped.
struct RawMessageReader {
  /// A header larger than this is refused rather than held.
  static let maximumHeaderOctets = 1 << 20

  let ignoringDots: Bool
  private(set) var fields: [RawMessage.Field] = []
  /// The input ended at a lone `.` line; read no more.
  private(set) var isEnded = false
  private(set) var profile = TextBodyProfile()
  private(set) var validator = UTF8Validator()

  private var inBody = false
  /// The header line being read.
  private var line: [UInt8] = []
  private var headerOctets = 0
  private var isFirstLine = true
  /// A CR ended the last line: an LF right after it belongs to the same line break.
  private var skipLineFeed = false
  private var atLineStart = true
  /// A `.` at the start of a body line, held until the next octet shows whether it is alone.
  private var pendingDot = false

  init(ignoringDots: Bool) {
    self.ignoringDots = ignoringDots
  }

  /// Takes the next chunk; returns the body octets it completed.
  mutating func feed(_ chunk: [UInt8]) throws(ComposeError) -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(inBody ? chunk.count + chunk.count / 16 + 2 : 0)
    for byte in chunk {
      if isEnded { break }
      if skipLineFeed {
        skipLineFeed = false
        if byte == .lineFeed { continue }
      }
      if inBody {
        bodyOctet(byte, into: &output)
      } else {
        try headerOctet(byte, into: &output)
      }
    }
    profile.scan(output)
    validator.scan(output)
    return output
  }

  /// Ends the input: completes a last line without a line break.
  mutating func finish() -> [UInt8] {
    var output: [UInt8] = []
    if !isEnded && !inBody && !line.isEmpty {
      endHeaderLine(into: &output)
    }
    if pendingDot {
      // A last line holding a single `.`, without a line break: it ends the input too.
      pendingDot = false
      isEnded = true
    } else if !isEnded && inBody && !atLineStart {
      output += [.carriageReturn, .lineFeed]
      atLineStart = true
    }
    profile.scan(output)
    validator.scan(output)
    return output
  }

  // MARK: Header

  private mutating func headerOctet(_ byte: UInt8, into output: inout [UInt8]) throws(ComposeError) {
    if byte == .carriageReturn || byte == .lineFeed {
      skipLineFeed = byte == .carriageReturn
      endHeaderLine(into: &output)
      return
    }
    line.append(byte)
    headerOctets += 1
    if headerOctets > Self.maximumHeaderOctets {
      throw ComposeError(.invalidHeader, "the message's header section is larger than 1 MiB")
    }
    guard line.count > TextBodyProfile.maximumLineOctets else { return }
    if let first = line.first, first == .space || first == .tab, let field = fields.last {
      throw Self.lineTooLong(field.name)
    }
    if let name = Self.fieldName(line) { throw Self.lineTooLong(name) }
    // Too long to be a field: the body starts with this line.
    let started = line
    line = []
    isFirstLine = false
    inBody = true
    for octet in started { bodyOctet(octet, into: &output) }
  }

  private mutating func endHeaderLine(into output: inout [UInt8]) {
    let completed = line
    let wasFirst = isFirstLine
    line = []
    isFirstLine = false
    if wasFirst && completed.starts(with: Array("From ".utf8)) { return }
    if !ignoringDots && completed == [UInt8(ascii: ".")] {
      isEnded = true
    } else if completed.isEmpty {
      inBody = true
    } else if let first = completed.first, first == .space || first == .tab, !fields.isEmpty {
      fields[fields.count - 1].lines.append(completed)
    } else if let name = Self.fieldName(completed) {
      fields.append(RawMessage.Field(name: name, lines: [completed]))
    } else {
      inBody = true
      for octet in completed { bodyOctet(octet, into: &output) }
      lineBreak(into: &output)
    }
  }

  /// The name of a field line, `Name:` with RFC 5322 section 2.2's printable ASCII name.
  private static func fieldName(_ line: [UInt8]) -> String? {
    guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return nil }
    let name = line[..<colon]
    guard name.allSatisfy({ $0 >= 33 && $0 <= 126 }) else { return nil }
    return String(decoding: name, as: UTF8.self)
  }

  private static func lineTooLong(_ name: String) -> ComposeError {
    ComposeError(
      .invalidHeader,
      "header field \(name) has a line longer than \(TextBodyProfile.maximumLineOctets) octets (RFC 5322 section 2.1.1)"
    )
  }

  // MARK: Body

  private mutating func bodyOctet(_ byte: UInt8, into output: inout [UInt8]) {
    switch byte {
    case .carriageReturn:
      skipLineFeed = true
      lineBreak(into: &output)
    case .lineFeed:
      lineBreak(into: &output)
    default:
      if pendingDot {
        pendingDot = false
        output.append(UInt8(ascii: "."))
      } else if atLineStart && byte == UInt8(ascii: ".") && !ignoringDots {
        pendingDot = true
        atLineStart = false
        return
      }
      output.append(byte)
      atLineStart = false
    }
  }

  private mutating func lineBreak(into output: inout [UInt8]) {
    if pendingDot {
      pendingDot = false
      isEnded = true
      return
    }
    output += [.carriageReturn, .lineFeed]
    atLineStart = true
  }
}
