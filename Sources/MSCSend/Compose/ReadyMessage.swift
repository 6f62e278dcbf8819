/// A ready-made message (sendmail mode) as `MessageContent`: its header and body in memory, lines
/// ending in CRLF, with a 7-bit form (quoted-printable body, RFC 2047 header text) for servers
/// without 8BITMIME when the message is 8-bit and can be re-encoded.
public struct ReadyMessage: MessageContent {
  public let header: [UInt8]
  public let body: [UInt8]
  public let requiresEightBitMIME: Bool
  public let requiresSMTPUTF8: Bool
  /// Builds the 7-bit form only when a server asks for it, so the body is not held twice.
  private let makeSevenBit: (() -> ReadyMessage)?

  public var byteCount: Int? { header.count + 2 + body.count }
  public var sevenBitAlternative: (any MessageContent)? { makeSevenBit?() }

  public func writeChunks(to sink: ([UInt8]) throws -> Void) throws {
    try sink(header + [.carriageReturn, .lineFeed])
    var start = 0
    while start < body.count {
      let end = min(start + ChunkedOutput.blockSize, body.count)
      try sink(Array(body[start..<end]))
      start = end
    }
  }

  /// The whole message in memory.
  public var bytes: [UInt8] { header + [.carriageReturn, .lineFeed] + body }

  /// Decides how `message` travels (see `SendmailMessage`): a body that cannot go as it is gets
  /// re-encoded now (or is refused); an 8-bit message gets a 7-bit alternative when its body can
  /// be re-encoded and its 8-bit header fields written as RFC 2047 encoded words.
  static func make(_ message: RawMessage, requiresSMTPUTF8: Bool) throws(ComposeError) -> ReadyMessage {
    var base = message
    let blocker = reencodingBlocker(message)
    if let reason = reasonToReencode(TextBodyProfile(message.body)) {
      if let blocker {
        throw ComposeError(
          .invalidHeader, "the message body \(reason), so it must be re-encoded, but \(blocker); encode it before sending")
      }
      base = reencodingBody(message)
    }
    let bodyIsEightBit = base.body.contains { $0 >= 0x80 }
    let headerNeeds8BITMIME = !requiresSMTPUTF8 && base.fields.contains(where: \.isEightBit)
    var makeSevenBit: (() -> ReadyMessage)?
    let headerConvertible = !headerNeeds8BITMIME || sevenBitFields(base.fields) != nil
    if bodyIsEightBit || headerNeeds8BITMIME, !bodyIsEightBit || blocker == nil, headerConvertible {
      let source = base
      makeSevenBit = {
        var sevenBit = bodyIsEightBit ? reencodingBody(source) : source
        if headerNeeds8BITMIME { sevenBit.fields = sevenBitFields(sevenBit.fields) ?? sevenBit.fields }
        return ReadyMessage(
          header: sevenBit.headerBytes, body: sevenBit.body, requiresEightBitMIME: false,
          requiresSMTPUTF8: requiresSMTPUTF8, makeSevenBit: nil)
      }
    }
    return ReadyMessage(
      header: base.headerBytes, body: base.body, requiresEightBitMIME: bodyIsEightBit || headerNeeds8BITMIME,
      requiresSMTPUTF8: requiresSMTPUTF8, makeSevenBit: makeSevenBit)
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

  /// The body as quoted-printable (RFC 2045 section 6.7) with the fields that say so: the
  /// transfer encoding replaced, MIME-Version added if missing, and for a message without a
  /// Content-Type whose text is not ASCII, `text/plain` with `utf-8` (or RFC 1428's
  /// `unknown-8bit` when it is not UTF-8 either), since the default us-ascii would be wrong.
  static func reencodingBody(_ message: RawMessage) -> RawMessage {
    var result = message
    result.fields.removeAll { $0.lowercasedName == "content-transfer-encoding" }
    if !result.has("MIME-Version") {
      result.fields.append(RawMessage.Field(name: "MIME-Version", lines: [Array("MIME-Version: 1.0".utf8)]))
    }
    if !result.has("Content-Type") {
      var validator = UTF8Validator()
      validator.scan(message.body)
      let charset = validator.isASCII ? "us-ascii" : validator.isValid ? "utf-8" : "unknown-8bit"
      result.fields.append(
        RawMessage.Field(name: "Content-Type", lines: [Array("Content-Type: text/plain; charset=\(charset)".utf8)]))
    }
    result.fields.append(
      RawMessage.Field(
        name: "Content-Transfer-Encoding", lines: [Array("Content-Transfer-Encoding: quoted-printable".utf8)]))
    var body = QuotedPrintable.encode(message.body)
    if !body.isEmpty && body.suffix(2) != [.carriageReturn, .lineFeed] { body += [.carriageReturn, .lineFeed] }
    result.body = body
    return result
  }
}
