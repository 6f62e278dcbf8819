/// The Throttle folder owns provider limits (profiles, `limits`, windows, batches, cooldowns) and
/// their enforcement across processes through the ledger. `ThrottleGate` is where a transaction
/// asks for its slots and reports back; `ThrottledDelivery` drives a whole message through it.
///
/// Reservation algorithm (one `BEGIN IMMEDIATE` transaction, so that processes queue for the
/// ledger's write lock and each sees the others' rows):
/// 1. release `reserved` rows of dead processes (pid + start time) or older than `staleAfter`;
/// 2. a cooldown still running answers `.cooldown`;
/// 3. `ThrottlePlanner.decide` over the channel's rows that may still count;
/// 4. granted: insert one row per kind (message, recipients, connection) as `reserved`.
/// After the attempt `settle` turns them `used` (counted from the server's answer) or `released`
/// (nothing delivered), records each recipient's outcome, and sets or clears the cooldown.
public final class ThrottleGate {
  public let ledger: ThrottleLedger
  let clock: ThrottleClock
  let process: ProcessIdentity
  let isAlive: @Sendable (ProcessIdentity) -> Bool

  /// A reservation still open after this long belongs to a hung or lost process: a session is
  /// bounded by its timeouts (minutes), so three hours is generous.
  public static let staleAfter = 3.0 * 3600
  /// Used rows are kept this much beyond the longest window (for `quota`), at least two days.
  static let retention = 2.0 * 86_400

  public init(
    ledger: ThrottleLedger, clock: ThrottleClock = SystemThrottleClock(), process: ProcessIdentity = .current,
    isAlive: @escaping @Sendable (ProcessIdentity) -> Bool = ProcessIdentity.isAlive
  ) {
    self.ledger = ledger
    self.clock = clock
    self.process = process
    self.isAlive = isAlive
  }

  /// Slots held for one transaction.
  public struct Grant: Sendable, Equatable {
    public var id: Int64
    public var channel: String
    public var grantedAt: Double
    public var recipients: Int
  }

  public enum Reservation: Sendable, Equatable {
    case granted(Grant)
    /// A limit is reached; nothing frees before `until`.
    case wait(until: Double, reason: String)
    /// The channel is paused (quota or throttle reply).
    case cooldown(CooldownRecord)
  }

  /// Asks for one transaction of `recipients` recipients on `channel`.
  public func reserve(channel: String, limits: ChannelLimits, recipients: Int, messageID: String? = nil)
    throws(LedgerError) -> Reservation
  {
    let now = clock.now()
    return try ledger.transaction { (transaction) throws(LedgerError) -> Reservation in
      try releaseAbandoned(transaction, now: now)
      if let cooldown = try transaction.cooldown(channel: channel), cooldown.until > now {
        return .cooldown(cooldown)
      }
      let grant = Grant(id: Int64.random(in: 1...Int64.max), channel: channel, grantedAt: now, recipients: recipients)
      guard limits.isCounted else { return .granted(grant) }
      let horizon = limits.horizon
      try transaction.prune(
        channel: channel, usedBefore: now - max(2 * horizon, Self.retention), releasedBefore: now - 3600)
      let entries = try transaction.liveEntries(channel: channel, since: now - horizon)
      switch ThrottlePlanner.decide(limits: limits, entries: entries, recipients: recipients, now: now) {
      case .wait(let until, let reason):
        return .wait(until: until, reason: reason)
      case .granted(let batchStart):
        let row = LedgerEntry(
          grant: grant.id, channel: channel, kind: .message, count: 1, at: now, batchStart: batchStart,
          process: process, messageID: messageID)
        try transaction.insert(row)
        try transaction.insert(
          with(row) {
            $0.kind = .recipients
            $0.count = recipients
            $0.batchStart = nil
          })
        if limits.connections != nil {
          try transaction.insert(
            with(row) {
              $0.kind = .connection
              $0.batchStart = nil
            })
        }
        return .granted(grant)
      }
    }
  }

  /// What became of one recipient in an attempt.
  public struct Attempt: Sendable, Equatable {
    public var recipient: String
    public var outcome: OutcomeClass
    public var reply: String?

    public init(recipient: String, outcome: OutcomeClass, reply: String?) {
      self.recipient = recipient
      self.outcome = outcome
      self.reply = reply
    }
  }

