/// Carries one message through a channel's limits: splits the envelope into transactions of at
/// most `ChannelLimits.chunkSize` recipients (each a separate SMTP transaction of the same
/// message bytes, each reserving as one message: that is how the provider counts them), reserves
/// each before connecting, waits for slots up to `--max-wait`, reports every attempt to the
/// ledger, retries recipients refused by a throttle reply after the backoff, and hands recipients
/// refused for quota to the channel's `fallback` (one hop).
public struct ThrottledDelivery {
  public struct Options: Sendable, Equatable {
    /// Seconds a slot may be waited for; 0 means never wait.
    public var maxWait: Double
    /// The transport sends on a session that already holds its connection slot (flush, batch):
    /// transactions reserve with `ChannelLimits.forOpenSession`.
    public var ridesOpenSession: Bool

    public init(maxWait: Double, ridesOpenSession: Bool = false) {
      self.maxWait = maxWait
      self.ridesOpenSession = ridesOpenSession
    }

    public static let defaultMaxWait = 120.0
  }

  /// Progress for the CLI: countdown ticks (about once a second), the end of a wait, cooldowns
  /// set by a reply, and hand-overs to a fallback channel.
  public enum Event: Sendable, Equatable {
    case waiting(channel: String, until: Double, remaining: Double, reason: String)
    case waited
    case cooldown(String)
    case handover(String)
  }

  /// Why some recipients were not attempted (or not retried): nothing frees before the deadline.
  public struct Deferral: Sendable, Equatable {
    public var channel: String
    /// When the next slot frees or the cooldown ends (`.infinity`: never, for this request).
    public var until: Double
    public var reason: String
    /// `.rateThrottle` (exit 75) or `.quotaExhausted` (exit 69 while there is no queue).
    public var outcome: OutcomeClass
    /// The server reply that paused the channel, if a reply did.
    public var reply: String?
  }

  public struct Outcome {
    public var report: DeliveryReport
    /// The last transaction's destination and TLS (what `send --json` shows).
    public var destination: String?
    public var tls: TLSSessionInfo?
    /// Set when some recipients went through the fallback channel.
    public var fallbackChannel: String?
    public var deferral: Deferral?
  }

  public enum Failure: Error {
    /// Nothing was delivered: the first channel failure that was not a throttle or quota reply.
    case channel(ChannelError, ChannelConfig)
    /// Nothing was delivered: no slot before the deadline, or the channel is out of quota.
    case deferred(Deferral)
    case ledger(LedgerError)
  }

  public typealias Transport = (ChannelConfig, Envelope) throws(ChannelError) -> ChannelDelivery.Result

  let gate: any ThrottleSlots
  let clock: ThrottleClock
  let options: Options
  let transport: Transport
  /// The channel to hand quota-refused mail to, already checked usable for this sender.
  let fallback: (ChannelConfig) -> ChannelConfig?
  let events: (Event) -> Void

  public init(
    gate: any ThrottleSlots, clock: ThrottleClock = SystemThrottleClock(), options: Options,
    transport: @escaping Transport, fallback: @escaping (ChannelConfig) -> ChannelConfig? = { _ in nil },
    events: @escaping (Event) -> Void = { _ in }
  ) {
    self.gate = gate
    self.clock = clock
    self.options = options
    self.transport = transport
    self.fallback = fallback
    self.events = events
  }

  /// A bound on reservations per message, whatever happens: the deadline already ends every
  /// wait, this only guards against a bug turning the loop into a busy one.
  static let maximumRounds = 10_000

  /// What the run has found so far.
  struct Progress {
    var results: [String: RecipientResult] = [:]
    var transactions = 0
    var last: ChannelDelivery.Result?
    var firstFailure: (ChannelError, ChannelConfig)?
    var deferral: Deferral?
    /// Refused for quota, to try on the fallback channel.
    var handover: [String] = []
    var handoverCooldown: CooldownRecord?
  }

