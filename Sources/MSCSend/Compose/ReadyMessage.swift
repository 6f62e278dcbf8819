/// A ready-made message (sendmail mode) as `MessageContent`: its header in memory, its body in
/// memory or spooled to disk, lines ending in CRLF; with a 7-bit form (quoted-printable body,
/// RFC 2047 header text) for servers without 8BITMIME when the message is 8-bit and can be
/// re-encoded. A re-encoded body is encoded while it is written, like an attachment.
public struct ReadyMessage: MessageContent {
  public let header: [UInt8]
  let body: MessageBody
  /// Set when the body goes quoted-printable (RFC 2045 section 6.7): its encoded length.
  let quotedPrintableLength: Int?
  public let requiresEightBitMIME: Bool
  public let requiresSMTPUTF8: Bool
  /// Builds the 7-bit form only when a server asks for it.
  private let makeSevenBit: (() -> ReadyMessage?)?

  public var byteCount: Int? { header.count + 2 + (quotedPrintableLength ?? body.count) }
  public var sevenBitAlternative: (any MessageContent)? { makeSevenBit?() ?? nil }

  public func writeChunks(to sink: ([UInt8]) throws -> Void) throws {
    try sink(header + [.carriageReturn, .lineFeed])
    guard quotedPrintableLength != nil else {
      try body.readChunks(sink)
      return
    }
    try Self.quotedPrintable(body, sink)
  }

  /// The whole message in memory: for tests and small messages.
  public func bytes() throws -> [UInt8] {
    var bytes: [UInt8] = []
    try writeChunks { bytes += $0 }
    return bytes
  }

  /// `body` as quoted-printable chunk by chunk; it ends in CRLF as the body did.
  private static func quotedPrintable(_ body: MessageBody, _ sink: ([UInt8]) throws -> Void) throws {
    var encoder = QuotedPrintableEncoder()
    try body.readChunks { chunk in try sink(encoder.encode(chunk)) }
    let last = encoder.finish()
    if !last.isEmpty { try sink(last + [.carriageReturn, .lineFeed]) }
  }

  private static func quotedPrintableLength(_ body: MessageBody) throws -> Int {
    var length = 0
    try quotedPrintable(body) { length += $0.count }
    return length
  }

  /// Decides how `message` travels (see `SendmailMessage`): a body that cannot go as it is gets
  /// re-encoded (or is refused); an 8-bit message gets a 7-bit alternative when its body can be
  /// re-encoded and its 8-bit header fields written as RFC 2047 encoded words. Throws
  /// `ComposeError`, or `MessageSourceError` when a spooled body cannot be read.
  static func make(_ message: RawMessage, requiresSMTPUTF8: Bool) throws -> ReadyMessage {
    let blocker = reencodingBlocker(message)
    let headerNeeds8BITMIME = !requiresSMTPUTF8 && message.fields.contains(where: \.isEightBit)
    let headerConvertible = !headerNeeds8BITMIME || sevenBitFields(message.fields) != nil
    if let reason = reasonToReencode(message.bodyProfile) {
      if let blocker {
        throw ComposeError(
          .invalidHeader,
          "the message body \(reason), so it must be re-encoded, but \(blocker); encode it before sending")
      }
      let fields = reencodedFields(message)
      let length = try quotedPrintableLength(message.body)
      var makeSevenBit: (() -> ReadyMessage?)?
      if headerNeeds8BITMIME, headerConvertible {
        makeSevenBit = {
          ReadyMessage(
            header: RawMessage.headerBytes(sevenBitFields(fields) ?? fields), body: message.body,
            quotedPrintableLength: length, requiresEightBitMIME: false, requiresSMTPUTF8: requiresSMTPUTF8,
            makeSevenBit: nil)
        }
      }
      return ReadyMessage(
        header: RawMessage.headerBytes(fields), body: message.body, quotedPrintableLength: length,
        requiresEightBitMIME: headerNeeds8BITMIME, requiresSMTPUTF8: requiresSMTPUTF8, makeSevenBit: makeSevenBit)
    }
    let bodyIsEightBit = !message.bodyProfile.isASCII
    var makeSevenBit: (() -> ReadyMessage?)?
    if bodyIsEightBit || headerNeeds8BITMIME, !bodyIsEightBit || blocker == nil, headerConvertible {
      makeSevenBit = {
        var fields = bodyIsEightBit ? reencodedFields(message) : message.fields
        if headerNeeds8BITMIME { fields = sevenBitFields(fields) ?? fields }
        var length: Int?
        if bodyIsEightBit {
          // The spooled body could not be read again: no 7-bit form, the server's refusal stands.
          guard let counted = try? quotedPrintableLength(message.body) else { return nil }
          length = counted
        }
        return ReadyMessage(
          header: RawMessage.headerBytes(fields), body: message.body, quotedPrintableLength: length,
          requiresEightBitMIME: false,
          requiresSMTPUTF8: requiresSMTPUTF8, makeSevenBit: nil)
      }
    }
    return ReadyMessage(
      header: message.headerBytes, body: message.body, quotedPrintableLength: nil,
      requiresEightBitMIME: bodyIsEightBit || headerNeeds8BITMIME, requiresSMTPUTF8: requiresSMTPUTF8,
      makeSevenBit: makeSevenBit)
  }

