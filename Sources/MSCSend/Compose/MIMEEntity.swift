/// A MIME entity (RFC 2045 section 2.4): header fields and a body. A whole message is the top
/// entity; the parts of a multipart body are entities too. The description is small: attachment
/// contents stay on disk until the message is written (`StreamingMessage`).
public struct MIMEEntity: Sendable {
  /// Complete header fields, each ending in CRLF, without the empty line that ends the header.
  public var header: [UInt8]
  public var body: MIMEBody

  public init(header: [UInt8], body: MIMEBody) {
    self.header = header
    self.body = body
  }

  /// The exact number of octets `StreamingMessage` writes for this entity.
  public var byteCount: Int { header.count + 2 + body.byteCount }
}

/// What follows an entity's header.
public indirect enum MIMEBody: Sendable {
  /// Bytes already in their transfer encoding (7bit or quoted-printable text), lines ending in
  /// CRLF: a text or HTML part, small enough to hold.
  case encoded([UInt8])
  /// A file sent as base64 (RFC 2045 section 6.8), read in chunks while the message is written.
  case base64File(AttachmentFile)
  /// RFC 2046 section 5.1.1: the parts between `--boundary` lines, closed by `--boundary--`.
  case multipart(boundary: String, parts: [MIMEEntity])

  /// The exact number of octets written, computed without reading any file.
  public var byteCount: Int {
    switch self {
    case .encoded(let bytes):
      return bytes.count
    case .base64File(let file):
      return Base64LineEncoder.encodedLength(of: file.size)
    case .multipart(let boundary, let parts):
      let delimiter = 2 + boundary.utf8.count + 2
      let between = parts.count > 1 ? (parts.count - 1) * (2 + delimiter) : 0
      return parts.reduce(0) { $0 + $1.byteCount } + (parts.isEmpty ? 0 : delimiter) + between + 2 + delimiter + 2
    }
  }

  /// Bytes above 127 in the encoded parts (composed text never has them; they need 8BITMIME).
  var containsEightBit: Bool {
    switch self {
    case .encoded(let bytes): bytes.contains { $0 >= 0x80 }
    case .base64File: false
    case .multipart(_, let parts): parts.contains { $0.header.contains { $0 >= 0x80 } || $0.body.containsEightBit }
    }
  }
}

/// Writes an entity tree as message bytes (RFC 2046 section 5.1.1). Every part body ends in CRLF
/// (or is empty) and is followed by CRLF and the next delimiter, so a text part's last line break
/// survives the delimiter that takes the CRLF before it. No preamble and no epilogue.
struct MIMEWriter {
  private var output = ChunkedOutput()

  /// Writes `entity` through `sink` in blocks of about 64 KiB.
  static func write(_ entity: MIMEEntity, to sink: ([UInt8]) throws -> Void) throws {
    var writer = MIMEWriter()
    try writer.write(entity, sink)
    try writer.output.flush(sink)
  }

  private mutating func write(_ entity: MIMEEntity, _ sink: ([UInt8]) throws -> Void) throws {
    try output.append(entity.header, sink)
    try output.append([.carriageReturn, .lineFeed], sink)
    try write(entity.body, sink)
  }

  private mutating func write(_ body: MIMEBody, _ sink: ([UInt8]) throws -> Void) throws {
    switch body {
    case .encoded(let bytes):
      try output.append(bytes, sink)
    case .base64File(let file):
      var encoder = Base64LineEncoder()
      try file.readChunks { chunk in try output.append(encoder.encode(chunk), sink) }
      try output.append(encoder.finish(), sink)
    case .multipart(let boundary, let parts):
      for (index, part) in parts.enumerated() {
        try output.append(Array(((index == 0 ? "" : "\r\n") + "--" + boundary + "\r\n").utf8), sink)
        try write(part, sink)
      }
      try output.append(Array(("\r\n--" + boundary + "--\r\n").utf8), sink)
    }
  }
}

/// Collects bytes and hands them on in blocks of about 64 KiB: large enough for few socket writes,
/// small enough that memory stays flat whatever the message size.
struct ChunkedOutput {
  static let blockSize = 65_536
  private var buffer: [UInt8] = []

  init() {
    buffer.reserveCapacity(Self.blockSize + 16_384)
  }

  mutating func append(_ bytes: [UInt8], _ sink: ([UInt8]) throws -> Void) throws {
    buffer += bytes
    if buffer.count >= Self.blockSize { try flush(sink) }
  }

  mutating func flush(_ sink: ([UInt8]) throws -> Void) throws {
    guard !buffer.isEmpty else { return }
    try sink(buffer)
    buffer.removeAll(keepingCapacity: true)
  }
}
