/// Builds the MIME description of a message (RFC 5322 header fields with RFC 2045-2047 MIME) from
/// what the user asked for.
///
/// Compose/ owns turning what the user asked for into message bytes: mailboxes, header encoding and
/// folding, body transfer encodings, MIME structure, Date and Message-ID, and the preparation of
/// ready-made messages in sendmail mode. It knows nothing of channels or SMTP (dot-stuffing
/// belongs to the SMTP DATA writer).
///
/// The message is encoded before its channel is known (and will be spooled as it is), so it is
/// 7-bit whatever carries it: text as 7bit or quoted-printable, attachments as base64, header text
/// as RFC 2047 encoded words. Only UTF-8 addresses stay 8-bit, and those need SMTPUTF8 anyway.
public enum MIMEComposer {
  /// Names of fields the composer writes (lower case): given again as extra headers they would
  /// appear twice, which RFC 5322 section 3.6 forbids.
  static let composerFields: Set<String> = [
    "date", "from", "to", "cc", "reply-to", "subject", "message-id", "mime-version",
  ]

  /// The structures, by what was given:
  /// - text only: one `text/plain` entity;
  /// - text and HTML: `multipart/alternative` (text first, the preferred version last,
  ///   RFC 2046 section 5.1.4);
  /// - attachments: `multipart/mixed` with the text (or the alternative) first, then one part per file.
  ///
  /// Header order: Date, From, To, Cc, Reply-To, Subject, Message-ID, the extra headers,
  /// MIME-Version, Content-Type (and Content-Transfer-Encoding for a single part). Empty To, Cc and
  /// Reply-To lists are left out.
  public static func compose(
    _ message: OutgoingMessage, environment: ComposeEnvironment
  ) throws(ComposeError) -> StreamingMessage {
    try checkExtraHeaders(message.extraHeaders)
    let date = environment.now()
    let domain = MessageIdentity.messageIDDomain(for: message.from, hostName: environment.hostName)
    let messageID = MessageIdentity.messageID(randomBytes: environment.randomBytes(16), date: date, domain: domain)

    var header = try HeaderEncoding.structuredField(
      name: "Date", value: MessageIdentity.date(date, timeZoneOffsetSeconds: environment.timeZoneOffsetSeconds))
    header += try HeaderEncoding.addressField(name: "From", mailboxes: [message.from])
    for (name, mailboxes) in [("To", message.to), ("Cc", message.cc), ("Reply-To", message.replyTo)]
    where !mailboxes.isEmpty {
      header += try HeaderEncoding.addressField(name: name, mailboxes: mailboxes)
    }
    header += try HeaderEncoding.unstructuredField(name: "Subject", value: message.subject)
    header += try HeaderEncoding.structuredField(name: "Message-ID", value: messageID)
    for (name, value) in message.extraHeaders {
      header += try HeaderEncoding.unstructuredField(name: name, value: value)
    }
    header += "MIME-Version: 1.0\r\n"

    let isMultipart = message.html != nil || !message.attachments.isEmpty
    // One random stem for every boundary of the message, with the kind in front so that no
    // boundary is a prefix of another.
    let stem = isMultipart ? MessageIdentity.base32(environment.randomBytes(16)) : ""
    var content = try textPart(message.body, subtype: "plain", inMultipart: isMultipart)
    if let html = message.html {
      let htmlPart = try textPart(html, subtype: "html", inMultipart: true)
      content = MIMEEntity(
        header: try multipartHeader("alternative", boundary: "=_alt_" + stem),
        body: .multipart(boundary: "=_alt_" + stem, parts: [content, htmlPart]))
    }
    if !message.attachments.isEmpty {
      var parts = [content]
      for attachment in message.attachments { parts.append(try attachmentPart(attachment)) }
      content = MIMEEntity(
        header: try multipartHeader("mixed", boundary: "=_mixed_" + stem),
        body: .multipart(boundary: "=_mixed_" + stem, parts: parts))
    }
    let everyone = [message.from] + message.to + message.cc + message.replyTo
    return StreamingMessage(
      entity: MIMEEntity(header: Array(header.utf8) + content.header, body: content.body), messageID: messageID,
      requiresSMTPUTF8: everyone.contains(where: \.requiresSMTPUTF8))
  }

