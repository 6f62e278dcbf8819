/// What `ThrottledDelivery` needs of the throttle: reserve before a transaction, settle after,
/// leave the queue when giving up. `ThrottleGate` does each in its own ledger transaction (one
/// `send`); `GroupedThrottle` lets a run of many messages on open sessions (flush, batch) skip the
/// ledger where no limit counts and write its settlements in grouped commits.
public protocol ThrottleSlots: AnyObject {
  func reserve(
    channel: String, limits: ChannelLimits, recipients: Int, messageID: String?, ticket: Int64?
  ) throws(LedgerError) -> ThrottleGate.Reservation

  func settle(
    _ grant: ThrottleGate.Grant, limits: ChannelLimits, attempts: [ThrottleGate.Attempt], messageID: String?,
    answeredAt: Double?
  ) throws(LedgerError) -> CooldownRecord?

  func withdraw(ticket: Int64) throws(LedgerError)
}

extension ThrottleGate: ThrottleSlots {}

extension ChannelLimits {
  /// The limits of one transaction on a session already open: the session holds its connection
  /// slot (`ThrottleGate.reserveConnection`), so only the windows and batches apply.
  public var forOpenSession: ChannelLimits { with(self) { $0.connections = nil } }
}

extension ThrottleGate {
  /// A connection slot for a session that will carry many transactions (flush, batch, one per
  /// worker), held until `releaseConnection`. Without a `connections` limit it is granted without
  /// a row. Waits as `reserve` does: `.wait` with the next moment to look again.
  public func reserveConnection(channel: String, limits: ChannelLimits, ticket: Int64? = nil) throws(LedgerError)
    -> Reservation
  {
    let now = clock.now()
    let id = ticket ?? Int64.random(in: 1...Int64.max)
    let grant = Grant(id: id, channel: channel, grantedAt: now, recipients: 0, counted: limits.connections != nil)
    guard let connections = limits.connections else { return .granted(grant) }
    return try ledger.transaction { (transaction) throws(LedgerError) -> Reservation in
      if let cooldown = try transaction.cooldown(channel: channel), cooldown.until > now {
        return .cooldown(cooldown)
      }
      var open = try Self.openConnections(transaction, channel: channel, since: now - limits.horizon)
      if open >= connections, try releaseAbandoned(transaction, now: now) {
        open = try Self.openConnections(transaction, channel: channel, since: now - limits.horizon)
      }
      guard open < connections else {
        let reason = "\(connections) connection\(connections == 1 ? "" : "s") in use"
        return .wait(until: now + ThrottlePlanner.pollInterval, reason: reason, ticket: id)
      }
      try transaction.insert(
        LedgerEntry(grant: id, channel: channel, kind: .connection, count: 1, at: now, process: process))
      return .granted(grant)
    }
  }

  /// Settles many grants without rows whose attempts paused nothing (`GroupedThrottle`'s buffer),
  /// with what `settle` would do for each, but each channel's cooldown read once: the outcomes are
  /// recorded, and a throttle pause is lifted when one of them succeeded after it was set.
  func settleUncounted(
    _ settlements: [(grant: Grant, attempts: [Attempt], messageID: String?, answeredAt: Double)],
    in transaction: ThrottleLedger.Transaction
  ) throws(LedgerError) {
    var latestSuccess: [String: Double] = [:]
    for settlement in settlements {
      let channel = settlement.grant.channel
      for attempt in settlement.attempts {
        try transaction.record(
          OutcomeRecord(
            messageID: settlement.messageID, channel: channel, recipient: attempt.recipient,
            outcome: attempt.outcome, reply: attempt.reply, at: settlement.answeredAt))
      }
      if settlement.attempts.contains(where: { $0.outcome == .accepted || $0.outcome == .uncertain }) {
        latestSuccess[channel] = max(latestSuccess[channel] ?? 0, settlement.grant.grantedAt)
      }
    }
    for (channel, grantedAt) in latestSuccess {
      if let existing = try transaction.cooldown(channel: channel), existing.reason == .throttle,
        existing.setAt < grantedAt
      {
        try transaction.clearCooldown(channel: channel)
      }
    }
  }

  /// Gives a session's connection slot back.
  public func releaseConnection(_ grant: Grant) throws(LedgerError) {
    guard grant.counted else { return }
    try ledger.transaction { (transaction) throws(LedgerError) in try transaction.release(grant: grant.id) }
  }

  private static func openConnections(_ transaction: ThrottleLedger.Transaction, channel: String, since: Double)
    throws(LedgerError) -> Int
  {
    ThrottlePlanner.openConnections(try transaction.liveEntries(channel: channel, since: since))
  }
}