  public func deliver(_ envelope: Envelope, messageID: String?, via channel: ChannelConfig) throws(Failure) -> Outcome {
    let deadline = clock.now() + options.maxWait
    var progress = Progress()
    var fallbackName: String?
    do throws(LedgerError) {
      try run(
        channel, recipients: envelope.recipients, sender: envelope.sender, messageID: messageID, deadline: deadline,
        mayHandOver: true, progress: &progress)
      if !progress.handover.isEmpty, let cooldown = progress.handoverCooldown {
        let recipients = progress.handover
        progress.handover = []
        if let other = fallback(channel) {
          fallbackName = other.name
          events(
            .handover(
              "channel \(channel.name) is out of quota until \(ThrottleTime.describe(cooldown.until, now: clock.now()))"
                + (cooldown.reply.map { " (\($0))" } ?? "")
                + ": handing \(recipients.count) recipient(s) to its fallback channel \(other.name)"))
          try run(
            other, recipients: recipients, sender: envelope.sender, messageID: messageID, deadline: deadline,
            mayHandOver: false, progress: &progress)
        } else {
          postpone(recipients, channel: channel.name, cooldown: cooldown, progress: &progress)
        }
      }
    } catch {
      throw .ledger(error)
    }
    let report = DeliveryReport(
      recipients: envelope.recipients.compactMap { progress.results[$0] }, transactions: progress.transactions)
    if report.acceptedCount == 0 && !report.recipients.contains(where: { $0.outcome == .uncertain }) {
      if let (error, failed) = progress.firstFailure { throw .channel(error, failed) }
      if let deferral = progress.deferral { throw .deferred(deferral) }
    }
    return Outcome(
      report: report, destination: progress.last?.destination, tls: progress.last?.tls, fallbackChannel: fallbackName,
      deferral: progress.deferral)
  }

  /// Sends `recipients` through `channel`, chunk by chunk, until done, deferred or failed.
  private func run(
    _ channel: ChannelConfig, recipients: [String], sender: String, messageID: String?, deadline: Double,
    mayHandOver: Bool, progress: inout Progress
  ) throws(LedgerError) {
    let limits = options.ridesOpenSession ? channel.limits.forOpenSession : channel.limits
    var pending = Self.chunks(recipients, size: limits.chunkSize)
    var rounds = 0
    // Our place in the channel's queue while we wait; given back whatever ends the wait. A failure
    // to give it back costs nothing lasting: the row is released once this process has exited.
    var ticket: Int64?
    defer { if let ticket { try? gate.withdraw(ticket: ticket) } }
    while let chunk = pending.first {
      rounds += 1
      guard rounds <= Self.maximumRounds else {
        postpone(
          pending.flatMap { $0 }, channel: channel.name, until: clock.now(), reason: "too many attempts",
          outcome: .rateThrottle, reply: nil, progress: &progress)
        return
      }
      let reservation = try gate.reserve(
        channel: channel.name, limits: limits, recipients: chunk.count, messageID: messageID, ticket: ticket)
      switch reservation {
      case .cooldown(let cooldown):
        if cooldown.reason == .quota && cooldown.until > deadline {
          if mayHandOver && channel.fallback != nil {
            progress.handover += pending.flatMap { $0 }
            progress.handoverCooldown = cooldown
          } else {
            postpone(pending.flatMap { $0 }, channel: channel.name, cooldown: cooldown, progress: &progress)
          }
          return
        }
        guard wait(until: cooldown.until, deadline: deadline, channel: channel.name, reason: Self.describe(cooldown))
        else {
          postpone(pending.flatMap { $0 }, channel: channel.name, cooldown: cooldown, progress: &progress)
          return
        }
      case .wait(let until, let reason, let place):
        ticket = place
        guard wait(until: until, deadline: deadline, channel: channel.name, reason: reason) else {
          postpone(
            pending.flatMap { $0 }, channel: channel.name, until: until, reason: reason, outcome: .rateThrottle,
            reply: nil, progress: &progress)
          return
        }
      case .granted(let grant):
        ticket = nil
        let attempts = attempt(chunk, sender: sender, via: channel, progress: &progress)
        let answeredAt = clock.now()
        if let cooldown = try gate.settle(
          grant, limits: limits, attempts: attempts, messageID: messageID, answeredAt: answeredAt)
        {
          events(.cooldown(Self.describe(cooldown, channel: channel.name, now: clock.now())))
        }
        pending.removeFirst()
        let again = attempts.filter { $0.outcome.channelAction != .none }.map(\.recipient)
        if !again.isEmpty { pending.insert(again, at: 0) }
        if let (error, _) = progress.firstFailure, !pending.isEmpty {
          // The channel itself failed (refused login, network down): the other chunks would
          // fail alike, so they share the outcome instead of trying.
          for address in pending.joined() {
            progress.results[address] = RecipientResult(address: address, reply: error.reply, outcome: error.outcome)
          }
          return
        }
      }
    }
  }

