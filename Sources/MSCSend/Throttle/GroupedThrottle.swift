/// The throttle for a run that sends many messages over open sessions (flush, batch): the same
/// gate, rules and ledger as `send`, with the per-message cost taken out where it buys nothing.
///
/// - Limits that count (windows, batches): every reservation and settlement goes to the gate at
///   once, in its own transaction, exactly as for `send` (such channels are slow by nature, and
///   other processes must see each slot taken).
/// - No counted limit (none at all, or only `connections`, which the session's slot covers): a
///   reservation needs only the channel's cooldown, read from the ledger at most every
///   `cooldownRefresh` seconds and after each grouped commit, so a pause set by another process
///   is seen within that time; settlements are buffered and written by `write(in:)` inside the
///   run's grouped commit.
/// - A reply that pauses the channel (quota, throttle) is settled at once, with everything
///   buffered before it, so that the cooldown it sets is in the ledger before the next reservation.
public final class GroupedThrottle: ThrottleSlots {
  public let gate: ThrottleGate
  let clock: ThrottleClock
  private var buffered: [Settlement] = []
  private var cooldowns: [String: (record: CooldownRecord?, readAt: Double)] = [:]
  private var nextGrant: Int64 = 0

  public static let cooldownRefresh = 0.25

  struct Settlement {
    var grant: ThrottleGate.Grant
    var limits: ChannelLimits
    var attempts: [ThrottleGate.Attempt]
    var messageID: String?
    var answeredAt: Double?
  }

  public init(gate: ThrottleGate, clock: ThrottleClock = SystemThrottleClock()) {
    self.gate = gate
    self.clock = clock
  }

  public var hasBufferedSettlements: Bool { !buffered.isEmpty }

  public func reserve(
    channel: String, limits: ChannelLimits, recipients: Int, messageID: String?, ticket: Int64?
  ) throws(LedgerError) -> ThrottleGate.Reservation {
    if limits.isCounted {
      return try gate.reserve(
        channel: channel, limits: limits, recipients: recipients, messageID: messageID, ticket: ticket)
    }
    let now = clock.now()
    if let cooldown = try cooldown(channel: channel, now: now), cooldown.until > now { return .cooldown(cooldown) }
    // No row is written for it, so its id only needs to differ from this run's others.
    nextGrant += 1
    return .granted(
      ThrottleGate.Grant(id: nextGrant, channel: channel, grantedAt: now, recipients: recipients, counted: false))
  }

  public func settle(
    _ grant: ThrottleGate.Grant, limits: ChannelLimits, attempts: [ThrottleGate.Attempt], messageID: String?,
    answeredAt: Double?
  ) throws(LedgerError) -> CooldownRecord? {
    let settlement = Settlement(
      grant: grant, limits: limits, attempts: attempts, messageID: messageID, answeredAt: answeredAt)
    let pauses = attempts.contains { $0.outcome.channelAction != .none }
    guard grant.counted || pauses else {
      buffered.append(settlement)
      return nil
    }
    let pending = buffered
    buffered = []
    let cooldown = try gate.ledger.transaction { (transaction) throws(LedgerError) -> CooldownRecord? in
      for earlier in pending { try write(earlier, in: transaction) }
      return try write(settlement, in: transaction)
    }
    cooldowns[grant.channel] = (cooldown, clock.now())
    return cooldown
  }

  public func withdraw(ticket: Int64) throws(LedgerError) {
    try gate.withdraw(ticket: ticket)
  }

  /// Writes the buffered settlements inside the run's grouped commit, and reads the channels'
  /// cooldowns again there.
  public func write(in transaction: ThrottleLedger.Transaction) throws(LedgerError) {
    let pending = buffered
    buffered = []
    try gate.settleUncounted(
      pending.map { ($0.grant, $0.attempts, $0.messageID, $0.answeredAt ?? clock.now()) }, in: transaction)
    let now = clock.now()
    for channel in cooldowns.keys { cooldowns[channel] = (try transaction.cooldown(channel: channel), now) }
  }

  @discardableResult
  private func write(_ settlement: Settlement, in transaction: ThrottleLedger.Transaction) throws(LedgerError)
    -> CooldownRecord?
  {
    try gate.settle(
      settlement.grant, limits: settlement.limits, attempts: settlement.attempts, messageID: settlement.messageID,
      answeredAt: settlement.answeredAt, in: transaction)
  }

  private func cooldown(channel: String, now: Double) throws(LedgerError) -> CooldownRecord? {
    if let cached = cooldowns[channel], now - cached.readAt < Self.cooldownRefresh { return cached.record }
    let record = try gate.cooldown(channel: channel)
    cooldowns[channel] = (record, now)
    return record
  }
}
