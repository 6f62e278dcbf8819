/// Turns message bytes into the DATA stream (RFC 5321 section 4.5.2): every line ending becomes
/// CRLF (bare LF and bare CR alike), a line starting with `.` gets a second one, and `finish`
/// ends the last line and appends the terminating `.`. Works on chunks of any size, so a
/// message never has to be in memory whole.
struct DotStuffer {
  private var atLineStart = true
  private var pendingCR = false

  mutating func process<C: Collection<UInt8>>(_ input: C, into output: inout [UInt8]) {
    // Contiguous input (every chunk a message source produces) is copied a run at a time
    // between the bytes that matter; the byte loop is the fallback.
    let done = input.withContiguousStorageIfAvailable { buffer in
      var stuffer = self
      stuffer.processRuns(buffer, into: &output)
      return stuffer
    }
    if let done {
      self = done
      return
    }
    for byte in input { processByte(byte, into: &output) }
  }

  private mutating func processByte(_ byte: UInt8, into output: inout [UInt8]) {
    if pendingCR {
      pendingCR = false
      output.append(0x0d)
      output.append(0x0a)
      atLineStart = true
      if byte == 0x0a { return }
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

  /// The same as `processByte` for each byte, with the ordinary bytes between two line breaks
  /// (or a leading dot) appended as one run.
  private mutating func processRuns(_ buffer: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
    var runStart = 0
    var index = 0
    while index < buffer.count {
      let byte = buffer[index]
      if pendingCR || byte == 0x0d || byte == 0x0a || (atLineStart && byte == UInt8(ascii: ".")) {
        if index > runStart { output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<index])) }
        processByte(byte, into: &output)
        index += 1
        runStart = index
      } else {
        atLineStart = false
        index += 1
      }
    }
    if index > runStart { output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<index])) }
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
