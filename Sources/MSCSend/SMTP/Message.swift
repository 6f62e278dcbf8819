/// A message to transfer. Content is produced in chunks so that large messages stream from disk
/// (or from an encoder) to the socket without being held in memory.
public protocol MessageContent {
  /// Size in octets when known (for SIZE, RFC 1870).
  var byteCount: Int? { get }
  /// Whether the content has octets above 127 outside SMTPUTF8 headers (needs 8BITMIME).
  var requiresEightBitMIME: Bool { get }
  /// Whether header fields carry UTF-8 addresses (RFC 6532), so the message needs SMTPUTF8 even
  /// when the envelope is ASCII (a non-ASCII Reply-To, say).
  var requiresSMTPUTF8: Bool { get }
  /// The same message re-encoded to 7 bits, for a server without 8BITMIME (RFC 6152 section 3
  /// leaves the conversion to the client); nil when it cannot be re-encoded.
  var sevenBitAlternative: (any MessageContent)? { get }
  /// Calls `sink` with successive chunks of the message; may be called again for another
  /// transaction of the same message. Content whose lines all end in CRLF reaches the server
  /// byte for byte (the DATA writer turns any other line break into CRLF).
  func writeChunks(to sink: ([UInt8]) throws -> Void) throws
}

extension MessageContent {
  public var requiresSMTPUTF8: Bool { false }
  public var sevenBitAlternative: (any MessageContent)? { nil }
}

/// A message already in memory.
public struct InMemoryMessage: MessageContent, Sendable {
  public let bytes: [UInt8]
  public let requiresEightBitMIME: Bool

  public init(_ bytes: [UInt8], requiresEightBitMIME: Bool? = nil) {
    self.bytes = bytes
    self.requiresEightBitMIME = requiresEightBitMIME ?? bytes.contains { $0 >= 0x80 }
  }

  public var byteCount: Int? { bytes.count }

  public func writeChunks(to sink: ([UInt8]) throws -> Void) throws {
    var offset = 0
    repeat {
      let end = min(offset + 65_536, bytes.count)
      try sink(Array(bytes[offset..<end]))
      offset = end
    } while offset < bytes.count
  }
}

/// The SMTP envelope (RFC 5321 section 2.3.1), apart from the message's headers.
public struct Envelope: Sendable, Equatable {
  /// Reverse path; empty for a null sender (`MAIL FROM:<>`).
  public var sender: String
  public var recipients: [String]

  public init(sender: String, recipients: [String]) {
    self.sender = sender
    self.recipients = recipients
  }

  /// Non-ASCII in an address requires SMTPUTF8 (RFC 6531).
  public var requiresSMTPUTF8: Bool {
    ([sender] + recipients).contains { $0.utf8.contains { $0 >= 0x80 } }
  }
}

/// What happened to one recipient. Partial acceptance is a value, not an exception.
public struct RecipientResult: Sendable, Equatable {
  public var address: String
  /// The reply that settled this recipient: RCPT's refusal, or the reply to the final dot.
  public var reply: SMTPReply?
  public var outcome: OutcomeClass

  public var accepted: Bool { outcome == .accepted }
}

/// The outcome of sending one message, per recipient, in envelope order.
public struct DeliveryReport: Sendable, Equatable {
  public var recipients: [RecipientResult]
  /// Transactions used (more than one when the server limited recipients per transaction).
  public var transactions: Int

  public var acceptedCount: Int { recipients.filter(\.accepted).count }
  /// The worst recipient outcome as an exit code.
  public var exitCode: ExitCode { ExitCode.worst(recipients.map(\.outcome.exitCode)) }
}
