import Foundation

/// Carries out a checked `send` request: compose, read secrets, submit, report.
struct SendExecution {
  let request: SendRequest
  let context: CLIContext

  func run() -> ExitCode {
    // 1. The message: bad addresses or header values are data errors (65) before any network.
    let composed: ComposedMessage
    let envelope: Envelope
    do {
      let body = try readBody()
      let from = try Mailbox.parse(request.from)
      let recipients = try request.to.map { (text) throws(ComposeError) in try Mailbox.parse(text) }
      let message = OutgoingMessage(from: from, to: recipients, subject: request.subject, body: body)
      composed = try PlainTextComposer.compose(message, environment: context.composeEnvironment)
      envelope = Envelope(sender: from.address, recipients: recipients.map(\.address))
    } catch let error as ComposeError {
      context.error(error.description)
      return .dataError
    } catch let error as BodyReadError {
      context.error(error.message)
      return .ioError
    } catch {
      context.error("\(error)")
      return .software
    }

    // 2. Credentials: a failing password command is a configuration error (78).
    let endpoint: SMTPEndpoint
    do throws(SecretError) {
      endpoint = try makeEndpoint()
    } catch {
      context.error("cannot read the \(request.secretIsToken ? "token" : "password"): \(error.description)")
      return .config
    }
    if !request.verify {
      context.warning("TLS certificate verification is off (--no-verify): anyone on the path can read and change this session")
    }

    // 3. Submission.
    let transcript: ((TranscriptEvent) -> Void)? = request.verbose ? { event in
      switch event {
      case .client(let line): context.console.err("C: \(line)\n")
      case .server(let line): context.console.err("S: \(line)\n")
      case .info(let line): context.console.err("-- \(line)\n")
      }
    } : nil
    let session: SMTPSession
    let report: DeliveryReport
    do throws(SMTPError) {
      session = try SMTPSubmission.open(endpoint, connector: context.connector, transcript: transcript)
      if request.tlsMode == .none && !session.transport.peerIsLoopback {
        context.warning("--tls none: the message travels in clear to \(session.transport.peerDescription)")
      }
      report = try session.send(envelope, content: InMemoryMessage(composed.bytes))
      session.quit()
    } catch {
      return fail(error)
    }
    return finish(report, composed: composed, session: session, endpoint: endpoint)
  }

  private func makeEndpoint() throws(SecretError) -> SMTPEndpoint {
    var credentials: Credentials?
    if let source = request.secret, let user = request.user {
      let secret = try source.resolve(environment: context.environment)
      credentials = request.secretIsToken ? .bearerToken(user: user, token: secret) : .password(user: user, password: secret)
    }
    let host = request.server.host
    let port = request.server.port ?? SMTPEndpoint.defaultPort(for: request.tlsMode)
    let tls = TLSOptions(serverName: host, verify: request.verify, caFile: request.caFile, pinnedSHA256: request.pinnedSHA256)
    return SMTPEndpoint(
      host: host, port: port, tlsMode: request.tlsMode, tls: tls, helloName: request.helloName,
      timeouts: request.timeout.map { SMTPTimeouts(all: $0) } ?? SMTPTimeouts(), credentials: credentials,
      mechanism: request.mechanism)
  }

  struct BodyReadError: Error { let message: String }

  private func readBody() throws -> String {
    let bytes: [UInt8]
    switch request.body {
    case .text(let text):
      return text
    case .file(let path):
      guard let data = FileManager.default.contents(atPath: path) else {
        throw BodyReadError(message: "cannot read --body-file \(path): no such file or not readable")
      }
      bytes = Array(data)
    case .standardInput:
      if context.standardInputIsTerminal {
        context.console.err("msc-send: reading the message text from the terminal; end it with Ctrl-D\n")
      }
      bytes = context.readStandardInput()
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
      throw BodyReadError(message: "the message text is not valid UTF-8 (use sendmail mode, -t, for raw messages)")
    }
    return text
  }

  /// Reports a session that could not deliver anything.
  private func fail(_ error: SMTPError) -> ExitCode {
    let outcome = ReplyClassification.classify(error)
    context.error(error.description, hint: Self.hint(for: error, outcome: outcome, request: request))
    if request.json { printJSON(["error": error.description, "class": outcome.rawValue]) }
    return outcome.exitCode
  }

  private func finish(_ report: DeliveryReport, composed: ComposedMessage, session: SMTPSession, endpoint: SMTPEndpoint)
    -> ExitCode
  {
    for result in report.recipients where !result.accepted {
      let reply = result.reply.map { ": \($0)" } ?? ""
      context.error("\(result.address): \(Self.describe(result.outcome))\(reply)")
    }
    if request.json {
      var object: [String: Any] = [
        "message_id": composed.messageID,
        "size": composed.bytes.count,
        "sha256": Crypto.hex(Crypto.digest(.sha256, composed.bytes)),
        "server": "\(endpoint.host):\(endpoint.port)",
        "transactions": report.transactions,
        "recipients": report.recipients.map { result -> [String: Any] in
          ["address": result.address, "accepted": result.accepted, "class": result.outcome.rawValue,
           "reply": result.reply?.description ?? ""]
        },
      ]
      if let tls = session.tlsInfo {
        object["tls"] = ["protocol": tls.protocolVersion, "cipher": tls.cipher, "verified": tls.verified]
      }
      printJSON(object)
    } else if report.acceptedCount > 0 && !request.quiet && (context.console.stderrIsTerminal || request.verbose) {
      context.console.err("msc-send: sent \(composed.messageID) to \(report.acceptedCount) of \(report.recipients.count) recipient(s) via \(endpoint.host):\(endpoint.port)\n")
    }
    return report.exitCode
  }

  private func printJSON(_ object: [String: Any]) {
    guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    else { return }
    context.console.out(String(decoding: data, as: UTF8.self) + "\n")
  }

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

  static func hint(for error: SMTPError, outcome: OutcomeClass, request: SendRequest) -> String? {
    switch error.reason {
    case .startTLSNotOffered:
      return "something strips STARTTLS, or the server lacks it; try port 465 with --tls implicit"
    case .plaintextAuthentication:
      return "use --tls starttls or --tls implicit; credentials go in clear only to a loopback address"
    case .noCommonMechanism:
      return request.user == nil ? nil : "choose another mechanism with --auth, or check the server's AUTH settings"
    case .transport(.connect):
      return "is the server running and the port right? (587 STARTTLS, 465 implicit TLS)"
    case .transport(.tls(.verificationFailed)):
      return "for a private CA pass --ca-file FILE; to trust one certificate pin it with --fingerprint sha256:HEX"
    case .transport(.tls(.handshakeFailed)) where request.tlsMode == .implicit:
      return "the port may expect STARTTLS: try --tls starttls (usually port 587)"
    case .transport(.timeout):
      return "raise --timeout, or check the network path to the server"
    case .deliveryUncertain:
      return "check the recipient's mailbox before sending again: a retry may duplicate the message"
    default:
      break
    }
    if outcome == .authentication, error.reply?.enhancedStatus == EnhancedStatus(5, 7, 30)
      || error.reply?.enhancedStatus == EnhancedStatus(5, 7, 139)
    {
      return "Exchange Online disables basic auth: use an OAuth2 token with --auth XOAUTH2"
    }
    if outcome == .authentication { return "check --user and the password (or token) source" }
    return nil
  }
}
