/// Turns message bytes into the DATA stream (RFC 5321 section 4.5.2): every line ending becomes
/// CRLF (bare LF and bare CR alike), a line starting with `.` gets a second one, and `finish`
/// ends the last line and appends the terminating `.`. Works on chunks of any size, so a
/// message never has to be in memory whole.
struct DotStuffer {
  private var atLineStart = true
  private var pendingCR = false

  mutating func process<C: Collection<UInt8>>(_ input: C, into output: inout [UInt8]) {
    for byte in input {
      if pendingCR {
        pendingCR = false
        output.append(0x0d)
        output.append(0x0a)
        atLineStart = true
        if byte == 0x0a { continue }
      }
      switch byte {
      case 0x0d:
        pendingCR = true
      case 0x0a:
        output.append(0x0d)
        output.append(0x0a)
        atLineStart = true
      default:
        if atLineStart && byte == UInt8(ascii: ".") { output.append(byte) }
        output.append(byte)
        atLineStart = false
      }
    }
  }

  /// Ends an unterminated last line and appends `.CRLF`.
  mutating func finish(into output: inout [UInt8]) {
    if pendingCR {
      pendingCR = false
      output.append(contentsOf: [0x0d, 0x0a])
      atLineStart = true
    }
    if !atLineStart { output.append(contentsOf: [0x0d, 0x0a]) }
    output.append(contentsOf: [UInt8(ascii: "."), 0x0d, 0x0a])
    atLineStart = true
  }
}
