/// The queue's rows in the ledger: messages waiting, being sent (leased), and what became of
/// them. Every state change that reads before it writes runs in one `BEGIN IMMEDIATE` transaction,
/// so that processes sharing the ledger (two flushes, a batch, cron's sendmail) never claim the
/// same message. Outcomes are written by the caller in groups (`complete(_:in:)` inside one
/// transaction for many messages), never one commit per message.
public final class MessageQueue {
  public let ledger: ThrottleLedger
  let clock: ThrottleClock
  public let process: ProcessIdentity
  let isAlive: @Sendable (ProcessIdentity) -> Bool

  /// How long a claim holds before others may take the message back from a process that stopped
  /// renewing it; holders renew well before (every group commit, every second of a wait).
  public static let leaseSeconds = 1800.0

  public init(
    ledger: ThrottleLedger, clock: ThrottleClock = SystemThrottleClock(), process: ProcessIdentity = .current,
    isAlive: @escaping @Sendable (ProcessIdentity) -> Bool = ProcessIdentity.isAlive
  ) {
    self.ledger = ledger
    self.clock = clock
    self.process = process
    self.isAlive = isAlive
  }

  var database: SQLiteDatabase { ledger.database }

  // MARK: Enqueueing

  /// Queues one message; the commit is on disk before this returns (it may be the promise behind
  /// an exit 75). `leased`: the caller attempts it at once, holding its lease from the start.
  public func enqueue(_ message: NewMessage, leased: Bool) throws(LedgerError) -> Int64 {
    let now = clock.now()
    return try ledger.durableTransaction { (transaction) throws(LedgerError) -> Int64 in
      guard let id = try insert(message, leased: leased, now: now, in: transaction.database) else {
        throw LedgerError(path: ledger.path, message: "the message \(message.idempotencyKey ?? "") is already queued")
      }
      return id
    }
  }

  /// Queues a whole batch in one durable transaction. A message whose idempotency key is already
  /// in the queue (another run queued it) is skipped: nil in its place.
  public func enqueue(batch messages: [NewMessage]) throws(LedgerError) -> [Int64?] {
    let now = clock.now()
    return try ledger.durableTransaction { (transaction) throws(LedgerError) -> [Int64?] in
      var ids: [Int64?] = []
      ids.reserveCapacity(messages.count)
      for message in messages { ids.append(try insert(message, leased: false, now: now, in: transaction.database)) }
      return ids
    }
  }

  private func insert(_ message: NewMessage, leased: Bool, now: Double, in database: SQLiteDatabase)
    throws(LedgerError) -> Int64?
  {
    let rows = try database.query(
      """
      INSERT INTO messages (message_id, channel, sender, spool_path, spool_offset, size, eight_bit, smtputf8, state,
        lease_until, lease_pid, lease_start, next_attempt, created, updated, campaign, template, idempotency_key)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (idempotency_key) DO NOTHING RETURNING id
      """,
      [
        .text(message.messageID), .text(message.channel), .text(message.sender), .text(message.spool.path),
        .integer(Int64(message.spool.offset)), .integer(Int64(message.spool.size)),
        .integer(message.eightBit ? 1 : 0), .integer(message.smtpUTF8 ? 1 : 0),
        .text(leased ? MessageState.sending.rawValue : MessageState.queued.rawValue),
        leased ? .real(now + Self.leaseSeconds) : .null, leased ? .integer(Int64(process.pid)) : .null,
        leased ? .integer(process.startTime) : .null, .real(now), .real(now), .real(now),
        Self.optional(message.campaign), Self.optional(message.template), Self.optional(message.idempotencyKey),
      ])
    guard let id = rows.first?.first?.integer else { return nil }
    for (position, recipient) in message.recipients.enumerated() {
      try database.query(
        "INSERT INTO message_recipients (message_rowid, recipient, position, state) VALUES (?, ?, ?, 'pending')",
        [.integer(id), .text(recipient), .integer(Int64(position))])
    }
    return id
  }

  /// The idempotency keys already queued for `campaign` (in any state): a batch re-run skips them.
  public func keys(campaign: String) throws(LedgerError) -> Set<String> {
    let rows = try database.query(
      "SELECT idempotency_key FROM messages WHERE campaign = ? AND idempotency_key IS NOT NULL", [.text(campaign)])
    return Set(rows.compactMap { $0.first?.text })
  }

  // MARK: Claiming

  /// Which waiting messages a run takes: due ones of a channel (and campaign), not touched since
  /// the run began (so that a message the run itself deferred is not taken again at once).
  public struct ClaimFilter: Sendable, Equatable {
    public var channel: String
    public var dueBefore: Double
    public var untouchedSince: Double
    public var campaign: String?

    public init(channel: String, dueBefore: Double, untouchedSince: Double, campaign: String? = nil) {
      self.channel = channel
      self.dueBefore = dueBefore
      self.untouchedSince = untouchedSince
      self.campaign = campaign
    }
  }

