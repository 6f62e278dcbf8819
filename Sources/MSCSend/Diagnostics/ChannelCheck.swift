import Foundation

/// What `check` was asked to do beyond looking.
public struct CheckOptions: Sendable {
  /// Seconds for every network step (connect, each reply, the TLS handshake); nil: the
  /// channel's `timeout`, else `defaultTimeout`.
  public var timeout: Double?
  /// `--from`: the sender whose domain is checked, and who sends the test message.
  public var sender: Mailbox?
  /// `--send-test`: where the test message goes; nil sends nothing.
  public var sendTestRecipient: Mailbox?
  /// How long the test message may wait for a throttle slot.
  public var maxWait: Double

  public static let defaultTimeout = 10.0

  public init(timeout: Double? = nil, sender: Mailbox? = nil, sendTestRecipient: Mailbox? = nil, maxWait: Double = 120)
  {
    self.timeout = timeout
    self.sender = sender
    self.sendTestRecipient = sendTestRecipient
    self.maxWait = maxWait
  }
}

/// Runs every check for one channel and collects the checklist: the kind's rules, then (network
/// kinds) the server from name resolution to QUIT (`ServerProbe`), the ledger's view, the test
/// message when asked, and the sender domains' SPF, DMARC and DKIM; a file channel checks its
/// outbox folder instead of a server.
public struct ChannelCheck {
  public let configuration: Configuration
  public let options: CheckOptions
  public let environment: [String: String]
  public let resolver: DNSResolving
  public var composeEnvironment: ComposeEnvironment = .live
  public var connector: SMTPConnector = SMTPSubmission.socketConnector
  public var now: () -> Double = { Date().timeIntervalSince1970 }

  public init(
    configuration: Configuration, options: CheckOptions, environment: [String: String], resolver: DNSResolving
  ) {
    self.configuration = configuration
    self.options = options
    self.environment = environment
    self.resolver = resolver
  }

  /// `transcript` receives the redacted SMTP dialogue and DNS answers as they happen (`-v`);
  /// the report keeps them too.
  public func run(_ channel: ChannelConfig, transcript: @escaping (TranscriptEvent) -> Void = { _ in })
    -> ChannelCheckReport
  {
    let lines = TranscriptLines(forward: transcript)
    let record: (TranscriptEvent) -> Void = { lines.add($0) }
    var items = ChannelRules.items(for: channel)
    var addresses: [IPAddress] = []
    var target = channel.outboxDirectory ?? ConfigPaths.defaultOutbox(environment: environment)
    if channel.kind == .file {
      items.append(OutboxCheck.item(directory: target))
    } else if let channelEndpoint = channel.endpoint {
      target = "\(channelEndpoint.host):\(channelEndpoint.port)"
      var endpoint: SMTPEndpoint
      do throws(SecretError) {
        endpoint = try ChannelDelivery.smtpEndpoint(channelEndpoint, environment: environment)
        if let source = channelEndpoint.secret {
          items.append(.ok(.secret, "\(channelEndpoint.secretIsToken ? "token" : "password") from \(source)"))
        }
      } catch {
        var withoutSecret = channelEndpoint
        withoutSecret.secret = nil
        endpoint =
          (try? ChannelDelivery.smtpEndpoint(withoutSecret, environment: environment))
          ?? SMTPEndpoint(host: channelEndpoint.host, port: channelEndpoint.port, tlsMode: channelEndpoint.tlsMode)
        items.append(
          .fail(
            .secret, "cannot read the \(channelEndpoint.secretIsToken ? "token" : "password"): \(error.description)",
            hint: "fix password_env/password_command (or token_*) in [channels.\(channel.name)]", code: .config))
      }
      let timeout = options.timeout ?? channelEndpoint.timeout ?? CheckOptions.defaultTimeout
      endpoint.timeouts = SMTPTimeouts(all: timeout)
      let probe = ServerProbe(
        channel: channel, endpoint: endpoint, credentialsConfigured: channelEndpoint.secret != nil,
        timeout: timeout, now: now(), transcript: record
      ).run()
      items += ServerProbe.ordered(probe.items)
      addresses = probe.addresses
    } else {
      items.append(.fail(.connect, "no server (host) configured", code: .config))
    }
    if channel.kind != .file {
      items.append(
        LedgerView.item(channel: channel, ledgerPath: configuration.ledgerPath(environment: environment), now: now()))
    }
    if let recipient = options.sendTestRecipient { items.append(sendTest(channel, to: recipient, record: record)) }
    items += senderDomainItems(channel, addresses: addresses, record: record)
    return ChannelCheckReport(
      channel: channel.name, kind: channel.kind, target: target, items: items, transcript: lines.all)
  }

