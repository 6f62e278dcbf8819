import Foundation

/// Carries out a checked `send` request: pick the channel, compose, deliver, report.
struct SendExecution {
  let request: SendRequest
  let context: CLIContext

  func run() -> ExitCode {
    // 1. The channel: ad-hoc from --server, else routed from the configuration.
    let configuration: Configuration?
    switch ConfigSupport.loadIfNeeded(explicit: request.configFile, needed: request.adHocEndpoint == nil || request.from == nil, context: context) {
    case .success(let loaded): configuration = loaded
    case .failure(let code): return code
    }
    guard let fromText = request.from ?? configuration?.defaults.from else {
      context.error("no sender: give --from ADDRESS", hint: "or set [defaults] from in the config file")
      return .usage
    }
    let from: Mailbox
    let recipients: [Mailbox]
    do throws(ComposeError) {
      from = try Mailbox.parse(fromText)
      recipients = try request.to.map { (text) throws(ComposeError) in try Mailbox.parse(text) }
    } catch {
      context.error(error.description)
      return .dataError
    }
    let decision: RouteDecision
    if let endpoint = request.adHocEndpoint {
      let channel = ChannelConfig(
        name: "command-line", kind: .smtp, identities: [.any], scope: .domain, profile: "custom", endpoint: endpoint)
      decision = RouteDecision(channel: channel, rule: .commandLine, passedOver: [])
    } else {
      do throws(RouteError) {
        decision = try Router.route(from: from.address, configuration: configuration ?? ConfigLoader.embeddedDefault(environment: context.environment), explicitChannel: request.channel)
      } catch {
        context.error(error.description, hint: error.hint)
        return error.exitCode
      }
    }
    let channel = decision.channel
    if request.verbose { context.console.err("-- channel \(channel.name): \(decision.explanation)\n") }
    if channel.kind == .legacy {
      context.warning("channel \(channel.name) is a legacy shared server: no DKIM/SPF alignment for \(from.domain), expect lower deliverability")
    }
    if channel.endpoint?.tlsVerify == false {
      context.warning("TLS certificate verification is off for \(channel.name): anyone on the path can read and change this session")
    }

    // 2. The message: bad header values are data errors (65) before any network.
    let composed: ComposedMessage
    do {
      let body = try readBody()
      let message = OutgoingMessage(from: from, to: recipients, subject: request.subject, body: body)
      composed = try PlainTextComposer.compose(message, environment: context.composeEnvironment)
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
    let envelope = Envelope(sender: from.address, recipients: recipients.map(\.address))

    // 3. Delivery.
    let delivery = ChannelDelivery.Context(
      environment: context.environment, connector: context.connector, transcript: request.verbose ? transcriptPrinter : nil,
      onPlaintextPeer: { peer in context.warning("tls = none: the message travels in clear to \(peer)") })
    switch deliver(
      InMemoryMessage(composed.bytes), envelope: envelope, messageID: composed.messageID, decision: decision,
      configuration: configuration, context: delivery)
    {
    case .result(let result, let fallback):
      return finish(result, composed: composed, decision: decision, configuration: configuration, fallback: fallback)
    case .exit(let code):
      return code
    }
  }

  private var transcriptPrinter: (TranscriptEvent) -> Void {
    let console = context.console
    return { event in
      switch event {
      case .client(let line): console.err("C: \(line)\n")
      case .server(let line): console.err("S: \(line)\n")
      case .info(let line): console.err("-- \(line)\n")
      }
    }
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

  /// Reports a channel that could not take the message at all.
  func fail(_ error: ChannelError, channel: ChannelConfig) -> ExitCode {
    let outcome = error.outcome
    var hint: String?
    if case .session(let sessionError) = error {
      hint = SendHints.hint(for: sessionError, outcome: outcome, channel: channel)
    }
    context.error(error.description, hint: hint)
    if request.json { printJSON(["error": error.description, "class": outcome.rawValue, "channel": channel.name]) }
    return outcome.exitCode
  }

  private func finish(
    _ result: ChannelDelivery.Result, composed: ComposedMessage, decision: RouteDecision, configuration: Configuration?,
    fallback: String?
  ) -> ExitCode {
    let report = result.report
    for recipient in report.recipients where !recipient.accepted {
      let reply = recipient.reply.map { ": \($0)" } ?? ""
      context.error("\(recipient.address): \(SendHints.describe(recipient.outcome))\(reply)")
    }
    let channel = decision.channel
    if request.json {
      var object: [String: Any] = [
        "message_id": composed.messageID,
        "size": composed.bytes.count,
        "sha256": Crypto.hex(Crypto.digest(.sha256, composed.bytes)),
        "channel": channel.name,
        "kind": channel.kind.rawValue,
        "rule": decision.rule.name,
        "transactions": report.transactions,
        "recipients": report.recipients.map { recipient -> [String: Any] in
          ["address": recipient.address, "accepted": recipient.accepted, "class": recipient.outcome.rawValue,
           "reply": recipient.reply?.description ?? ""]
        },
      ]
      object[channel.kind == .file ? "file" : "server"] = result.destination
      if let fallback { object["fallback"] = fallback }
      if let tls = result.tls {
        object["tls"] = ["protocol": tls.protocolVersion, "cipher": tls.cipher, "verified": tls.verified]
      }
      printJSON(object)
    } else if channel.kind == .file {
      if !request.quiet {
        context.console.err("msc-send: wrote \(composed.messageID) to \(result.destination) (channel \(channel.name), kind file: nothing was sent)\n")
        if configuration?.isEmbeddedDefault ?? true {
          context.console.err(
            "hint: no config file, so the built-in `outbox` channel kept the message; to send for real, create "
              + "\(ConfigPaths.defaultConfigFile(environment: context.environment)) (examples: Examples/*.toml) "
              + "or pass --server HOST\n")
        }
      }
    } else if report.acceptedCount > 0 && !request.quiet && (context.console.stderrIsTerminal || request.verbose) {
      context.console.err("msc-send: sent \(composed.messageID) to \(report.acceptedCount) of \(report.recipients.count) recipient(s) via \(channel.name) (\(result.destination))\n")
    }
    return report.exitCode
  }

  private func printJSON(_ object: [String: Any]) {
    guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    else { return }
    context.console.out(String(decoding: data, as: UTF8.self) + "\n")
  }
}
