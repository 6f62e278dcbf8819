/// What the queue does for itself before each run: take back the leases of processes that died
/// (replaying their attempt journals), fail messages older than `max_age`, and free spool
/// segments nobody needs any more.
extension MessageQueue {
  /// What taking back leases did.
  public struct Reclaimed: Sendable, Equatable {
    /// Messages given back untried: they wait again.
    public var released: [Int64] = []
    /// Messages whose dead holder had tried them: the journal's outcomes (uncertain for a
    /// transaction in flight).
    public var completed: [Completion] = []
  }

  /// Takes back every `sending` message whose holder is dead (pid and start time), or alive but no
  /// longer renewing its lease. See `AttemptJournal` for how each message's fate is decided.
  public func reclaimAbandoned(spool: Spool, policy: RetryPolicy) throws(LedgerError) -> Reclaimed {
    let now = clock.now()
    var reclaimed = Reclaimed()
    var finished: [ProcessIdentity] = []
    try ledger.transaction { (transaction) throws(LedgerError) in
      let database = transaction.database
      let holders = try database.query(
        """
        SELECT lease_pid, lease_start, min(lease_until) FROM messages WHERE state = 'sending'
        GROUP BY lease_pid, lease_start
        """)
      for row in holders {
        guard let pid = row[0].integer, let start = row[1].integer else { continue }
        let holder = ProcessIdentity(pid: Int32(truncatingIfNeeded: pid), startTime: start)
        let expired = (row[2].real ?? 0) < now
        guard holder != process, expired || !isAlive(holder) else { continue }
        let records = AttemptJournal.replay(directory: spool.journalDirectory, process: holder)
        let rows = try database.query(
          "SELECT \(Self.columns) FROM messages WHERE state = 'sending' AND lease_pid = ? AND lease_start = ?",
          [.integer(pid), .integer(start)])
        var completions: [Completion] = []
        var untried: [Int64] = []
        for message in try Self.messages(rows, database: database) {
          guard let record = records[message.id], !record.results.isEmpty || !record.inFlight.isEmpty else {
            untried.append(message.id)
            continue
          }
          var results = record.results
          for address in record.inFlight where results[address] == nil {
            results[address] = (.uncertain, Self.lostInFlight)
          }
          completions.append(
            QueueOutcome.completion(
              for: message, result: AttemptResult(results: results, reachedChannel: true), policy: policy, now: now,
              random: Double.random(in: 0...1)))
        }
        try complete(completions, holder: holder, in: database)
        for id in untried {
          try database.query(
            """
            UPDATE messages SET state = CASE WHEN attempts = 0 THEN 'queued' ELSE 'deferred' END,
              lease_until = NULL, lease_pid = NULL, lease_start = NULL, updated = ? WHERE id = ?
            """, [.real(now), .integer(id)])
        }
        reclaimed.released += untried
        reclaimed.completed += completions
        finished.append(holder)
      }
    }
    removeJournals(of: finished, in: spool)
    return reclaimed
  }

  /// The reply recorded for a transaction whose process died while it was in flight.
  static let lostInFlight =
    "the process sending it ended while the transaction was in flight: delivered or not, unknown (RFC 1047)"

  /// Journals of the given holders, and of any dead process that holds no lease any more.
  private func removeJournals(of holders: [ProcessIdentity], in spool: Spool) {
    let gone = Set(holders)
    for path in AttemptJournal.files(in: spool.journalDirectory, of: nil) {
      guard let owner = AttemptJournal.owner(ofFile: path), owner != process else { continue }
      if gone.contains(owner) || !isAlive(owner) && !((try? holdsLeases(owner)) ?? true) {
        spool.remove(journal: path)
      }
    }
  }

  private func holdsLeases(_ holder: ProcessIdentity) throws(LedgerError) -> Bool {
    !(try database.query(
      "SELECT 1 FROM messages WHERE state = 'sending' AND lease_pid = ? AND lease_start = ? LIMIT 1",
      [.integer(Int64(holder.pid)), .integer(holder.startTime)])).isEmpty
  }

  /// Fails every waiting message older than `max_age`, with the report of why; returns them.
  public func expire(policy: RetryPolicy) throws(LedgerError) -> [(message: QueuedMessage, completion: Completion)] {
    let now = clock.now()
    return try ledger.transaction { (transaction) throws(LedgerError) -> [(QueuedMessage, Completion)] in
      let rows = try transaction.database.query(
        """
        UPDATE messages SET state = 'sending', lease_until = ?, lease_pid = ?, lease_start = ?
        WHERE state IN ('queued', 'deferred') AND created <= ? RETURNING \(Self.columns)
        """,
        [
          .real(now + Self.leaseSeconds), .integer(Int64(process.pid)), .integer(process.startTime),
          .real(now - policy.maxAge),
        ])
      let messages = try Self.messages(rows, database: transaction.database)
      let expired = messages.map { message -> (QueuedMessage, Completion) in
        let empty = Completion(
          id: message.id, state: .failed, nextAttempt: now, attemptsMade: 0, uncertainRetriesAdded: 0,
          recipients: [], lastError: nil, lastClass: message.lastClass, at: now)
        return (message, QueueOutcome.expired(empty, message: message, policy: policy))
      }
      try complete(expired.map(\.1), in: transaction.database)
      return expired
    }
  }

  // MARK: Spool segments

  /// Frees the segments among `paths` whose every message is sent or dropped, or failed or
  /// uncertain for longer than `max_age` (kept until then for `queue retry`): their rows forget
  /// the path, then the files go.
  public func releaseSegments(_ paths: Set<String>, spool: Spool, policy: RetryPolicy) throws(LedgerError) {
    guard !paths.isEmpty else { return }
    let cutoff = clock.now() - policy.maxAge
    let released = try ledger.transaction { (transaction) throws(LedgerError) -> [String] in
      var released: [String] = []
      for path in paths.sorted() {
        let live = try transaction.database.query(
          """
          SELECT 1 FROM messages WHERE spool_path = ? AND NOT (state IN ('sent', 'dropped')
            OR (state IN ('failed', 'uncertain') AND created < ?)) LIMIT 1
          """, [.text(path), .real(cutoff)])
        guard live.isEmpty else { continue }
        try transaction.database.query("UPDATE messages SET spool_path = NULL WHERE spool_path = ?", [.text(path)])
        released.append(path)
      }
      return released
    }
    for path in released { spool.remove(segment: path) }
  }

  /// Segments no row points to (a run that died between spooling and queueing) once they are an
  /// hour old, stale temporary files, and segments of long-finished messages.
  public func collectSpoolGarbage(spool: Spool, policy: RetryPolicy) throws(LedgerError) {
    let now = clock.now()
    let listing = spool.listing(olderThan: now - 3600)
    var referenced: Set<String> = []
    for path in listing.segments {
      let rows = try database.query("SELECT 1 FROM messages WHERE spool_path = ? LIMIT 1", [.text(path)])
      if rows.isEmpty { spool.remove(segment: path) } else { referenced.insert(path) }
    }
    for path in listing.staleTemporaries where !path.contains("-\(process.pid)-") { spool.remove(segment: path) }
    try releaseSegments(referenced, spool: spool, policy: policy)
  }
}
