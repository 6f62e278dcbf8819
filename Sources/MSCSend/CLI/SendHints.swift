/// Words and hints for delivery outcomes, shared by the commands that deliver.
enum SendHints {
  static func describe(_ outcome: OutcomeClass) -> String {
    switch outcome {
    case .accepted: "accepted"
    case .recipientPermanent: "recipient refused"
    case .recipientTransient: "recipient temporarily refused, not sent"
    case .messagePermanent: "message refused"
    case .quotaExhausted: "sending quota exhausted"
    case .rateThrottle: "throttled by the server, not sent"
    case .authentication: "authentication refused"
    case .senderRefused: "sender refused"
    case .serviceUnavailable: "service unavailable"
    case .transient: "temporary failure, not sent"
    case .protocolViolation: "protocol violation"
    case .tlsVerification: "TLS verification failed"
    case .localConfiguration: "configuration error"
    case .localIO: "local I/O error"
    case .uncertain: "delivery uncertain"
    }
  }

  static func hint(for error: SMTPError, outcome: OutcomeClass, channel: ChannelConfig) -> String? {
    let adHoc = channel.name == "command-line"
    switch error.reason {
    case .startTLSNotOffered:
      return "something strips STARTTLS, or the server lacks it; try port 465 with implicit TLS"
    case .plaintextAuthentication:
      return "use TLS (starttls or implicit); credentials go in clear only to a loopback address"
    case .noCommonMechanism:
      return adHoc ? "choose another mechanism with --auth" : "set auth = \"...\" in channel \(channel.name)"
    case .transport(.connect), .transport(.resolve):
      return "is the server running and the host and port right? (587 STARTTLS, 465 implicit TLS)"
    case .transport(.tls(.verificationFailed)):
      return adHoc
        ? "for a private CA pass --ca-file FILE; to trust one certificate pin it with --fingerprint sha256:HEX"
        : "for a private CA set ca_file; to trust one certificate set fingerprint = \"sha256:HEX\""
    case .transport(.tls(.handshakeFailed)) where channel.endpoint?.tlsMode == .implicit:
      return "the port may expect STARTTLS (usually 587) rather than implicit TLS"
    case .transport(.timeout):
      return adHoc ? "raise --timeout, or check the network path" : "raise timeout in the channel, or check the network path"
    case .deliveryUncertain:
      return "check the recipient's mailbox before sending again: a retry may duplicate the message"
    case .messageTooLarge:
      return "send a smaller message or a link instead of the attachment"
    case .smtpUTF8Required:
      return "use ASCII addresses (an IDN domain can be written as xn--...), or a channel whose server offers SMTPUTF8"
    case .eightBitMIMERequired:
      return "the message has 8-bit parts msc-send cannot re-encode (multipart, or 8-bit header fields that are "
        + "not plain text); encode them as quoted-printable or base64, or use a server offering 8BITMIME"
    default:
      break
    }
    let status = error.reply?.enhancedStatus
    if outcome == .authentication, status == EnhancedStatus(5, 7, 30) || status == EnhancedStatus(5, 7, 139) {
      return "Exchange Online disables basic auth: use an OAuth2 token (auth = \"xoauth2\")"
    }
    if outcome == .authentication { return "check the user name and the password (or token) source" }
    return nil
  }
}