  /// The header with every 8-bit field rewritten in 7 bits (RFC 2047): address fields through
  /// their mailboxes, other text as unstructured; nil when a field cannot be (not UTF-8, a
  /// structured field such as Content-Type or Message-ID, or a non-ASCII address).
  static func sevenBitFields(_ fields: [RawMessage.Field]) -> [RawMessage.Field]? {
    var result: [RawMessage.Field] = []
    for field in fields {
      guard field.isEightBit else {
        result.append(field)
        continue
      }
      guard let value = String(validating: field.valueBytes, as: UTF8.self)?.trimmingSpaces else { return nil }
      let name = field.lowercasedName
      let text: String?
      if addressFields.contains(name) {
        let mailboxes = (try? HeaderAddressList.mailboxes(value, header: field.name)) ?? []
        guard !mailboxes.isEmpty, !mailboxes.contains(where: \.requiresSMTPUTF8) else { return nil }
        text = try? HeaderEncoding.addressField(name: field.name, mailboxes: mailboxes)
      } else if name.hasPrefix("content-") || structuredFields.contains(name) {
        return nil
      } else {
        text = try? HeaderEncoding.unstructuredField(name: field.name, value: value)
      }
      guard let text else { return nil }
      result.append(RawMessage.Field(name: field.name, lines: SendmailMessage.fieldLines(text)))
    }
    return result
  }

  static let addressFields: Set<String> = [
    "from", "to", "cc", "reply-to", "sender", "resent-from", "resent-to", "resent-cc", "resent-sender",
  ]
  static let structuredFields: Set<String> = [
    "date", "message-id", "references", "in-reply-to", "received", "return-path", "mime-version", "resent-date",
    "resent-message-id",
  ]

  /// Why the body cannot go as it is even with 8BITMIME (RFC 6152 keeps 8bit lines within 998
  /// octets and without NUL), or nil.
  static func reasonToReencode(_ profile: TextBodyProfile) -> String? {
    if profile.longestLine > TextBodyProfile.maximumLineOctets {
      return "has a line of \(profile.longestLine) octets (SMTP allows \(TextBodyProfile.maximumLineOctets))"
    }
    if profile.containsNUL { return "contains NUL octets" }
    return nil
  }

  /// Why the body cannot be re-encoded, or nil: multipart and message bodies would need each part
  /// re-encoded, and a body already declared quoted-printable or base64 would be encoded twice.
  static func reencodingBlocker(_ message: RawMessage) -> String? {
    let type = message.fields(named: "Content-Type").first.map { mediaType(of: $0.value) } ?? "text/plain"
    if type.hasPrefix("multipart/") || type.hasPrefix("message/") {
      return "it is \(type), which msc-send does not re-encode part by part"
    }
    let encoding = message.fields(named: "Content-Transfer-Encoding").first?.value.lowercased()
    if let encoding, !["7bit", "8bit", "binary"].contains(encoding) {
      return "it declares Content-Transfer-Encoding: \(encoding)"
    }
    return nil
  }

  private static func mediaType(of value: String) -> String {
    (value.split(separator: ";").first.map(String.init) ?? "").trimmingSpaces.lowercased()
  }

  /// The fields that say the body is quoted-printable (RFC 2045 section 6.7): the transfer
  /// encoding replaced, MIME-Version added if missing, and for a message without a Content-Type
  /// whose text is not ASCII, `text/plain` with `utf-8` (or RFC 1428's `unknown-8bit` when it is
  /// not UTF-8 either), since the default us-ascii would be wrong. The body itself is encoded
  /// while it is written.
  static func reencodedFields(_ message: RawMessage) -> [RawMessage.Field] {
    var fields = message.fields
    fields.removeAll { $0.lowercasedName == "content-transfer-encoding" }
    if !message.has("MIME-Version") {
      fields.append(RawMessage.Field(name: "MIME-Version", lines: [Array("MIME-Version: 1.0".utf8)]))
    }
    if !message.has("Content-Type") {
      let charset = message.bodyProfile.isASCII ? "us-ascii" : message.bodyIsUTF8 ? "utf-8" : "unknown-8bit"
      fields.append(
        RawMessage.Field(name: "Content-Type", lines: [Array("Content-Type: text/plain; charset=\(charset)".utf8)]))
    }
    fields.append(
      RawMessage.Field(
        name: "Content-Transfer-Encoding", lines: [Array("Content-Transfer-Encoding: quoted-printable".utf8)]))
    return fields
  }
}
