import Foundation

extension SMTPSession {
  /// AUTH (RFC 4954) with the strongest offered mechanism that fits the credentials, or the
  /// caller's `mechanism`. Credentials never travel without TLS, except to a loopback peer.
  /// `host` and `port` go into OAUTHBEARER's initial response (RFC 7628).
  public func authenticate(
    _ credentials: Credentials, mechanism override: AuthMechanism? = nil, host: String, port: UInt16
  ) throws(SMTPError) {
    guard transport.isEncrypted || transport.peerIsLoopback else {
      throw SMTPError(phase: .authentication, reason: .plaintextAuthentication)
    }
    let offered = capabilities.authMechanisms
    guard let mechanism = AuthMechanism.choose(offered: offered, credentials: credentials, override: override) else {
      throw SMTPError(phase: .authentication, reason: .noCommonMechanism(offered: offered))
    }
    let timeout = timeouts.command
    let phase = SMTPPhase.authentication
    switch (mechanism, credentials) {
    case (.plain, .password(let user, let password)):
      try command(
        "AUTH PLAIN \(SASL.plainInitialResponse(user: user, password: password))", phase: phase,
        timeout: timeout, expecting: [235], redactedAs: "AUTH PLAIN <redacted>")
    case (.login, .password(let user, let password)):
      try command("AUTH LOGIN", phase: phase, timeout: timeout, expecting: [334])
      try command(SASL.base64(user), phase: phase, timeout: timeout, expecting: [334], redactedAs: "<redacted>")
      try command(SASL.base64(password), phase: phase, timeout: timeout, expecting: [235], redactedAs: "<redacted>")
    case (.cramMD5, .password(let user, let password)):
      let challenge = try command("AUTH CRAM-MD5", phase: phase, timeout: timeout, expecting: [334])
      guard let response = SASL.cramMD5Response(user: user, password: password, challengeBase64: challenge.text)
      else {
        try cancelExchange()
        throw SMTPError(phase: phase, reason: .malformedReply("CRAM-MD5 challenge is not base64"), reply: challenge)
      }
      try command(response, phase: phase, timeout: timeout, expecting: [235], redactedAs: "<redacted>")
    case (.xoauth2, .bearerToken(let user, let token)):
      try bearerExchange(
        "AUTH XOAUTH2 \(SASL.xoauth2InitialResponse(user: user, token: token))",
        redactedAs: "AUTH XOAUTH2 <redacted>", errorAcknowledgement: "")
    case (.oauthBearer, .bearerToken(let user, let token)):
      try bearerExchange(
        "AUTH OAUTHBEARER \(SASL.oauthBearerInitialResponse(user: user, token: token, host: host, port: port))",
        redactedAs: "AUTH OAUTHBEARER <redacted>", errorAcknowledgement: "AQ==")
    default:
      throw SMTPError(phase: phase, reason: .noCommonMechanism(offered: offered))
    }
    transcript?(.info("authenticated as \(credentials.user) with \(mechanism.rawValue)"))
  }

  /// A bearer-token AUTH. On a refused token the server sends `334 <base64 JSON error>`; the
  /// client acknowledges (XOAUTH2: empty line; OAUTHBEARER: `^A`, RFC 7628 section 3.2.3) and
  /// the server's final reply is the refusal. The refusal carries the JSON detail too.
  private func bearerExchange(_ line: String, redactedAs: String, errorAcknowledgement: String) throws(SMTPError) {
    let reply = try exchange(line, phase: .authentication, timeout: timeouts.command, redactedAs: redactedAs)
    if reply.code == 235 { return }
    guard reply.code == 334 else { throw failure(.authentication, reply) }
    let final = try exchange(errorAcknowledgement, phase: .authentication, timeout: timeouts.command)
    let detail = SASL.decodedText(reply.text).map { " (\($0))" } ?? ""
    let combined = SMTPReply(code: final.code, lines: final.lines.map { $0 } + (detail.isEmpty ? [] : [detail]))
    throw failure(.authentication, final.code == 235 ? SMTPReply(code: 535, lines: combined.lines) : combined)
  }

  /// Cancels a SASL exchange with `*` (RFC 4954 section 4) and reads the 501.
  private func cancelExchange() throws(SMTPError) {
    _ = try exchange("*", phase: .authentication, timeout: timeouts.command)
  }
}

extension SASL {
  /// Printable decoding of a base64 challenge, for error messages.
  static func decodedText(_ base64Text: String) -> String? {
    guard let data = Foundation.Data(base64Encoded: base64Text.trimmingCharacters(in: .whitespaces)), !data.isEmpty
    else { return nil }
    return ReplyReader.printable(Array(data))
  }
}
