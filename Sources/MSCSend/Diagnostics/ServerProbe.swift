/// The network half of `check` for one SMTP channel, with the engine's own pieces
/// (`AddressResolver`, `SocketTransport`, `SMTPSession`): name resolution, TCP connect, greeting,
/// EHLO, STARTTLS or implicit TLS, AUTH mechanisms, login, SIZE; then QUIT. No mail is sent.
/// A failing step ends the session and the steps after it are listed as skipped.
struct ServerProbe {
  let channel: ChannelConfig
  /// With credentials when the secret could be read.
  let endpoint: SMTPEndpoint
  /// Whether credentials are configured at all (even if the secret could not be read).
  let credentialsConfigured: Bool
  let timeout: Double
  let now: Double
  let transcript: (TranscriptEvent) -> Void

  /// The steps, in order; what is left after a failure is skipped.
  static let steps: [CheckID] = [.resolve, .connect, .greeting, .tls, .ehlo, .auth, .login, .size]

  struct Outcome {
    var items: [CheckItem] = []
    /// Every address getaddrinfo gave for the host (SPF is evaluated for each).
    var addresses: [IPAddress] = []
  }

  func run() -> Outcome {
    var outcome = Outcome()
    let host = endpoint.host
    do throws(TransportError) {
      let resolved = try AddressResolver.resolve(host: host, port: endpoint.port, deadline: .after(seconds: timeout))
      outcome.addresses = resolved.compactMap { IPAddress($0.numericHost) }
      let list = resolved.map(\.numericHost).joined(separator: ", ")
      outcome.items.append(
        .ok(.resolve, IPAddress(host) != nil ? "\(host) is an address literal" : "\(host) -> \(list) (getaddrinfo)"))
    } catch {
      fail(&outcome, SMTPError(phase: .connect, reason: .transport(error)), id: .resolve)
      return outcome
    }

    let transport: SocketTransport
    do throws(TransportError) {
      transport = try SocketTransport.connect(
        host: host, port: endpoint.port, tls: endpoint.tlsMode == .none ? nil : endpoint.tls, implicitTLS: false,
        connectTimeout: timeout)
    } catch {
      fail(&outcome, SMTPError(phase: .connect, reason: .transport(error)), id: .connect)
      return outcome
    }
    defer { transport.close() }
    transcript(.info("connected to \(transport.peerDescription)"))
    var connected =
      "connected to \(transport.connectedAddress) port \(endpoint.port) in \(milliseconds(transport.connectDuration))"
    if !transport.failedAttempts.isEmpty { connected += " (after \(transport.failedAttempts.joined(separator: "; ")))" }
    outcome.items.append(.ok(.connect, connected))

    var tlsItem: CheckItem?
    if endpoint.tlsMode == .implicit {
      do throws(TransportError) {
        let info = try transport.startTLS(deadline: .after(seconds: timeout))
        transcript(.info("TLS started: \(info.protocolVersion) \(info.cipher)"))
        tlsItem = TLSReport.item(info, how: "implicit TLS", options: endpoint.tls, channel: channel.name, now: now)
      } catch {
        let reason: SMTPError.Reason =
          error == .plaintextBeforeHandshake
          ? .transport(.tls(.handshakeFailed("the server sent plaintext before the TLS handshake"))) : .transport(error)
        tlsFailure(&outcome, SMTPError(phase: .connect, reason: reason))
        return outcome
      }
    }
    let session = SMTPSession(
      transport: transport,
      helloName: endpoint.helloName ?? HostIdentity.helloName(localAddress: transport.localAddress),
      timeouts: SMTPTimeouts(all: timeout), transcript: transcript)
    defer { session.quit() }
    converse(session, transport: transport, tlsItem: tlsItem, into: &outcome)
    return outcome
  }

  /// The items in step order (a STARTTLS failure is found after EHLO, but TLS is listed first).
  static func ordered(_ items: [CheckItem]) -> [CheckItem] {
    items.enumerated().sorted { lhs, rhs in
      let left = steps.firstIndex(of: lhs.element.id) ?? steps.count
      let right = steps.firstIndex(of: rhs.element.id) ?? steps.count
      return left == right ? lhs.offset < rhs.offset : left < right
    }.map(\.element)
  }