  /// One transaction: its per-recipient results, also stored in `progress`.
  private func attempt(_ chunk: [String], sender: String, via channel: ChannelConfig, progress: inout Progress)
    -> [ThrottleGate.Attempt]
  {
    do throws(ChannelError) {
      let result = try transport(channel, Envelope(sender: sender, recipients: chunk))
      progress.last = result
      progress.transactions += result.report.transactions
      for recipient in result.report.recipients { progress.results[recipient.address] = recipient }
      return result.report.recipients.map {
        ThrottleGate.Attempt(recipient: $0.address, outcome: $0.outcome, reply: $0.reply?.description)
      }
    } catch {
      let outcome = error.outcome
      if outcome.channelAction == .none && progress.firstFailure == nil { progress.firstFailure = (error, channel) }
      for address in chunk {
        progress.results[address] = RecipientResult(address: address, reply: error.reply, outcome: outcome)
      }
      return chunk.map {
        ThrottleGate.Attempt(recipient: $0, outcome: outcome, reply: error.reply?.description ?? error.description)
      }
    }
  }

  /// Sleeps until `until` in steps of at most a second (the countdown's ticks). False, without
  /// sleeping, when `until` lies beyond the deadline: waiting would be in vain.
  private func wait(until: Double, deadline: Double, channel: String, reason: String) -> Bool {
    guard until <= deadline else { return false }
    while true {
      let remaining = until - clock.now()
      guard remaining > 0 else { break }
      events(.waiting(channel: channel, until: until, remaining: remaining, reason: reason))
      clock.sleep(seconds: min(1, remaining))
    }
    events(.waited)
    return true
  }

  private func postpone(
    _ recipients: [String], channel: String, cooldown: CooldownRecord, progress: inout Progress
  ) {
    postpone(
      recipients, channel: channel, until: cooldown.until, reason: Self.describe(cooldown),
      outcome: cooldown.reason == .quota ? .quotaExhausted : .rateThrottle, reply: cooldown.reply, progress: &progress)
  }

  private func postpone(
    _ recipients: [String], channel: String, until: Double, reason: String, outcome: OutcomeClass, reply: String?,
    progress: inout Progress
  ) {
    let parsed = reply.flatMap(Self.reply(from:))
    for address in recipients {
      progress.results[address] = RecipientResult(address: address, reply: parsed, outcome: outcome)
    }
    progress.deferral = Deferral(channel: channel, until: until, reason: reason, outcome: outcome, reply: reply)
  }

  /// `count` recipients per chunk, in envelope order; one chunk when there is no limit.
  static func chunks(_ recipients: [String], size: Int?) -> [[String]] {
    guard let size, size > 0, recipients.count > size else { return recipients.isEmpty ? [] : [recipients] }
    return stride(from: 0, to: recipients.count, by: size).map {
      Array(recipients[$0..<min($0 + size, recipients.count)])
    }
  }

  static func describe(_ cooldown: CooldownRecord) -> String {
    cooldown.reason == .quota ? "paused: out of quota" : "paused: the server throttled us"
  }

  static func describe(_ cooldown: CooldownRecord, channel: String, now: Double) -> String {
    let reply = cooldown.reply.map { ": \($0)" } ?? ""
    switch cooldown.reason {
    case .quota:
      return
        "channel \(channel) is out of quota\(reply); paused until \(ThrottleTime.describe(cooldown.until, now: now))"
    case .throttle:
      return "channel \(channel) was throttled\(reply); backing off \(DurationText.format(cooldown.backoffSeconds))"
        + " until \(ThrottleTime.describe(cooldown.until, now: now))"
    }
  }

  /// A reply kept as text ("554 5.2.0 ...") back as a reply, for per-recipient reports.
  static func reply(from text: String) -> SMTPReply? {
    guard text.count >= 3, let code = Int(text.prefix(3)), (200..<600).contains(code) else { return nil }
    return SMTPReply(code: code, lines: [String(text.dropFirst(4))])
  }
}

extension ChannelError {
  /// The server's reply behind the failure, if a reply caused it.
  var reply: SMTPReply? {
    if case .session(let error) = self { return error.reply }
    return nil
  }
}