  private func sendTest(_ channel: ChannelConfig, to recipient: Mailbox, record: @escaping (TranscriptEvent) -> Void)
    -> CheckItem
  {
    guard let sender = options.sender ?? Self.defaultSender(channel, configuration: configuration) else {
      return .fail(
        .sendTest, "no sender: the identities of \(channel.name) are patterns and [defaults] from does not match",
        hint: "give --from ADDRESS", code: .usage)
    }
    let delivery = ChannelDelivery.Context(environment: environment, connector: connector, transcript: record)
    var channel = channel
    // The test message is bounded like the checks, not by the RFC's minutes.
    let timeout = options.timeout ?? channel.endpoint?.timeout ?? CheckOptions.defaultTimeout
    channel.endpoint?.timeout = timeout
    return SendTest(
      channel: channel, ledgerPath: configuration.ledgerPath(environment: environment), maxWait: options.maxWait,
      delivery: delivery, composeEnvironment: composeEnvironment
    ).run(from: sender, to: recipient)
  }

  private func senderDomainItems(
    _ channel: ChannelConfig, addresses: [IPAddress], record: @escaping (TranscriptEvent) -> Void
  ) -> [CheckItem] {
    guard channel.kind != .file else { return [] }
    let domains = Self.senderDomains(channel, sender: options.sender, configuration: configuration)
    guard !domains.isEmpty else {
      let identities = channel.identities.map(\.description).joined(separator: ", ")
      return [
        .skip(
          .spf,
          "no sender domain to check: identities (\(identities.isEmpty ? "none" : identities)) name no "
            + "domain; give --from ADDRESS")
      ]
    }
    let tracing = TracingResolver(resolver) { record(.info($0)) }
    let helo = channel.endpoint?.helloName ?? HostIdentity.helloName(localAddress: nil)
    let check = SenderDomainCheck(resolver: tracing, helo: helo, channel: channel)
    return domains.flatMap { check.items(domain: $0.domain, sender: $0.sender, hostAddresses: addresses) }
  }

  /// The domains whose records matter for this channel, each with the sender SPF's macros see:
  /// `--from` alone when given; else every exact address and `*@domain` identity (a domain
  /// stands for `postmaster@domain`, RFC 7208 section 2.4); `*@*.domain` and `*` name no
  /// domain, and then `[defaults] from` is used when the channel carries it.
  static func senderDomains(_ channel: ChannelConfig, sender: Mailbox?, configuration: Configuration)
    -> [(domain: String, sender: String)]
  {
    if let sender { return [(sender.domain.lowercased(), sender.address)] }
    var result: [(domain: String, sender: String)] = []
    for identity in channel.identities {
      let entry: (String, String)
      switch identity {
      case .address(let address): entry = (String(address.split(separator: "@").last ?? ""), address)
      case .domain(let domain): entry = (domain, "postmaster@\(domain)")
      case .subdomains, .any: continue
      }
      if !entry.0.isEmpty, !result.contains(where: { $0.domain == entry.0 }) { result.append(entry) }
    }
    if result.isEmpty, let fallback = defaultSender(channel, configuration: configuration) {
      result.append((fallback.domain.lowercased(), fallback.address))
    }
    return result
  }

  /// The channel's first exact identity, else `[defaults] from` when the channel carries it.
  static func defaultSender(_ channel: ChannelConfig, configuration: Configuration) -> Mailbox? {
    for case .address(let address) in channel.identities {
      if let mailbox = try? Mailbox.parse(address) { return mailbox }
    }
    guard let text = configuration.defaults.from, let mailbox = try? Mailbox.parse(text),
      channel.identities.contains(where: { $0.matches(mailbox.address) })
    else { return nil }
    return mailbox
  }
}

/// Collects the transcript lines of one channel while passing each event on.
private final class TranscriptLines {
  private let forward: (TranscriptEvent) -> Void
  private(set) var all: [String] = []

  init(forward: @escaping (TranscriptEvent) -> Void) { self.forward = forward }

  func add(_ event: TranscriptEvent) {
    switch event {
    case .client(let line): all.append("C: \(line)")
    case .server(let line): all.append("S: \(line)")
    case .info(let line): all.append("-- \(line)")
    }
    forward(event)
  }
}
