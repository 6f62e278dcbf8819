/// A composed message as `MessageContent`: its entity tree is written chunk by chunk, attachments
/// read from disk and base64-encoded on the way out, so memory stays flat however large they are;
/// its size is known exactly in advance (for SIZE, RFC 1870) without reading any file.
public struct StreamingMessage: MessageContent, Sendable {
  public let entity: MIMEEntity
  /// With the angle brackets.
  public let messageID: String
  public let requiresSMTPUTF8: Bool
  public let byteCount: Int?
  /// Composed messages are 7-bit: header text is encoded (RFC 2047) and bodies are 7bit,
  /// quoted-printable or base64; only UTF-8 addresses (SMTPUTF8) have octets above 127.
  public let requiresEightBitMIME: Bool

  public init(entity: MIMEEntity, messageID: String, requiresSMTPUTF8: Bool) {
    self.entity = entity
    self.messageID = messageID
    self.requiresSMTPUTF8 = requiresSMTPUTF8
    byteCount = entity.byteCount
    let headerIsEightBit = entity.header.contains { $0 >= 0x80 }
    requiresEightBitMIME = entity.body.containsEightBit || (headerIsEightBit && !requiresSMTPUTF8)
  }

  public func writeChunks(to sink: ([UInt8]) throws -> Void) throws {
    try MIMEWriter.write(entity, to: sink)
  }

  /// The whole message in memory: for tests and small messages only.
  public func bytes() throws -> [UInt8] {
    var bytes: [UInt8] = []
    try writeChunks { bytes += $0 }
    return bytes
  }
}
