/// Reads CRLF-terminated lines from a transport and assembles them into replies, enforcing the
/// reply grammar strictly (RFC 5321 section 4.2): three digits 2xx-5xx, `-` or space or end of
/// line, the same code on every line, and caps on line length and line count so that a hostile
/// server cannot make the client buffer without bound.
struct ReplyReader {
  /// RFC 5321 4.5.3.1.5 allows 512 octets a reply line; real servers exceed it a little, a
  /// 64 KiB line is an attack.
  static let defaultMaxLineLength = 4096
  static let defaultMaxLines = 128

  let maxLineLength: Int
  let maxLines: Int
  private var buffer: [UInt8] = []
  private var start = 0

  init(maxLineLength: Int = defaultMaxLineLength, maxLines: Int = defaultMaxLines) {
    self.maxLineLength = maxLineLength
    self.maxLines = maxLines
  }

  /// Bytes received but not yet consumed. Non-zero after STARTTLS's 220 means injection.
  var bufferedByteCount: Int { buffer.count - start }

  /// Discards everything read so far (after STARTTLS nothing read in plaintext survives).
  mutating func reset() {
    buffer = []
    start = 0
  }

  /// Reads one whole reply; `deadline` bounds the whole reply, not each read, so a server that
  /// dribbles one byte every few seconds still times out.
  mutating func readReply(from transport: Transport, deadline: Deadline) throws(ReplyReadError) -> SMTPReply {
    var code: Int?
    var lines: [String] = []
    while true {
      let line = try readLine(from: transport, deadline: deadline)
      guard lines.count < maxLines else { throw .tooManyLines(maxLines) }
      let (lineCode, isLast, text) = try Self.parse(line: line)
      if let code, code != lineCode { throw .inconsistentCodes(first: code, then: lineCode) }
      code = lineCode
      lines.append(text)
      if isLast { return SMTPReply(code: lineCode, lines: lines) }
    }
  }

  /// Splits `250-text` / `250 text` / `250` into its parts.
  static func parse(line: [UInt8]) throws(ReplyReadError) -> (code: Int, isLast: Bool, text: String) {
    guard line.count >= 3 else { throw .malformed(printable(line)) }
    let digits = line[0..<3]
    guard digits.allSatisfy({ (0x30...0x39).contains($0) }), (0x32...0x35).contains(line[0]) else {
      throw .malformed(printable(line))
    }
    let code = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    if line.count == 3 { return (code, true, "") }
    let separator = line[3]
    guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else {
      throw .malformed(printable(line))
    }
    return (code, separator == UInt8(ascii: " "), printable(line[4...]))
  }

  /// Server text with control characters replaced, so that it can be printed safely.
  static func printable<C: Collection<UInt8>>(_ bytes: C) -> String {
    let cleaned = bytes.map { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7f ? UInt8(ascii: "?") : $0 }
    // C1 controls (U+0080-U+009F) too: a terminal in UTF-8 mode obeys them like ESC sequences.
    var scalars = String.UnicodeScalarView()
    for scalar in String(decoding: cleaned, as: UTF8.self).unicodeScalars {
      scalars.append((0x80...0x9f).contains(scalar.value) ? "?" : scalar)
    }
    return String(scalars)
  }

  /// One line without its CRLF. A bare LF is accepted as a line end (some servers), a CR before
  /// it is removed.
  private mutating func readLine(from transport: Transport, deadline: Deadline) throws(ReplyReadError) -> [UInt8] {
    var scanned = start
    while true {
      if let newline = buffer[scanned...].firstIndex(of: 0x0a) {
        var end = newline
        if end > start && buffer[end - 1] == 0x0d { end -= 1 }
        let line = Array(buffer[start..<end])
        start = newline + 1
        if start == buffer.count { reset() }
        guard line.count <= maxLineLength else { throw .lineTooLong(maxLineLength) }
        return line
      }
      guard buffer.count - start <= maxLineLength + 1 else { throw .lineTooLong(maxLineLength) }
      if start >= 65_536 {
        // Pipelined replies arrive in bursts: drop what is consumed so the buffer stays small.
        buffer.removeFirst(start)
        start = 0
      }
      scanned = buffer.count
      let chunk: [UInt8]
      do {
        chunk = try transport.read(maxCount: 16_384, deadline: deadline)
      } catch {
        throw .transport(error)
      }
      if chunk.isEmpty { throw .transport(.closed) }
      buffer += chunk
    }
  }
}

/// Why a reply could not be read. `transport` failures are network problems; the others mean
/// the server broke the protocol.
enum ReplyReadError: Error, Equatable {
  case transport(TransportError)
  case malformed(String)
  case lineTooLong(Int)
  case tooManyLines(Int)
  case inconsistentCodes(first: Int, then: Int)
}
