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

/// What the user wants to send, before any encoding. Blind copies are not here: they belong to
/// the envelope only and never reach a header.
public struct OutgoingMessage: Sendable {
  public var from: Mailbox
  public var to: [Mailbox]
  public var cc: [Mailbox]
  public var replyTo: [Mailbox]
  public var subject: String
  /// Plain text; line breaks may be LF or CRLF.
  public var body: String
  /// An HTML version of the body: the message becomes multipart/alternative (RFC 2046 section 5.1.4).
  public var html: String?
  /// Files sent along: the message becomes multipart/mixed (RFC 2046 section 5.1.3).
  public var attachments: [MailAttachment]
  /// Further fields, written as unstructured text after Message-ID in the given order. Fields the
  /// composer writes itself (and Bcc, and any Content-* field) are refused.
  public var extraHeaders: [(String, String)]

  public init(
    from: Mailbox, to: [Mailbox] = [], cc: [Mailbox] = [], replyTo: [Mailbox] = [], subject: String = "",
    body: String = "", html: String? = nil, attachments: [MailAttachment] = [], extraHeaders: [(String, String)] = []
  ) {
    self.from = from
    self.to = to
    self.cc = cc
    self.replyTo = replyTo
    self.subject = subject
    self.body = body
    self.html = html
    self.attachments = attachments
    self.extraHeaders = extraHeaders
  }
}

/// A composed message held in memory: the bytes to send (CRLF line ends, headers 7-bit except
/// UTF-8 addresses), its Message-ID (with the angle brackets) and whether it can only travel with
/// SMTPUTF8.
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

/// A message without attachments, composed in memory: `MIMEComposer`'s output collected.
public enum PlainTextComposer {
  /// The bytes of `MIMEComposer.compose` for `message`, which must not have attachments (their
  /// contents are read only when the message is written).
  public static func compose(
    _ message: OutgoingMessage, environment: ComposeEnvironment
  ) throws(ComposeError) -> ComposedMessage {
    precondition(message.attachments.isEmpty, "PlainTextComposer holds no attachments; stream them")
    let streaming = try MIMEComposer.compose(message, environment: environment)
    var bytes: [UInt8] = []
    do {
      try streaming.writeChunks { bytes += $0 }
    } catch {
      preconditionFailure("a message without attachments reads no file: \(error)")
    }
    return ComposedMessage(bytes: bytes, messageID: streaming.messageID, requiresSMTPUTF8: streaming.requiresSMTPUTF8)
  }
}
