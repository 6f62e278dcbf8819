/// The phases of an SMTP session, so that an error says where it happened (msmtp, smtplib).
public enum SMTPPhase: String, Sendable, Equatable {
  case connect, greeting, hello, startTLS = "starttls", authentication, mail, recipient, data, message, reset, quit
}

/// Why a session could not go on. Keeps what *we* concluded (`reason`) apart from what the
/// *server* said (`reply`, untrusted text).
public struct SMTPError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Reason: Sendable, Equatable {
    /// The network or TLS layer failed.
    case transport(TransportError)
    /// The server refused with the reply carried in `reply`.
    case rejected
    /// The server broke the reply grammar (malformed line, line or count cap, changing codes).
    case malformedReply(String)
    /// An unexpected reply code for this point of the dialogue.
    case unexpectedReply
    /// STARTTLS was required and the server does not offer it: nothing more is sent.
    case startTLSNotOffered
    /// Bytes followed the 220 to STARTTLS in plaintext (CVE-2021-38371): session aborted.
    case injectedAfterStartTLS
    /// Credentials would travel in clear to a non-loopback peer: refused before sending them.
    case plaintextAuthentication
    /// No AUTH mechanism in common (`offered` by the server) or AUTH not offered at all.
    case noCommonMechanism(offered: [String])
    /// SIZE: the message is larger than the server accepts (RFC 1870).
    case messageTooLarge(size: Int, limit: Int)
    /// A non-ASCII address needs SMTPUTF8 (RFC 6531) and the server does not offer it.
    case smtpUTF8Required
    /// 8-bit content needs 8BITMIME (RFC 6152) and the server does not offer it.
    case eightBitMIMERequired
    /// A command argument contained CR or LF (it would inject a second command).
    case lineBreakInCommand
    /// The connection was lost after the final dot and before the reply: the message may or
    /// may not have been delivered (RFC 1047).
    case deliveryUncertain
    /// Reading the message to send failed locally (spool or file): the transfer was aborted
    /// without the final dot, so the server discards the partial message.
    case messageSource(String)
  }

  public let phase: SMTPPhase
  public let reason: Reason
  public let reply: SMTPReply?

  public init(phase: SMTPPhase, reason: Reason, reply: SMTPReply? = nil) {
    self.phase = phase
    self.reason = reason
    self.reply = reply
  }

  public var description: String {
    let what: String
    switch reason {
    case .transport(let error): what = Self.describe(error, phase: phase)
    case .rejected: what = "\(phase.rawValue) refused by the server"
    case .malformedReply(let detail): what = "malformed reply during \(phase.rawValue): \(detail)"
    case .unexpectedReply: what = "unexpected reply during \(phase.rawValue)"
    case .startTLSNotOffered: what = "the server does not offer STARTTLS, which is required: nothing was sent"
    case .injectedAfterStartTLS:
      what = "the server sent data after its STARTTLS reply before TLS began (response injection): session aborted"
    case .plaintextAuthentication:
      what = "refusing to send credentials without TLS to a non-loopback server"
    case .noCommonMechanism(let offered):
      what = offered.isEmpty
        ? "the server offers no authentication (no AUTH in its EHLO reply)"
        : "no usable authentication mechanism; the server offers \(offered.joined(separator: " "))"
    case .messageTooLarge(let size, let limit):
      what = "message is \(size) octets, the server accepts at most \(limit) (SIZE)"
    case .smtpUTF8Required: what = "a non-ASCII address needs SMTPUTF8, which the server does not offer"
    case .eightBitMIMERequired: what = "8-bit content needs 8BITMIME, which the server does not offer"
    case .lineBreakInCommand: what = "refusing a command argument that contains CR or LF"
    case .deliveryUncertain:
      what = "connection lost after the message was sent and before the server's reply: "
        + "it may or may not have been delivered (RFC 1047)"
    case .messageSource(let detail): what = "reading the message failed, transfer aborted: \(detail)"
    }
    guard let reply else { return what }
    return "\(what): \(reply)"
  }

  static func describe(_ error: TransportError, phase: SMTPPhase) -> String {
    switch error {
    case .resolve(let host, let reason): return "cannot resolve \(host): \(reason)"
    case .connect(let host, let port, let attempts):
      return "cannot connect to \(host) port \(port): " + attempts.joined(separator: "; ")
    case .timeout: return "timed out during \(phase.rawValue)"
    case .closed: return "the server closed the connection during \(phase.rawValue)"
    case .io(let text): return "network error during \(phase.rawValue): \(text)"
    case .plaintextBeforeHandshake:
      return "the server sent data after its STARTTLS reply before TLS began (response injection): session aborted"
    case .tls(let tlsError):
      switch tlsError {
      case .verificationFailed(let text): return "TLS certificate verification failed: \(text)"
      case .fingerprintMismatch(let expected, let actual):
        return "TLS certificate fingerprint mismatch: expected sha256:\(expected), got sha256:\(actual)"
      case .handshakeFailed(let text): return "TLS handshake failed: \(text)"
      case .setup(let text): return "TLS setup failed: \(text)"
      }
    }
  }
}