  /// Leases up to `limit` due messages to this process in one transaction, oldest due first.
  public func claim(_ filter: ClaimFilter, limit: Int) throws(LedgerError) -> [QueuedMessage] {
    let now = clock.now()
    return try ledger.transaction { (transaction) throws(LedgerError) -> [QueuedMessage] in
      let rows = try transaction.database.query(
        """
        UPDATE messages SET state = 'sending', lease_until = ?, lease_pid = ?, lease_start = ?, updated = ?
        WHERE id IN (
          SELECT id FROM messages WHERE channel = ? AND state IN ('queued', 'deferred') AND next_attempt <= ?
            AND updated <= ? AND (? IS NULL OR campaign = ?)
          ORDER BY next_attempt, id LIMIT ?)
        RETURNING \(Self.columns)
        """,
        [
          .real(now + Self.leaseSeconds), .integer(Int64(process.pid)), .integer(process.startTime), .real(now),
          .text(filter.channel), .real(filter.dueBefore), .real(filter.untouchedSince),
          Self.optional(filter.campaign), Self.optional(filter.campaign), .integer(Int64(limit)),
        ])
      return try Self.messages(rows, database: transaction.database).sorted {
        ($0.nextAttempt, $0.id) < ($1.nextAttempt, $1.id)
      }
    }
  }

  /// Channels with due messages, and how many.
  public func dueChannels(dueBefore: Double, untouchedSince: Double, campaign: String? = nil) throws(LedgerError)
    -> [String: Int]
  {
    let rows = try database.query(
      """
      SELECT channel, count(*) FROM messages WHERE state IN ('queued', 'deferred') AND next_attempt <= ?
        AND updated <= ? AND (? IS NULL OR campaign = ?) GROUP BY channel
      """, [.real(dueBefore), .real(untouchedSince), Self.optional(campaign), Self.optional(campaign)])
    var result: [String: Int] = [:]
    for row in rows { if let channel = row[0].text, let count = row[1].integer { result[channel] = Int(count) } }
    return result
  }

  /// Extends this process's leases (long waits for a slot, long runs).
  public func renewLeases() throws(LedgerError) {
    try ledger.transaction { (transaction) throws(LedgerError) in try renewLeases(in: transaction.database) }
  }

  func renewLeases(in database: SQLiteDatabase) throws(LedgerError) {
    try database.query(
      "UPDATE messages SET lease_until = ? WHERE state = 'sending' AND lease_pid = ? AND lease_start = ?",
      [.real(clock.now() + Self.leaseSeconds), .integer(Int64(process.pid)), .integer(process.startTime)])
  }

  /// Gives claimed messages back untried (the run's time is up): they wait as before.
  public func release(_ ids: [Int64]) throws(LedgerError) {
    guard !ids.isEmpty else { return }
    let now = clock.now()
    try ledger.transaction { (transaction) throws(LedgerError) in
      for id in ids {
        try transaction.database.query(
          """
          UPDATE messages SET state = CASE WHEN attempts = 0 THEN 'queued' ELSE 'deferred' END, lease_until = NULL,
            lease_pid = NULL, lease_start = NULL, updated = ?
          WHERE id = ? AND state = 'sending' AND lease_pid = ? AND lease_start = ?
          """, [.real(now), .integer(id), .integer(Int64(process.pid)), .integer(process.startTime)])
      }
    }
  }

  // MARK: Outcomes

  /// Writes completions inside the caller's transaction (one commit for many messages). A message
  /// whose lease `holder` no longer holds (it was taken back meanwhile) is left alone. Returns the
  /// ids written.
  @discardableResult
  func complete(_ completions: [Completion], holder: ProcessIdentity? = nil, in database: SQLiteDatabase)
    throws(LedgerError) -> [Int64]
  {
    let holder = holder ?? process
    var written: [Int64] = []
    for completion in completions {
      try database.query(
        """
        UPDATE messages SET state = ?, next_attempt = ?, attempts = attempts + ?,
          uncertain_retries = uncertain_retries + ?, last_error = coalesce(?, last_error),
          last_class = coalesce(?, last_class), lease_until = NULL, lease_pid = NULL, lease_start = NULL, updated = ?
        WHERE id = ? AND state = 'sending' AND lease_pid = ? AND lease_start = ?
        """,
        [
          .text(completion.state.rawValue), .real(completion.nextAttempt), .integer(Int64(completion.attemptsMade)),
          .integer(Int64(completion.uncertainRetriesAdded)), Self.optional(completion.lastError),
          Self.optional(completion.lastClass?.rawValue), .real(completion.at), .integer(completion.id),
          .integer(Int64(holder.pid)), .integer(holder.startTime),
        ])
      guard database.changes > 0 else { continue }
      written.append(completion.id)
      for recipient in completion.recipients {
        try database.query(
          """
          UPDATE message_recipients SET state = ?, class = ?, reply = ?, updated = ?
          WHERE message_rowid = ? AND recipient = ?
          """,
          [
            .text(recipient.state.rawValue), .text(recipient.outcome.rawValue), Self.optional(recipient.reply),
            .real(completion.at), .integer(completion.id), .text(recipient.address),
          ])
      }
    }
    return written
  }

  /// `complete` in a transaction of its own (one message: `send`).
  public func complete(_ completions: [Completion]) throws(LedgerError) {
    _ = try ledger.transaction { (transaction) throws(LedgerError) in
      try complete(completions, in: transaction.database)
    }
  }

  static func optional(_ text: String?) -> SQLiteValue { text.map { .text($0) } ?? .null }
}
