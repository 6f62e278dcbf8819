/// A ready-made message as sendmail mode reads it (RFC 5322 section 2.1): header fields, then the
/// body after the first empty line. Every line break (CRLF, bare LF, bare CR) becomes CRLF, as
/// the SMTP DATA writer would make it anyway (RFC 5322 section 2.3), so that what is measured and
/// hashed is what the server gets. Nothing else is changed. `RawMessageReader` does the reading.
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
  var body: MessageBody
  /// What the body holds, learned while it was read.
  var bodyProfile: TextBodyProfile
  var bodyIsUTF8: Bool

  /// Bodies up to this size stay in memory; larger ones go to a spool file.
  static let memoryLimit = 1 << 20

  /// A message in memory. Without `ignoringDots`, a line holding a single `.` ends it, as
  /// classic sendmail reads a message without `-i`/`-oi`.
  init(_ input: [UInt8], ignoringDots: Bool = true) throws(ComposeError) {
    var reader = RawMessageReader(ignoringDots: ignoringDots)
    var body = try reader.feed(input)
    body += reader.finish()
    self.init(fields: reader.fields, body: .memory(body), reader: reader)
  }

  /// Reads a message chunk by chunk from `next` (empty at the end of input), keeping a large body
  /// in a spool file in `spoolDirectory` rather than in memory. Throws `ComposeError` for a
  /// message that cannot be sent and `MessageSourceError` when the spool file fails.
  static func read(_ next: () -> [UInt8], ignoringDots: Bool, spoolDirectory: String) throws -> RawMessage {
    var reader = RawMessageReader(ignoringDots: ignoringDots)
    var memory: [UInt8] = []
    var spool: SpoolFile?
    func store(_ bytes: [UInt8]) throws {
      if let spool {
        try spool.append(bytes)
      } else if memory.count + bytes.count > memoryLimit {
        let file = try SpoolFile(in: spoolDirectory)
        try file.append(memory)
        try file.append(bytes)
        memory = []
        spool = file
      } else {
        memory += bytes
      }
    }
    while !reader.isEnded {
      let chunk = next()
      if chunk.isEmpty { break }
      try store(try reader.feed(chunk))
    }
    try store(reader.finish())
    return RawMessage(fields: reader.fields, body: spool.map { .spool($0) } ?? .memory(memory), reader: reader)
  }

  private init(fields: [Field], body: MessageBody, reader: RawMessageReader) {
    self.fields = fields
    self.body = body
    bodyProfile = reader.profile
    bodyIsUTF8 = reader.validator.isValid
  }

  func fields(named name: String) -> [Field] {
    let lowered = name.lowercased()
    return fields.filter { $0.lowercasedName == lowered }
  }

  func has(_ name: String) -> Bool { !fields(named: name).isEmpty }

  /// The header as it goes out, each field ending in CRLF.
  var headerBytes: [UInt8] { Self.headerBytes(fields) }

  static func headerBytes(_ fields: [Field]) -> [UInt8] { fields.flatMap(\.bytes) }
}
