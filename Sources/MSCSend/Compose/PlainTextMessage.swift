import Foundation
import Glibc

/// What composing needs from the outside world, injected so tests get exact bytes.
public struct ComposeEnvironment: Sendable {
  public var now: @Sendable () -> Date
  /// Seconds east of UTC for the Date field.
  public var timeZoneOffsetSeconds: Int
  public var randomBytes: @Sendable (Int) -> [UInt8]
  /// Used for the Message-ID when the sender's domain cannot be (see `MessageIdentity`).
  public var hostName: String

  public init(
    now: @escaping @Sendable () -> Date, timeZoneOffsetSeconds: Int,
    randomBytes: @escaping @Sendable (Int) -> [UInt8], hostName: String
  ) {
    self.now = now
    self.timeZoneOffsetSeconds = timeZoneOffsetSeconds
    self.randomBytes = randomBytes
    self.hostName = hostName
  }

  /// The real clock, the local time zone's current offset, OpenSSL's random bytes and
  /// `gethostname(2)`. Computed on each access, so the offset follows daylight-saving changes.
  public static var live: ComposeEnvironment {
    ComposeEnvironment(
      now: { Date() }, timeZoneOffsetSeconds: TimeZone.current.secondsFromGMT(),
      randomBytes: { Crypto.randomBytes($0) }, hostName: systemHostName())
  }

  private static func systemHostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
    return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}

/// What the user wants to send, before any encoding.
public struct OutgoingMessage: Sendable {
  public var from: Mailbox
  public var to: [Mailbox]
  public var cc: [Mailbox]
  public var replyTo: [Mailbox]
  public var subject: String
  /// Plain text; line breaks may be LF or CRLF.
  public var body: String
  /// Further fields, written as unstructured text after Message-ID in the given order. Fields the
  /// composer writes itself (and Bcc) are refused here.
  public var extraHeaders: [(String, String)]

  public init(
    from: Mailbox, to: [Mailbox] = [], cc: [Mailbox] = [], replyTo: [Mailbox] = [], subject: String = "",
    body: String = "", extraHeaders: [(String, String)] = []
  ) {
    self.from = from
    self.to = to
    self.cc = cc
    self.replyTo = replyTo
    self.subject = subject
    self.body = body
    self.extraHeaders = extraHeaders
  }
}

/// A composed message: the bytes to send (CRLF line ends, headers 7-bit except UTF-8 addresses),
/// its Message-ID (with the angle brackets) and whether it can only travel with SMTPUTF8.
public struct ComposedMessage: Sendable, Equatable {
  public var bytes: [UInt8]
  public var messageID: String
  public var requiresSMTPUTF8: Bool

  public init(bytes: [UInt8], messageID: String, requiresSMTPUTF8: Bool) {
    self.bytes = bytes
    self.messageID = messageID
    self.requiresSMTPUTF8 = requiresSMTPUTF8
  }
}

/// A single-part `text/plain` message (RFC 5322 with RFC 2045 MIME headers).
///
/// Compose/ owns turning what the user asked for into message bytes: mailboxes, header encoding and
/// folding, body transfer encodings, Date and Message-ID. It knows nothing of channels or SMTP
/// (dot-stuffing belongs to the SMTP DATA writer).
public enum PlainTextComposer {
  /// Names of fields the composer writes (lower case): given again as extra headers they would
  /// appear twice, which RFC 5322 section 3.6 forbids.
  static let composerFields: Set<String> = [
    "date", "from", "to", "cc", "reply-to", "subject", "message-id", "mime-version", "content-type",
    "content-transfer-encoding",
  ]

  /// Writes Date, From, To, Cc, Reply-To, Subject, Message-ID, the extra headers, MIME-Version,
  /// Content-Type and Content-Transfer-Encoding, a blank line and the body. Empty To, Cc and
  /// Reply-To lists are left out. The body goes as 7bit when it is ASCII with lines of at most 998
  /// octets, else as quoted-printable; it always ends with CRLF unless it is empty.
  public static func compose(
    _ message: OutgoingMessage, environment: ComposeEnvironment
  ) throws(ComposeError) -> ComposedMessage {
    for (name, _) in message.extraHeaders {
      try HeaderEncoding.validateName(name)
      if name.lowercased() == "bcc" {
        throw ComposeError(
          .reservedHeader, "header Bcc cannot be an extra header: blind copies go in the envelope only")
      }
      if composerFields.contains(name.lowercased()) {
        throw ComposeError(
          .reservedHeader, "header \(name) is written by the composer and cannot also be an extra header")
      }
    }
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

    let body = Array(message.body.utf8)
    let profile = TextBodyProfile(body)
    header += "MIME-Version: 1.0\r\n"
    header += "Content-Type: text/plain; charset=\(profile.charset)\r\n"
    header += "Content-Transfer-Encoding: \(profile.transferEncoding.rawValue)\r\n"

    var encodedBody: [UInt8]
    switch profile.transferEncoding {
    case .sevenBit:
      var normalizer = LineBreakNormalizer()
      encodedBody = normalizer.normalize(body) + normalizer.finish()
    case .quotedPrintable, .base64:
      encodedBody = QuotedPrintable.encode(body)
    }
    if !encodedBody.isEmpty && encodedBody.suffix(2) != [.carriageReturn, .lineFeed] {
      encodedBody += [.carriageReturn, .lineFeed]
    }

    let everyone = [message.from] + message.to + message.cc + message.replyTo
    return ComposedMessage(
      bytes: Array(header.utf8) + [.carriageReturn, .lineFeed] + encodedBody,
      messageID: messageID,
      requiresSMTPUTF8: everyone.contains(where: \.requiresSMTPUTF8))
  }
}