  static func checkExtraHeaders(_ headers: [(String, String)]) throws(ComposeError) {
    for (name, _) in headers {
      try HeaderEncoding.validateName(name)
      let lowered = name.lowercased()
      if lowered == "bcc" {
        throw ComposeError(
          .reservedHeader, "header Bcc cannot be an extra header: blind copies go in the envelope only")
      }
      if composerFields.contains(lowered) || lowered.hasPrefix("content-") {
        throw ComposeError(
          .reservedHeader, "header \(name) is written by the composer and cannot also be an extra header")
      }
    }
  }

  /// A `text/*` entity: 7bit when the text allows it (RFC 2045 section 2.7), else
  /// quoted-printable; ending with CRLF unless empty. Inside a multipart, text that contains `--=_`
  /// (the start of every boundary line of ours) goes quoted-printable, where `=_` cannot occur,
  /// so no boundary can ever appear in a part.
  static func textPart(_ text: String, subtype: String, inMultipart: Bool) throws(ComposeError) -> MIMEEntity {
    let bytes = Array(text.utf8)
    let profile = TextBodyProfile(bytes)
    var encoding = profile.transferEncoding
    if inMultipart && text.contains("--=_") { encoding = .quotedPrintable }
    var body: [UInt8]
    switch encoding {
    case .sevenBit:
      var normalizer = LineBreakNormalizer()
      body = normalizer.normalize(bytes) + normalizer.finish()
    case .quotedPrintable, .base64:
      body = QuotedPrintable.encode(bytes)
    }
    if !body.isEmpty && body.suffix(2) != [.carriageReturn, .lineFeed] { body += [.carriageReturn, .lineFeed] }
    let header =
      try MIMEParameters.field(
        name: "Content-Type", value: "text/" + subtype, parameters: [MIMEParameter("charset", profile.charset)])
      + "Content-Transfer-Encoding: \(encoding.rawValue)\r\n"
    return MIMEEntity(header: Array(header.utf8), body: .encoded(body))
  }

  static func multipartHeader(_ subtype: String, boundary: String) throws(ComposeError) -> [UInt8] {
    let field = try MIMEParameters.field(
      name: "Content-Type", value: "multipart/" + subtype,
      parameters: [MIMEParameter("boundary", boundary, alwaysQuoted: true)])
    return Array(field.utf8)
  }

  /// RFC 2183 with the file name in both `Content-Type` `name` (read by older clients) and
  /// `Content-Disposition` `filename`; RFC 2231 where the name is not ASCII or too long.
  static func attachmentPart(_ attachment: MailAttachment) throws(ComposeError) -> MIMEEntity {
    let name = attachment.fileName
    if let control = name.unicodeScalars.first(where: ComposeError.isControl) {
      let problem = control == "\r" || control == "\n" ? "a line break (CR or LF)" : "a control character"
      throw ComposeError(
        .headerInjection, "attachment file name \(ComposeError.visible(name)) contains \(problem): refused")
    }
    var typeParameters: [MIMEParameter] = []
    if let charset = attachment.charset { typeParameters.append(MIMEParameter("charset", charset)) }
    typeParameters.append(MIMEParameter("name", name, alwaysQuoted: true))
    let header =
      try MIMEParameters.field(
        name: "Content-Type", value: attachment.mediaType.description, parameters: typeParameters)
      + MIMEParameters.field(
        name: "Content-Disposition", value: "attachment",
        parameters: [MIMEParameter("filename", name, alwaysQuoted: true)])
      + "Content-Transfer-Encoding: base64\r\n"
    return MIMEEntity(header: Array(header.utf8), body: .base64File(attachment.file))
  }
}