  /// Reports the attempt made with `grant`: accepted recipients (and uncertain ones: they may
  /// have been delivered) are counted from now; the rest give their slots back. Quota and throttle
  /// replies pause the channel for every process; a success after an older throttle lifts it.
  /// Returns the cooldown this attempt set, if any.
  @discardableResult
  public func settle(_ grant: Grant, limits: ChannelLimits, attempts: [Attempt], messageID: String? = nil)
    throws(LedgerError) -> CooldownRecord?
  {
    let now = clock.now()
    return try ledger.transaction { (transaction) throws(LedgerError) -> CooldownRecord? in
      let delivered = attempts.filter { $0.outcome == .accepted || $0.outcome == .uncertain }.count
      try transaction.settle(
        grant: grant.id, at: now, counts: delivered > 0 ? [.message: 1, .recipients: delivered] : [:])
      for attempt in attempts {
        try transaction.record(
          OutcomeRecord(
            messageID: messageID, channel: grant.channel, recipient: attempt.recipient, outcome: attempt.outcome,
            reply: attempt.reply, at: now))
      }
      let existing = try transaction.cooldown(channel: grant.channel)
      if let quota = attempts.first(where: { $0.outcome.channelAction == .pauseForQuota }) {
        let entries = try transaction.liveEntries(channel: grant.channel, since: now - limits.quotaWindow.seconds)
        var until = Self.quotaPauseEnd(limits: limits, entries: entries, now: now)
        if let existing, existing.until > until { until = existing.until }
        let record = CooldownRecord(
          channel: grant.channel, until: until, reason: .quota, reply: quota.reply,
          backoffSeconds: existing?.backoffSeconds ?? 0, setAt: now)
        try transaction.setCooldown(record)
        return record
      }
      if let throttle = attempts.first(where: { $0.outcome.channelAction == .backOff }) {
        // Double only when the last throttle came before this attempt: then this attempt was
        // the retry after its backoff, and it failed too. Processes throttled in the same burst
        // share one step. A throttle long past (no success since, but no trouble either) is
        // forgotten.
        var backoff = limits.backoff
        let forgotten = limits.backoff * ChannelLimits.backoffGrowthLimit * 2
        if let existing, existing.backoffSeconds > 0, now - existing.setAt < forgotten {
          backoff =
            existing.setAt < grant.grantedAt
            ? min(existing.backoffSeconds * 2, limits.backoff * ChannelLimits.backoffGrowthLimit)
            : max(existing.backoffSeconds, backoff)
        }
        if let existing, existing.reason == .quota, existing.until > now + backoff { return nil }
        let record = CooldownRecord(
          channel: grant.channel, until: max(now + backoff, existing?.until ?? 0), reason: .throttle,
          reply: throttle.reply, backoffSeconds: backoff, setAt: now)
        try transaction.setCooldown(record)
        return record
      }
      if delivered > 0, let existing, existing.reason == .throttle, existing.setAt < grant.grantedAt {
        try transaction.clearCooldown(channel: grant.channel)
      }
      return nil
    }
  }

  /// A quota reply pauses the channel until its longest window frees a slot: when the oldest row
  /// this ledger counted there leaves it, or a whole window from now when it counted none (the
  /// quota went to mail sent elsewhere, e.g. from the mailbox's web interface). Never sooner than
  /// the first backoff, so that a provider still refusing is not asked again at once.
  static func quotaPauseEnd(limits: ChannelLimits, entries: [LedgerEntry], now: Double) -> Double {
    let (kind, seconds) = limits.quotaWindow
    let counted = entries.filter { $0.kind == kind && $0.state == .used && $0.at + seconds > now }
    let end = counted.map { $0.at + seconds }.min() ?? now + seconds
    return max(end, now + limits.backoff)
  }

  /// The channel's cooldown, running or not (for `quota`).
  public func cooldown(channel: String) throws(LedgerError) -> CooldownRecord? {
    try ledger.transaction { (transaction) throws(LedgerError) in try transaction.cooldown(channel: channel) }
  }

  /// Lifts a cooldown by hand (`quota --clear-cooldown`).
  public func clearCooldown(channel: String) throws(LedgerError) {
    try ledger.transaction { (transaction) throws(LedgerError) in try transaction.clearCooldown(channel: channel) }
  }

  /// Every limit of `channel` as it stands now.
  public func usage(channel: String, limits: ChannelLimits) throws(LedgerError) -> [ThrottlePlanner.Usage] {
    let now = clock.now()
    return try ledger.transaction { (transaction) throws(LedgerError) -> [ThrottlePlanner.Usage] in
      try releaseAbandoned(transaction, now: now)
      let entries = try transaction.liveEntries(channel: channel, since: now - limits.horizon)
      return ThrottlePlanner.usage(limits: limits, entries: entries, now: now)
    }
  }

  /// Releases the reservations of processes that died (or hung for hours): their slots would
  /// otherwise stay taken until the window passed, and a dead process's connection forever.
  private func releaseAbandoned(_ transaction: ThrottleLedger.Transaction, now: Double) throws(LedgerError) {
    let abandoned = try transaction.reservedEntries().filter { entry in
      now - entry.at > Self.staleAfter || (entry.process != process && !isAlive(entry.process))
    }
    try transaction.release(ids: abandoned.map(\.id))
  }
}

/// A copy of `value` changed by `change`.
func with<T>(_ value: T, _ change: (inout T) -> Void) -> T {
  var copy = value
  change(&copy)
  return copy
}
