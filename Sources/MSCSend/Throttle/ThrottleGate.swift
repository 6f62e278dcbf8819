/// The Throttle folder owns provider limits (profiles, `limits`, windows, batches, cooldowns) and
/// their enforcement across processes through the ledger. `ThrottleGate` is where a transaction
/// asks for its slots and reports back; `ThrottledDelivery` drives a whole message through it.
///
/// Reservation algorithm (one `BEGIN IMMEDIATE` transaction, so that processes queue for the
/// ledger's write lock and each sees the others' rows):
/// 1. a cooldown still running answers `.cooldown`;
/// 2. `ThrottlePlanner.decide` over the channel's rows that may still count; on a wait, release the
///    rows of dead processes (pid + start time) or of any older than `staleAfter`, and decide again;
/// 3. granted: insert one row per kind (message, recipients, connection) as `reserved`;
///    waiting: queue as `waiting` rows (once), so that later waiters know they are behind.
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
    /// Whether rows were written for it (limits that count); settling one without rows only
    /// records outcomes and cooldowns.
    public var counted = true
  }

  public enum Reservation: Sendable, Equatable {
    case granted(Grant)
    /// A limit is reached; nothing frees before `until` for this request, given the requests
    /// queued before it. Ask again then with `ticket`, which keeps this place in the queue.
    case wait(until: Double, reason: String, ticket: Int64)
    /// The channel is paused (quota or throttle reply).
    case cooldown(CooldownRecord)
  }

  /// Asks for one transaction of `recipients` recipients on `channel`. `ticket` is the one a
  /// previous `.wait` gave (nil the first time).
  public func reserve(
    channel: String, limits: ChannelLimits, recipients: Int, messageID: String? = nil, ticket: Int64? = nil
  ) throws(LedgerError) -> Reservation {
    let now = clock.now()
    return try ledger.transaction { (transaction) throws(LedgerError) -> Reservation in
      if let cooldown = try transaction.cooldown(channel: channel), cooldown.until > now {
        return .cooldown(cooldown)
      }
      let id = ticket ?? Int64.random(in: 1...Int64.max)
      let grant = Grant(id: id, channel: channel, grantedAt: now, recipients: recipients)
      guard limits.isCounted else { return .granted(with(grant) { $0.counted = false }) }
      let horizon = limits.horizon
      try transaction.prune(
        channel: channel, usedBefore: now - max(2 * horizon, Self.retention), releasedBefore: now - 3600)
      var entries = try transaction.liveEntries(channel: channel, since: now - horizon)
      var decision = ThrottlePlanner.decide(
        limits: limits, entries: entries, recipients: recipients, now: now, ahead: Self.queued(before: id, in: entries))
      // Dead processes are looked for only when they could matter: a wait. Reading /proc for
      // every open row on every grant would cost the most exactly when many processes queue.
      if case .wait = decision, try releaseAbandoned(transaction, now: now) {
        entries = try transaction.liveEntries(channel: channel, since: now - horizon)
        decision = ThrottlePlanner.decide(
          limits: limits, entries: entries, recipients: recipients, now: now,
          ahead: Self.queued(before: id, in: entries))
      }
      let row = LedgerEntry(
        grant: id, channel: channel, kind: .message, count: 1, at: now, process: process, messageID: messageID)
      switch decision {
      case .wait(let until, let reason):
        if !entries.contains(where: { $0.grant == id && $0.state == .waiting }) {
          try transaction.insert(with(row) { $0.state = .waiting })
          try transaction.insert(
            with(row) {
              $0.state = .waiting
              $0.kind = .recipients
              $0.count = recipients
            })
        }
        return .wait(until: until, reason: reason, ticket: id)
      case .granted(let batchStart):
        try transaction.removeWaiting(grant: id)
        try transaction.insert(with(row) { $0.batchStart = batchStart })
        try transaction.insert(
          with(row) {
            $0.kind = .recipients
            $0.count = recipients
          })
        if limits.connections != nil { try transaction.insert(with(row) { $0.kind = .connection }) }
        return .granted(grant)
      }
    }
  }

  /// Leaves the queue (the caller gives up waiting).
  public func withdraw(ticket: Int64) throws(LedgerError) {
    try ledger.transaction { (transaction) throws(LedgerError) in try transaction.removeWaiting(grant: ticket) }
  }

  /// What the processes queued before `ticket` wait for: messages and recipients.
  static func queued(before ticket: Int64, in entries: [LedgerEntry]) -> [LedgerEntryKind: Int] {
    let mine = entries.first { $0.grant == ticket && $0.state == .waiting }
    var ahead: [LedgerEntryKind: Int] = [:]
    for entry in entries where entry.state == .waiting && entry.grant != ticket {
      if let mine, (entry.at, entry.id) >= (mine.at, mine.id) { continue }
      ahead[entry.kind, default: 0] += entry.count
    }
    return ahead
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
  /// `answeredAt` is when the session ended (the server had answered by then); it is what the
  /// windows count from, rather than the moment this call gets the ledger's write lock, which may
  /// come later when many processes queue for it.
  @discardableResult
  public func settle(
    _ grant: Grant, limits: ChannelLimits, attempts: [Attempt], messageID: String? = nil, answeredAt: Double? = nil
  ) throws(LedgerError) -> CooldownRecord? {
    try ledger.transaction { (transaction) throws(LedgerError) -> CooldownRecord? in
      try settle(
        grant, limits: limits, attempts: attempts, messageID: messageID, answeredAt: answeredAt, in: transaction)
    }
  }

  /// `settle` inside the caller's transaction, so that a run sending many messages writes the
  /// settlements of a whole group, with the queue's outcomes, in one commit.
  @discardableResult
  public func settle(
    _ grant: Grant, limits: ChannelLimits, attempts: [Attempt], messageID: String?, answeredAt: Double?,
    in transaction: ThrottleLedger.Transaction
  ) throws(LedgerError) -> CooldownRecord? {
    let now = answeredAt ?? clock.now()
    let delivered = attempts.filter { $0.outcome == .accepted || $0.outcome == .uncertain }.count
    if grant.counted {
      try transaction.settle(
        grant: grant.id, at: now, counts: delivered > 0 ? [.message: 1, .recipients: delivered] : [:])
    }
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

  /// Every limit of `channel` as it stands at `now` (the clock's when nil).
  public func usage(channel: String, limits: ChannelLimits, at time: Double? = nil) throws(LedgerError)
    -> [ThrottlePlanner.Usage]
  {
    let now = time ?? clock.now()
    return try ledger.transaction { (transaction) throws(LedgerError) -> [ThrottlePlanner.Usage] in
      _ = try releaseAbandoned(transaction, now: now)
      let entries = try transaction.liveEntries(channel: channel, since: now - limits.horizon)
      return ThrottlePlanner.usage(limits: limits, entries: entries, now: now)
    }
  }

  /// Releases the reservations (and places in the queue) of processes that died or hung for
  /// hours: their slots would otherwise stay taken until the window passed, and a dead process's
  /// connection forever. Returns whether there were any.
  func releaseAbandoned(_ transaction: ThrottleLedger.Transaction, now: Double) throws(LedgerError) -> Bool {
    var verdicts: [ProcessIdentity: Bool] = [:]
    let abandoned = try transaction.openEntries().filter { entry in
      if now - entry.at > Self.staleAfter { return true }
      if entry.process == process { return false }
      if let alive = verdicts[entry.process] { return !alive }
      let alive = isAlive(entry.process)
      verdicts[entry.process] = alive
      return !alive
    }
    try transaction.release(ids: abandoned.map(\.id))
    return !abandoned.isEmpty
  }
}

/// A copy of `value` changed by `change`.
func with<T>(_ value: T, _ change: (inout T) -> Void) -> T {
  var copy = value
  change(&copy)
  return copy
}
