import Foundation

/// The delivery flags `send` and sendmail mode share.
struct DeliveryOptions {
  /// `--server` and its companions: an ad-hoc channel that bypasses the router.
  var adHocEndpoint: ChannelEndpoint?
  var channel: String?
  var configFile: String?
  var json: Bool
  var verbose: Bool
  var quiet: Bool
  /// Seconds to wait for a throttle slot (`--max-wait`; `--no-wait` is 0).
  var maxWait: Double = ThrottledDelivery.Options.defaultMaxWait
  /// `--queue`: only queue the message; `msc-send flush` sends it.
  var queueOnly = false
}

/// A message ready for delivery: what `send` composed or sendmail mode prepared.
struct Submission {
  /// The mailbox the router picks the channel by: From, or sendmail's `-f`.
  var sender: Mailbox
  var envelope: Envelope
  var content: any MessageContent
  /// With the angle brackets.
  var messageID: String
}

/// Why a command stopped before delivery, reported as one error line (and a hint) with its code.
struct CommandFailure: Error {
  let message: String
  let hint: String?
  let code: ExitCode

  init(_ message: String, hint: String? = nil, code: ExitCode) {
    self.message = message
    self.hint = hint
    self.code = code
  }
}

/// Carries out a delivery for `send` and sendmail mode alike: load the configuration, let the
/// command prepare its message, pick the channel, deliver, report.
struct SendExecution {
  let options: DeliveryOptions
  let context: CLIContext

