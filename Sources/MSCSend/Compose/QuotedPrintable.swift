/// Quoted-printable (RFC 2045 section 6.7), fed chunk by chunk so a large body never has to be in
/// memory at once: only the current output line (at most 76 characters) is held back, because
/// whitespace at its end must be encoded and the line can only be judged once it ends.
///
/// Output lines are at most 76 characters including the `=` of a soft break. Besides the rules of
/// section 6.7, a `.` starting a line is encoded (a lone `.` line must survive SMTP transports that
/// forget dot-stuffing) and so is the `F` of a line starting `From ` (mbox files would quote it),
/// as RFC 2049 section 3 (8) and (9) suggest.
public struct QuotedPrintableEncoder: Sendable {
  public enum Mode: Sendable, Equatable {
    /// Text: CRLF and bare LF in the input are line breaks and come out as CRLF hard breaks; a CR
    /// not followed by LF is data and is encoded.
    case text
    /// Binary: every byte is data, CR and LF included; output has only soft breaks.
    case binary
  }

  /// RFC 2045 section 6.7 (5).
  public static let maximumLineLength = 76

  private let mode: Mode
  /// The current output line, already encoded, at most 75 characters (room for a soft break `=`).
  private var line: [UInt8] = []
  /// A CR seen at the end of the previous chunk whose LF may start the next one.
  private var pendingCarriageReturn = false

  public init(mode: Mode = .text) {
    self.mode = mode
  }

  /// Encodes the next chunk; returns the output lines completed so far.
  public mutating func encode(_ chunk: some Sequence<UInt8>) -> [UInt8] {
    var output: [UInt8] = []
    for byte in chunk { process(byte, into: &output) }
    return output
  }

  /// Ends the input: returns the last line, without a line break (the input did not end with one).
  public mutating func finish() -> [UInt8] {
    var output: [UInt8] = []
    if pendingCarriageReturn {
      pendingCarriageReturn = false
      appendEncoded(.carriageReturn, into: &output)
    }
    encodeTrailingWhitespace(into: &output)
    output += line
    line = []
    return output
  }

  private mutating func process(_ byte: UInt8, into output: inout [UInt8]) {
    if mode == .text {
      if pendingCarriageReturn {
        pendingCarriageReturn = false
        if byte == .lineFeed {
          hardBreak(into: &output)
          return
        }
        appendEncoded(.carriageReturn, into: &output)
      }
      if byte == .carriageReturn {
        pendingCarriageReturn = true
        return
      }
      if byte == .lineFeed {
        hardBreak(into: &output)
        return
      }
    }
    switch byte {
    case .space where line == Array("From".utf8):
      line = Array("=46rom".utf8)
      appendLiteral(byte, into: &output)
    case .space, .tab:
      appendLiteral(byte, into: &output)
    case UInt8(ascii: ".") where line.isEmpty:
      appendEncoded(byte, into: &output)
    case 33...126 where byte != UInt8(ascii: "="):
      appendLiteral(byte, into: &output)
    default:
      appendEncoded(byte, into: &output)
    }
  }

  private mutating func appendLiteral(_ byte: UInt8, into output: inout [UInt8]) {
    if line.count + 1 > Self.maximumLineLength - 1 { softBreak(into: &output) }
    line.append(byte)
  }

  private mutating func appendEncoded(_ byte: UInt8, into output: inout [UInt8]) {
    if line.count + 3 > Self.maximumLineLength - 1 { softBreak(into: &output) }
    line += [UInt8(ascii: "="), Self.hexDigits[Int(byte >> 4)], Self.hexDigits[Int(byte & 0x0F)]]
  }

  private mutating func softBreak(into output: inout [UInt8]) {
    output += line
    output += [UInt8(ascii: "="), .carriageReturn, .lineFeed]
    line = []
  }

  private mutating func hardBreak(into output: inout [UInt8]) {
    encodeTrailingWhitespace(into: &output)
    output += line
    output += [.carriageReturn, .lineFeed]
    line = []
  }

  /// RFC 2045 section 6.7 (3): whitespace ending a line would be stripped by transports.
  private mutating func encodeTrailingWhitespace(into output: inout [UInt8]) {
    guard let last = line.last, last == .space || last == .tab else { return }
    line.removeLast()
    appendEncoded(last, into: &output)
  }

  private static let hexDigits = Array("0123456789ABCDEF".utf8)
}

public enum QuotedPrintable {
  /// All of `bytes` encoded in one go; the same bytes `QuotedPrintableEncoder` gives chunk by chunk.
  public static func encode(_ bytes: some Sequence<UInt8>, mode: QuotedPrintableEncoder.Mode = .text) -> [UInt8] {
    var encoder = QuotedPrintableEncoder(mode: mode)
    return encoder.encode(bytes) + encoder.finish()
  }

  /// Decodes quoted-printable (RFC 2045 section 6.7): soft breaks joined, `=XX` in either case
  /// decoded, whitespace at line ends dropped (rule 3: it was added in transport), hard breaks
  /// returned as CRLF. A malformed `=` is kept as it is, as the RFC recommends for robustness.
  public static func decode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
    let lines = Array(bytes).split(separator: .lineFeed, omittingEmptySubsequences: false)
    var output: [UInt8] = []
    for (index, rawLine) in lines.enumerated() {
      var line = rawLine
      if line.last == .carriageReturn { line = line.dropLast() }
      while let last = line.last, last == .space || last == .tab { line = line.dropLast() }
      var soft = false
      if line.last == UInt8(ascii: "=") {
        soft = true
        line = line.dropLast()
      }
      var position = line.startIndex
      while position < line.endIndex {
        let byte = line[position]
        if byte == UInt8(ascii: "="), position + 2 < line.endIndex,
          let high = hexValue(line[position + 1]), let low = hexValue(line[position + 2])
        {
          output.append(high << 4 | low)
          position += 3
        } else {
          output.append(byte)
          position += 1
        }
      }
      if !soft && index < lines.count - 1 { output += [.carriageReturn, .lineFeed] }
    }
    return output
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    default: nil
    }
  }
}

extension UInt8 {
  static let carriageReturn = UInt8(ascii: "\r")
  static let lineFeed = UInt8(ascii: "\n")
  static let space = UInt8(ascii: " ")
  static let tab = UInt8(ascii: "\t")
}
