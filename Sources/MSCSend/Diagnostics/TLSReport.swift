import Foundation

/// The TLS line of the checklist: protocol, cipher, the certificate's subject, issuer, names and
/// expiry, and whether it verified. A certificate that expires within `expiryWarningDays` is a
/// warning (exit 77 with `--strict`): it still works, but not for long.
enum TLSReport {
  static let expiryWarningDays = 14

  /// The line for an established session. `how` is "STARTTLS" or "implicit TLS".
  static func item(_ info: TLSSessionInfo, how: String, options: TLSOptions, channel: String, now: Double) -> CheckItem
  {
    let verification: String
    if !info.verified {
      verification = "NOT verified (tls_verify = false)"
    } else if options.pinnedSHA256 != nil {
      verification = "verified by its pinned fingerprint"
    } else {
      verification = "verified"
    }
    let detail = "\(how), \(info.protocolVersion) \(info.cipher), \(verification) (\(certificate(info, now: now)))"
    if !info.verified {
      return .warn(
        .tls, detail,
        hint: "remove tls_verify = false from [channels.\(channel)]; for a private CA set ca_file, "
          + "to trust one certificate set fingerprint = \"sha256:\(info.fingerprintSHA256)\"", code: .noPermission)
    }
    if let days = daysLeft(info, now: now), days < expiryWarningDays {
      return .warn(
        .tls, detail, hint: "the certificate expires in \(days) day(s): have it renewed before then",
        code: .noPermission)
    }
    return .ok(.tls, detail)
  }

  /// "CN=smtp.example.com, issuer CN=Example CA, DNS:smtp.example.com, expires 2027-01-02 (40 days)".
  static func certificate(_ info: TLSSessionInfo, now: Double) -> String {
    var parts = [info.peerSubject.isEmpty ? "no subject" : info.peerSubject, "issuer \(info.peerIssuer)"]
    if !info.subjectAlternativeNames.isEmpty {
      let names = info.subjectAlternativeNames.prefix(6).joined(separator: " ")
      parts.append(info.subjectAlternativeNames.count > 6 ? names + " ..." : names)
    }
    if let notAfter = info.notAfter {
      let days = daysLeft(info, now: now) ?? 0
      let when = days >= 0 ? "\(days) day\(days == 1 ? "" : "s")" : "expired \(-days) day\(days == -1 ? "" : "s") ago"
      parts.append("expires \(date(notAfter)) (\(when))")
    }
    return parts.joined(separator: ", ")
  }

  /// Whole days until the certificate expires (negative once expired).
  static func daysLeft(_ info: TLSSessionInfo, now: Double) -> Int? {
    info.notAfter.map { Int(floor(($0 - now) / 86_400)) }
  }

  static func date(_ seconds: Double) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd"
    return formatter.string(from: Date(timeIntervalSince1970: seconds))
  }

  /// The line for a handshake that failed. When the certificate did not verify, `presented` (from
  /// a second handshake without verification) says what the server showed, and the hint names
  /// its fingerprint for pinning.
  static func failure(
    _ error: SMTPError, presented: TLSSessionInfo?, channel: ChannelConfig, now: Double
  ) -> CheckItem {
    let outcome = ReplyClassification.classify(error)
    var detail = error.description
    var hint = SendHints.hint(for: error, outcome: outcome, channel: channel)
    if let presented {
      detail += "; the server presented \(certificate(presented, now: now)), sha256:\(presented.fingerprintSHA256)"
      if case .transport(.tls(.verificationFailed)) = error.reason {
        hint =
          "for a private CA set ca_file; to trust this one certificate (after checking it is the server's own) set "
          + "fingerprint = \"sha256:\(presented.fingerprintSHA256)\" in [channels.\(channel.name)]"
      }
    }
    return .fail(.tls, detail, hint: hint, code: outcome.exitCode)
  }
}

/// A second connection that skips verification only to read the certificate a server presents,
/// after verification failed: "self-signed" or "expired" is clearer with the subject, issuer
/// and dates beside it. Nothing but EHLO and STARTTLS is sent on it; it is closed at once.
enum CertificateProbe {
  static func presented(endpoint: SMTPEndpoint, timeout: Double) -> TLSSessionInfo? {
    var options = endpoint.tls
    options.verify = false
    options.pinnedSHA256 = nil
    guard
      let transport = try? SocketTransport.connect(
        host: endpoint.host, port: endpoint.port, tls: options, implicitTLS: endpoint.tlsMode == .implicit,
        connectTimeout: timeout)
    else { return nil }
    defer { transport.close() }
    if endpoint.tlsMode == .implicit { return transport.tlsInfo }
    let session = SMTPSession(
      transport: transport,
      helloName: endpoint.helloName ?? HostIdentity.helloName(localAddress: transport.localAddress),
      timeouts: SMTPTimeouts(all: timeout))
    defer { session.quit() }
    guard (try? session.readGreeting()) != nil, (try? session.hello()) != nil else { return nil }
    return try? session.startTLS()
  }
}
