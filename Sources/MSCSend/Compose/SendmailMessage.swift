/// What sendmail mode was told besides the message itself.
public struct SendmailOptions: Sendable, Equatable {
  /// `-t`: recipients also from To, Cc and Bcc.
  public var extractRecipients: Bool
  /// The recipients on the command line.
  public var recipients: [String]
  /// `-f`: the envelope sender; `""` or `<>` is the null sender of RFC 5321 section 4.5.5.
  public var envelopeSender: String?
  /// `-F`: the display name of a From field the message lacks.
  public var fullName: String?
  /// `[defaults] from`, used when neither `-f` nor a usable From names the sender.
  public var defaultSender: String?

  public init(
    extractRecipients: Bool = false, recipients: [String] = [], envelopeSender: String? = nil,
    fullName: String? = nil, defaultSender: String? = nil
  ) {
    self.extractRecipients = extractRecipients
    self.recipients = recipients
    self.envelopeSender = envelopeSender
    self.fullName = fullName
    self.defaultSender = defaultSender
  }
}

/// A ready-made message prepared for delivery, with its envelope.
public struct PreparedMessage {
  /// The mailbox the router picks the channel by: `-f`, else From, else the default sender.
  public var sender: Mailbox
  /// `MAIL FROM`: the sender's address, or empty for the null sender.
  public var envelopeSender: String
  public var recipients: [String]
  public var content: ReadyMessage
  /// With the angle brackets: the message's own, or the one added.
  public var messageID: String
}

/// Sendmail mode's rules for a message that arrives ready-made (msc-send -t, or invoked as
/// `sendmail`): it passes through untouched except that
/// - Bcc fields are removed (RFC 5322 section 3.6.3: blind copies are not shown);
/// - Date, From and Message-ID are added when missing (RFC 5322 section 3.6 requires the first
///   two; RFC 6409 section 8 lets a submission agent add them), and a From whose address has no
///   domain (cron's `root (Cron Daemon)`) is replaced by the sender, keeping the name;
/// - line breaks become CRLF;
/// - a body that cannot travel as it is (lines over 998 octets, RFC 5322 section 2.1.1, or NUL)
///   is re-encoded as quoted-printable when it is a single text-like part, else refused;
/// - an 8-bit body goes as it is where the server offers 8BITMIME, with a quoted-printable
///   alternative for servers that do not (when it can be re-encoded at all).
public enum SendmailMessage {
  /// `input` read in memory (as `RawMessage(_:ignoringDots:)`), then prepared.
  public static func prepare(
    _ input: [UInt8], ignoringDots: Bool = true, options: SendmailOptions, environment: ComposeEnvironment
  ) throws -> PreparedMessage {
    try prepare(try RawMessage(input, ignoringDots: ignoringDots), options: options, environment: environment)
  }

  /// Applies the rules above. Throws `ComposeError` (bad data: exit 65), or `MessageSourceError`
  /// when a spooled body cannot be read back.
  static func prepare(
    _ raw: RawMessage, options: SendmailOptions, environment: ComposeEnvironment
  ) throws -> PreparedMessage {
    var message = raw
    // The recipients.
    var recipients: [String] = []
    func add(_ mailboxes: [Mailbox]) {
      for mailbox in mailboxes where !recipients.contains(mailbox.address) { recipients.append(mailbox.address) }
    }
    for text in options.recipients {
      add(try HeaderAddressList.mailboxes(text, header: "recipient"))
    }
    if options.extractRecipients {
      for name in ["To", "Cc", "Bcc"] {
        for field in message.fields(named: name) { add(try HeaderAddressList.mailboxes(field.value, header: name)) }
      }
    }
    guard !recipients.isEmpty else {
      throw ComposeError(
        .invalidAddress,
        options.extractRecipients
          ? "no recipients: the message has no To, Cc or Bcc address, and none was given" : "no recipients given")
    }

    // The sender, and the From field.
    let fromField = message.fields.firstIndex { $0.lowercasedName == "from" }
    let fromInHeader = fromField.flatMap { index in
      (try? HeaderAddressList.mailboxes(message.fields[index].value, header: "From"))?.first
    }
    var envelopeSender: String?
    var sender: Mailbox
    if let given = options.envelopeSender, given != "", given != "<>" {
      sender = try HeaderAddressList.mailbox(.init(text: given), header: "-f")
      envelopeSender = sender.address
    } else if let fromInHeader {
      sender = fromInHeader
    } else if let fallback = options.defaultSender {
      sender = try HeaderAddressList.mailbox(.init(text: fallback), header: "[defaults] from")
    } else {
      throw ComposeError(
        .invalidAddress, "no sender: give -f ADDRESS, write a From field, or set [defaults] from in the config")
    }
    if options.envelopeSender == "" || options.envelopeSender == "<>" { envelopeSender = "" }
    if fromInHeader == nil {
      let oldName = fromField.flatMap { HeaderAddressList.entries(message.fields[$0].value).first?.name }
      let name = oldName ?? options.fullName
      let field = try HeaderEncoding.addressField(
        name: "From", mailboxes: [try Mailbox(displayName: name, address: sender.address)])
      let replacement = RawMessage.Field(name: "From", lines: fieldLines(field))
      if let fromField { message.fields[fromField] = replacement } else { message.fields.append(replacement) }
    }

    // Blind copies out; Date and Message-ID in.
    message.fields.removeAll { $0.lowercasedName == "bcc" || $0.lowercasedName == "resent-bcc" }
    let date = environment.now()
    if !message.has("Date") {
      let value = MessageIdentity.date(date, timeZoneOffsetSeconds: environment.timeZoneOffsetSeconds)
      message.fields.append(RawMessage.Field(name: "Date", lines: [Array("Date: \(value)".utf8)]))
    }
    let messageID: String
    if let existing = message.fields(named: "Message-ID").first {
      messageID = existing.value
    } else {
      let domain = MessageIdentity.messageIDDomain(for: sender, hostName: environment.hostName)
      messageID = MessageIdentity.messageID(randomBytes: environment.randomBytes(16), date: date, domain: domain)
      message.fields.append(RawMessage.Field(name: "Message-ID", lines: [Array("Message-ID: \(messageID)".utf8)]))
    }

    let headerMailboxes = ["From", "To", "Cc", "Reply-To", "Sender"].flatMap { name in
      message.fields(named: name).flatMap { (try? HeaderAddressList.mailboxes($0.value, header: name)) ?? [] }
    }
    let needsSMTPUTF8 = headerMailboxes.contains(where: \.requiresSMTPUTF8)
    let content = try ReadyMessage.make(message, requiresSMTPUTF8: needsSMTPUTF8)
    return PreparedMessage(
      sender: sender, envelopeSender: envelopeSender ?? sender.address, recipients: recipients, content: content,
      messageID: messageID)
  }

  /// A folded field's lines without their CRLFs.
  static func fieldLines(_ field: String) -> [[UInt8]] {
    field.utf8.split(separator: .lineFeed).map { Array($0.last == .carriageReturn ? $0.dropLast() : $0[...]) }
  }
}