  /// Greeting, EHLO, STARTTLS, AUTH, SIZE on an open connection.
  private func converse(
    _ session: SMTPSession, transport: SocketTransport, tlsItem implicitTLS: CheckItem?, into outcome: inout Outcome
  ) {
    do throws(SMTPError) {
      outcome.items.append(.ok(.greeting, try session.readGreeting().description))
    } catch {
      fail(&outcome, error, id: .greeting)
      return
    }
    var capabilities: Capabilities
    do throws(SMTPError) {
      capabilities = try session.hello()
    } catch {
      fail(&outcome, error, id: .ehlo)
      return
    }
    switch endpoint.tlsMode {
    case .implicit:
      if let implicitTLS { outcome.items.append(implicitTLS) }
    case .starttls:
      guard capabilities.startTLS else {
        let error = SMTPError(phase: .startTLS, reason: .startTLSNotOffered)
        outcome.items.append(
          .fail(
            .tls, "STARTTLS is not offered (EHLO: \(Self.list(capabilities)))",
            hint: SendHints.hint(for: error, outcome: .serviceUnavailable, channel: channel), code: .unavailable))
        outcome.items.append(.ok(.ehlo, Self.list(capabilities)))
        skipRest(&outcome, reason: "not reached: STARTTLS is required and not offered, so nothing more is sent")
        return
      }
      do throws(SMTPError) {
        let info = try session.startTLS()
        capabilities = session.capabilities
        outcome.items.append(
          TLSReport.item(info, how: "STARTTLS", options: endpoint.tls, channel: channel.name, now: now))
      } catch {
        tlsFailure(&outcome, error)
        return
      }
    case .none:
      outcome.items.append(
        transport.peerIsLoopback
          ? .ok(.tls, "none (tls = \"none\"): plaintext to a loopback address")
          : .warn(
            .tls, "none (tls = \"none\"): credentials and mail travel in clear to \(transport.peerDescription)",
            hint: "set tls = \"starttls\" (port 587) or \"implicit\" (port 465)", code: .config))
    }
    let extended = capabilities.isExtended
    outcome.items.append(
      extended
        ? .ok(.ehlo, Self.list(capabilities) + (transport.isEncrypted ? " (over TLS)" : ""))
        : .warn(.ehlo, "the server does not understand EHLO (HELO only): no extensions", code: .unavailable))
    authenticate(session, capabilities: capabilities, into: &outcome)
    outcome.items.append(sizeItem(capabilities))
  }

  private func authenticate(_ session: SMTPSession, capabilities: Capabilities, into outcome: inout Outcome) {
    let offered = capabilities.authMechanisms
    let offeredText = offered.isEmpty ? "no AUTH offered" : "offered \(offered.joined(separator: " "))"
    guard credentialsConfigured else {
      outcome.items.append(.ok(.auth, "\(offeredText); no credentials configured"))
      outcome.items.append(.skip(.login, "no credentials configured"))
      return
    }
    let configured = endpoint.mechanism.map { "auth = \"\($0.rawValue.lowercased())\"" } ?? "strongest offered"
    guard let credentials = endpoint.credentials else {
      outcome.items.append(.ok(.auth, "\(offeredText); configured: \(configured)"))
      outcome.items.append(.skip(.login, "not tried: the secret could not be read"))
      return
    }
    guard let chosen = AuthMechanism.choose(offered: offered, credentials: credentials, override: endpoint.mechanism)
    else {
      let error = SMTPError(phase: .authentication, reason: .noCommonMechanism(offered: offered))
      let kind = if case .bearerToken = credentials { "an OAuth2 token" } else { "a password" }
      outcome.items.append(
        .fail(
          .auth, "\(offeredText); configured: \(configured), with \(kind): no mechanism in common",
          hint: SendHints.hint(for: error, outcome: .authentication, channel: channel), code: .noPermission))
      outcome.items.append(.skip(.login, "not tried: no usable mechanism"))
      return
    }
    outcome.items.append(.ok(.auth, "\(offeredText); configured: \(configured); using \(chosen.rawValue)"))
    do throws(SMTPError) {
      try session.authenticate(
        credentials, mechanism: endpoint.mechanism, host: endpoint.host, port: endpoint.port)
      outcome.items.append(.ok(.login, "authenticated as \(credentials.user) with \(chosen.rawValue)"))
    } catch {
      let outcomeClass = ReplyClassification.classify(error)
      outcome.items.append(
        .fail(
          .login, "as \(credentials.user): \(error.description)",
          hint: SendHints.hint(for: error, outcome: outcomeClass, channel: channel), code: outcomeClass.exitCode))
    }
  }