  /// `prepare` builds the message once the configuration is known (it may supply the sender);
  /// its failures are bad data (65), unreadable files (74) or usage errors (64), all before any
  /// network. `needsDefaultSender`: the configuration must be read even for an ad-hoc --server.
  func run(
    needsDefaultSender: Bool, prepare: (Configuration?) throws(CommandFailure) -> Submission
  ) -> ExitCode {
    // 1. The configuration and the message.
    let configuration: Configuration?
    let needed = options.adHocEndpoint == nil || needsDefaultSender
    switch ConfigSupport.loadIfNeeded(explicit: options.configFile, needed: needed, context: context) {
    case .success(let loaded): configuration = loaded
    case .failure(let code): return code
    }
    let submission: Submission
    do throws(CommandFailure) {
      submission = try prepare(configuration)
    } catch {
      context.error(error.message, hint: error.hint)
      return error.code
    }

    // 2. The channel: ad-hoc from --server, else routed from the configuration.
    let decision: RouteDecision
    if let endpoint = options.adHocEndpoint {
      let channel = ChannelConfig(
        name: "command-line", kind: .smtp, identities: [.any], scope: .domain, profile: "custom", endpoint: endpoint)
      decision = RouteDecision(channel: channel, rule: .commandLine, passedOver: [])
    } else {
      do throws(RouteError) {
        decision = try Router.route(
          from: submission.sender.address,
          configuration: configuration ?? ConfigLoader.embeddedDefault(environment: context.environment),
          explicitChannel: options.channel)
      } catch {
        context.error(error.description, hint: error.hint)
        return error.exitCode
      }
    }
    let channel = decision.channel
    if options.verbose { context.console.err("-- channel \(channel.name): \(decision.explanation)\n") }
    if channel.kind == .legacy {
      context.warning(
        "channel \(channel.name) is a legacy shared server: no DKIM/SPF alignment for \(submission.sender.domain), "
          + "expect lower deliverability")
    }
    if channel.endpoint?.tlsVerify == false {
      context.warning("TLS certificate verification is off for \(channel.name): anyone on the path can read and change this session")
    }

    // 3. Delivery, measuring the exact bytes that go out.
    let delivery = ChannelDelivery.Context(
      environment: context.environment, connector: context.connector,
      transcript: options.verbose ? transcriptPrinter : nil,
      onPlaintextPeer: { peer in context.warning("tls = none: the message travels in clear to \(peer)") })
    let measured = MeasuredContent(submission.content)
    switch deliver(
      measured, envelope: submission.envelope, messageID: submission.messageID, decision: decision,
      configuration: configuration, context: delivery)
    {
    case .result(let result, let fallback, let queued):
      if options.json && measured.measurement.sha256 == nil {
        // Nothing went out (every recipient refused before DATA): report the message as composed.
        try? measured.writeChunks { _ in }
      }
      return finish(
        result, submission: submission, measurement: measured.measurement, decision: decision,
        configuration: configuration, fallback: fallback, queued: queued)
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

  /// Reports a channel that could not take the message at all.
  /// `queued`: the message stays in the queue as this id (a configured channel's).
  func fail(_ error: ChannelError, channel: ChannelConfig, queued: Int64? = nil) -> ExitCode {
    let outcome = error.outcome
    var hint: String?
    if case .session(let sessionError) = error {
      hint = SendHints.hint(for: sessionError, outcome: outcome, channel: channel)
    }
    context.error(error.description, hint: hint)
    if let queued, !QueueOutcome.permanent.contains(outcome) {
      context.console.err("msc-send: queued as message \(queued): `msc-send flush` retries it\n")
    }
    if options.json {
      var object: [String: Any] = ["error": error.description, "class": outcome.rawValue, "channel": channel.name]
      if let queued { object["queue"] = ["id": queued] }
      printJSON(object)
    }
    return outcome.exitCode
  }

  private func finish(
    _ result: ChannelDelivery.Result, submission: Submission, measurement: MeasuredContent.Measurement,
    decision: RouteDecision, configuration: Configuration?,
    fallback: String?, queued: QueueNote?
  ) -> ExitCode {
    let report = result.report
    for recipient in report.recipients where !recipient.accepted {
      var reply = recipient.reply.map { ": \($0)" } ?? ""
      if recipient.outcome == .uncertain && recipient.reply == nil {
        reply = ": the connection was lost after the message was sent and before the server's reply (RFC 1047)"
      }
      context.error("\(recipient.address): \(SendHints.describe(recipient.outcome))\(reply)")
    }
    if let line = queued.flatMap(queueLine), !options.quiet { context.console.err("msc-send: \(line)\n") }
    let channel = decision.channel
    if options.json {
      var object: [String: Any] = [
        "message_id": submission.messageID,
        "size": measurement.size ?? submission.content.byteCount ?? 0,
        "sha256": measurement.sha256.map(Crypto.hex) ?? "",
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
      if let queued { object["queue"] = queueJSON(queued) }
      if let tls = result.tls {
        object["tls"] = ["protocol": tls.protocolVersion, "cipher": tls.cipher, "verified": tls.verified]
      }
      printJSON(object)
    } else if channel.kind == .file {
      if !options.quiet {
        context.console.err(
          "msc-send: wrote \(submission.messageID) to \(result.destination) "
            + "(channel \(channel.name), kind file: nothing was sent)\n")
        if configuration?.isEmbeddedDefault ?? true {
          context.console.err(
            "hint: no config file, so the built-in `outbox` channel kept the message; to send for real, create "
              + "\(ConfigPaths.defaultConfigFile(environment: context.environment)) (examples: Examples/*.toml) "
              + "or pass --server HOST\n")
        }
      }
    } else if report.acceptedCount > 0 && !options.quiet && (context.console.stderrIsTerminal || options.verbose) {
      context.console.err(
        "msc-send: sent \(submission.messageID) to \(report.acceptedCount) of \(report.recipients.count) "
          + "recipient(s) via \(channel.name) (\(result.destination))\n")
    }
    return queued.map { QueueOutcome.exitCode($0.completion) } ?? report.exitCode
  }

  private func printJSON(_ object: [String: Any]) {
    guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    else { return }
    context.console.out(String(decoding: data, as: UTF8.self) + "\n")
  }
}
