/// A template filled with one row: the header fields as text, the body, the mailboxes the caller
/// needs for the envelope and routing, and the complete message bytes. Date and Message-ID are not
/// added here (unless the template has them): the caller adds them when it sends, so a re-render
/// gives the same bytes.
public struct RenderedMessage: Sendable, Equatable {
  public struct HeaderField: Sendable, Equatable {
    public let name: String
    /// The value with the row's values in, before any RFC 2047 encoding or folding.
    public let value: String
  }

  /// The row this message was made from.
  public let row: Int
  /// The template's header fields in template order, Bcc included, filled in; address fields left
  /// empty by the row (an optional Cc, Bcc or Reply-To) are left out.
  public let fields: [HeaderField]
  /// The body with the row's values in, line breaks as the template and values have them.
  public let body: String
  /// The From mailbox; nil when the template has none, and the caller must then prepend a From
  /// field (from its defaults) as it does Date and Message-ID.
  public let from: Mailbox?
  public let to: [Mailbox]
  public let cc: [Mailbox]
  public let bcc: [Mailbox]
  public let replyTo: [Mailbox]
  /// True when an address is non-ASCII: the message can only travel with SMTPUTF8 (RFC 6531).
  public let requiresSMTPUTF8: Bool
  /// 7bit for ASCII bodies with lines of at most 998 octets, else quoted-printable.
  public let transferEncoding: ContentTransferEncoding
  /// The header block as it goes on the wire: encoded, folded, CRLF after each line, Bcc left out,
  /// MIME fields included; without the empty line that ends it.
  let header: String

  /// Every envelope recipient: To, Cc and Bcc (RFC 5321 section 3.3, RCPT TO).
  public var recipients: [Mailbox] { to + cc + bcc }

  /// The filled Subject, if the template has one.
  public var subject: String? { field("Subject") }

  /// The filled value of the first field with this name (case-insensitive).
  public func field(_ name: String) -> String? {
    fields.first { $0.name.lowercased() == name.lowercased() }?.value
  }

  /// The complete message (RFC 5322 section 2.1): the header block, an empty line and the body, all
  /// lines ending in CRLF. The body is sent as is when 7bit, else as quoted-printable UTF-8
  /// (RFC 2045 section 6.7). Prepend Date and Message-ID fields to these bytes when sending
  /// (RFC 5322 section 3.6 puts no order on fields).
  public func renderedBytes() -> [UInt8] {
    let body = Array(self.body.utf8)
    var encodedBody: [UInt8]
    switch transferEncoding {
    case .sevenBit:
      var normalizer = LineBreakNormalizer()
      encodedBody = normalizer.normalize(body) + normalizer.finish()
    case .quotedPrintable, .base64:
      encodedBody = QuotedPrintable.encode(body)
    }
    if !encodedBody.isEmpty && encodedBody.suffix(2) != [.carriageReturn, .lineFeed] {
      encodedBody += [.carriageReturn, .lineFeed]
    }
    return Array(header.utf8) + [.carriageReturn, .lineFeed] + encodedBody
  }
}