  private func sizeItem(_ capabilities: Capabilities) -> CheckItem {
    let configured = channel.maxMessageSize
    guard let limit = capabilities.maximumSize else {
      let mine = configured.map { "; max_message_size \($0)" } ?? ""
      return .ok(.size, "the server advertises no SIZE limit\(mine)")
    }
    let server = "the server accepts up to \(limit) octets (\(Self.mebibytes(limit)))"
    guard let configured else { return .ok(.size, "\(server); no max_message_size set") }
    if configured > limit {
      return .warn(
        .size, "\(server), below max_message_size \(configured): messages in between are refused by the server",
        hint: "set max_message_size = \(limit) (or less) in [channels.\(channel.name)]", code: .dataError)
    }
    return .ok(.size, "\(server); max_message_size \(configured) is within it")
  }

  // MARK: - Failures

  private func fail(_ outcome: inout Outcome, _ error: SMTPError, id: CheckID) {
    let outcomeClass = ReplyClassification.classify(error)
    var hint = SendHints.hint(for: error, outcome: outcomeClass, channel: channel)
    if hint == nil, outcomeClass == .serviceUnavailable, error.phase == .greeting || error.phase == .hello {
      hint =
        "the server refuses this client service: check that host and port are its submission service "
        + "(587 or 465) and that this network or address may use it"
    }
    outcome.items.append(.fail(id, error.description, hint: hint, code: outcomeClass.exitCode))
    skipRest(&outcome, reason: "not reached: the \(id.label) step failed")
  }

  private func tlsFailure(_ outcome: inout Outcome, _ error: SMTPError) {
    var presented: TLSSessionInfo?
    if case .transport(.tls(let tlsError)) = error.reason {
      switch tlsError {
      case .verificationFailed, .fingerprintMismatch:
        transcript(.info("reading the certificate again without verification, to report it"))
        presented = CertificateProbe.presented(endpoint: endpoint, timeout: timeout)
      default: break
      }
    }
    outcome.items.append(TLSReport.failure(error, presented: presented, channel: channel, now: now))
    skipRest(&outcome, reason: "not reached: TLS failed, so nothing more is sent")
  }

  private func skipRest(_ outcome: inout Outcome, reason: String) {
    let done = Set(outcome.items.map(\.id))
    for step in Self.steps where !done.contains(step) { outcome.items.append(.skip(step, reason)) }
  }

  // MARK: - Formatting

  /// "PIPELINING 8BITMIME SIZE 33554432 STARTTLS AUTH PLAIN LOGIN", in a stable order.
  static func list(_ capabilities: Capabilities) -> String {
    let entries = capabilities.extensions.sorted { $0.key < $1.key }.map { key, parameters in
      ([key] + parameters).joined(separator: " ")
    }
    return entries.isEmpty ? "no extensions" : entries.joined(separator: ", ")
  }

  static func mebibytes(_ octets: Int) -> String {
    let value = Double(octets) / 1_048_576
    return value >= 10 ? "\(Int(value.rounded())) MiB" : "\(Double(Int(value * 10)) / 10) MiB"
  }

  private func milliseconds(_ seconds: Double) -> String {
    let ms = seconds * 1000
    return ms < 10 ? "\(Double(Int(ms * 10)) / 10) ms" : "\(Int(ms.rounded())) ms"
  }
}
