/// A ready-made message as sendmail mode reads it (RFC 5322 section 2.1): header fields, then the
/// body after the first empty line. Every line break (CRLF, bare LF, bare CR) becomes CRLF, as
/// the SMTP DATA writer would make it anyway (RFC 5322 section 2.3), so that what is measured and
/// hashed is what the server gets. Nothing else is changed.
struct RawMessage {
  /// One header field: its name and its lines as they came, each without the line break (the
  /// first `Name: value`, the others continuation lines starting with a space or tab).
  struct Field {
    var name: String
    var lines: [[UInt8]]

    var lowercasedName: String { name.lowercased() }

    /// The value unfolded (RFC 5322 section 2.2.3), without the whitespace after the colon.
    var value: String { String(decoding: valueBytes, as: UTF8.self).trimmingSpaces }

    /// The value's octets unfolded, whatever their charset.
    var valueBytes: [UInt8] {
      var bytes = Array(lines[0].drop { $0 != UInt8(ascii: ":") }.dropFirst())
      for line in lines.dropFirst() { bytes += line }
      return bytes
    }

    var isEightBit: Bool { lines.contains { $0.contains { $0 >= 0x80 } } }

    /// The field as it goes out: its lines with CRLF.
    var bytes: [UInt8] { lines.flatMap { $0 + [.carriageReturn, .lineFeed] } }
  }

  var fields: [Field]
  /// The body with CRLF line breaks, ending with CRLF unless empty.
  var body: [UInt8]

  /// `input` up to a line holding a single `.`, as classic sendmail reads a message without
  /// `-i`/`-oi`; the whole of it with `ignoringDots`.
  static func input(_ input: [UInt8], ignoringDots: Bool) -> [UInt8] {
    guard !ignoringDots else { return input }
    var lineStart = 0
    for index in input.indices where input[index] == .lineFeed {
      var line = input[lineStart..<index]
      if line.last == .carriageReturn { line = line.dropLast() }
      if line.count == 1 && line.first == UInt8(ascii: ".") { return Array(input[..<lineStart]) }
      lineStart = index + 1
    }
    let last = input[lineStart...]
    if last.count == 1 && last.first == UInt8(ascii: ".") { return Array(input[..<lineStart]) }
    return input
  }

  /// Splits `input` into header fields and body. The header ends at the first empty line, or at
  /// the first line that is neither a field nor a continuation (that line starts the body, as
  /// sendmail does). A leading mbox `From ` line is dropped.
  init(_ input: [UInt8]) {
    fields = []
    var position = 0
    if input.starts(with: Array("From ".utf8)) { position = Self.line(in: input, from: 0).next }
    var bodyStart = input.count
    while position < input.count {
      let (line, next) = Self.line(in: input, from: position)
      if line.isEmpty {
        bodyStart = next
        break
      }
      if let first = line.first, first == .space || first == .tab, !fields.isEmpty {
        fields[fields.count - 1].lines.append(line)
      } else if let name = Self.fieldName(line) {
        fields.append(Field(name: name, lines: [line]))
      } else {
        bodyStart = position
        break
      }
      position = next
    }
    body = Self.normalized(input[min(bodyStart, input.count)...])
  }

  /// The line starting at `start`, without its break, and where the next one starts.
  private static func line(in input: [UInt8], from start: Int) -> (line: [UInt8], next: Int) {
    var end = start
    while end < input.count, input[end] != .carriageReturn, input[end] != .lineFeed { end += 1 }
    var next = end
    if next < input.count {
      next += input[next] == .carriageReturn && next + 1 < input.count && input[next + 1] == .lineFeed ? 2 : 1
    }
    return (Array(input[start..<end]), next)
  }

  /// CRLF for every line break, and a final CRLF for an unterminated last line.
  private static func normalized(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(bytes.count + bytes.count / 32 + 2)
    var previousWasCarriageReturn = false
    for byte in bytes {
      switch byte {
      case .carriageReturn:
        output += [.carriageReturn, .lineFeed]
        previousWasCarriageReturn = true
        continue
      case .lineFeed:
        if !previousWasCarriageReturn { output += [.carriageReturn, .lineFeed] }
      default:
        output.append(byte)
      }
      previousWasCarriageReturn = false
    }
    if let last = output.last, last != .lineFeed { output += [.carriageReturn, .lineFeed] }
    return output
  }

  /// The name of a field line, `Name:` with RFC 5322 section 2.2's printable ASCII name.
  private static func fieldName(_ line: [UInt8]) -> String? {
    guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return nil }
    let name = line[..<colon]
    guard name.allSatisfy({ $0 >= 33 && $0 <= 126 }) else { return nil }
    return String(decoding: name, as: UTF8.self)
  }

  func fields(named name: String) -> [Field] {
    let lowered = name.lowercased()
    return fields.filter { $0.lowercasedName == lowered }
  }

  func has(_ name: String) -> Bool { !fields(named: name).isEmpty }

  /// The header as it goes out, each field ending in CRLF.
  var headerBytes: [UInt8] { fields.flatMap(\.bytes) }
}
