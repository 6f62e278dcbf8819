extension ThrottleLedger {
  /// The queries and updates the throttle needs, valid only inside `ThrottleLedger.transaction`.
  public struct Transaction {
    let database: SQLiteDatabase

    private static let entryColumns =
      "id, grant_id, channel, kind, count, at, batch_start, pid, process_start, state, message_id"

    // MARK: Reservations

    /// Every `reserved` or `waiting` row of every channel: the candidates for dead-process release.
    public func openEntries() throws(LedgerError) -> [LedgerEntry] {
      try entries("SELECT \(Self.entryColumns) FROM reservations WHERE state IN ('reserved', 'waiting')", [])
    }

    /// The rows of `channel` that may still matter: waiting and reserved ones, and used ones newer
    /// than `since` (by time or by batch). Ordered by time, then id: the waiting queue's order.
    public func liveEntries(channel: String, since: Double) throws(LedgerError) -> [LedgerEntry] {
      try entries(
        """
        SELECT \(Self.entryColumns) FROM reservations
        WHERE channel = ? AND (state IN ('reserved', 'waiting') OR (state = 'used' AND (at > ? OR batch_start > ?)))
        ORDER BY at, id
        """, [.text(channel), .real(since), .real(since)])
    }

    /// Deletes the `waiting` rows of `grant` (granted, or given up).
    public func removeWaiting(grant: Int64) throws(LedgerError) {
      try database.query("DELETE FROM reservations WHERE grant_id = ? AND state = 'waiting'", [.integer(grant)])
    }

    /// Inserts one row and returns its id.
    @discardableResult
    public func insert(_ entry: LedgerEntry) throws(LedgerError) -> Int64 {
      let rows = try database.query(
        """
        INSERT INTO reservations
          (grant_id, channel, kind, count, at, batch_start, pid, process_start, state, message_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
        """,
        [
          .integer(entry.grant), .text(entry.channel), .text(entry.kind.rawValue), .integer(Int64(entry.count)),
          .real(entry.at), entry.batchStart.map { .real($0) } ?? .null, .integer(Int64(entry.process.pid)),
          .integer(entry.process.startTime), .text(entry.state.rawValue), entry.messageID.map { .text($0) } ?? .null,
        ])
      return rows.first?.first?.integer ?? 0
    }

    /// Marks the rows of `grant` used at `at` with the given counts; a kind whose count is 0, or
    /// missing from `counts`, is released instead (connections always are: the session ended).
    public func settle(grant: Int64, at: Double, counts: [LedgerEntryKind: Int]) throws(LedgerError) {
      for kind in LedgerEntryKind.allCases {
        if let count = counts[kind], count > 0, kind != .connection {
          try database.query(
            """
            UPDATE reservations SET state = 'used', at = ?, count = ?
            WHERE grant_id = ? AND kind = ? AND state = 'reserved'
            """,
            [.real(at), .integer(Int64(count)), .integer(grant), .text(kind.rawValue)])
        } else {
          try database.query(
            "UPDATE reservations SET state = 'released' WHERE grant_id = ? AND kind = ? AND state = 'reserved'",
            [.integer(grant), .text(kind.rawValue)])
        }
      }
    }

    /// Releases every row of `grant` still reserved.
    public func release(grant: Int64) throws(LedgerError) {
      try settle(grant: grant, at: 0, counts: [:])
    }

    /// Releases the rows with these ids (a dead process's).
    public func release(ids: [Int64]) throws(LedgerError) {
      for id in ids {
        try database.query("UPDATE reservations SET state = 'released' WHERE id = ?", [.integer(id)])
      }
    }

    /// Forgets what can no longer count: released rows older than `releasedBefore`, used rows of
    /// `channel` older than `usedBefore`.
    public func prune(channel: String, usedBefore: Double, releasedBefore: Double) throws(LedgerError) {
      try database.query(
        "DELETE FROM reservations WHERE state = 'released' AND at < ?", [.real(releasedBefore)])
      try database.query(
        "DELETE FROM reservations WHERE channel = ? AND state = 'used' AND at < ? AND coalesce(batch_start, 0) < ?",
        [.text(channel), .real(usedBefore), .real(usedBefore)])
    }

    // MARK: Cooldowns

    public func cooldown(channel: String) throws(LedgerError) -> CooldownRecord? {
      let rows = try database.query(
        "SELECT channel, until, reason, reply, backoff_seconds, set_at FROM cooldowns WHERE channel = ?",
        [.text(channel)])
      guard let row = rows.first, let name = row[0].text, let until = row[1].real,
        let reason = row[2].text.flatMap(CooldownReason.init(rawValue:)), let backoff = row[4].real,
        let setAt = row[5].real
      else { return nil }
      return CooldownRecord(
        channel: name, until: until, reason: reason, reply: row[3].text, backoffSeconds: backoff, setAt: setAt)
    }

    public func setCooldown(_ record: CooldownRecord) throws(LedgerError) {
      try database.query(
        """
        INSERT INTO cooldowns (channel, until, reason, reply, backoff_seconds, set_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (channel) DO UPDATE SET until = excluded.until, reason = excluded.reason, reply = excluded.reply,
          backoff_seconds = excluded.backoff_seconds, set_at = excluded.set_at
        """,
        [
          .text(record.channel), .real(record.until), .text(record.reason.rawValue),
          record.reply.map { .text($0) } ?? .null, .real(record.backoffSeconds), .real(record.setAt),
        ])
    }

    public func clearCooldown(channel: String) throws(LedgerError) {
      try database.query("DELETE FROM cooldowns WHERE channel = ?", [.text(channel)])
    }

    // MARK: Outcomes

    public func record(_ outcome: OutcomeRecord) throws(LedgerError) {
      try database.query(
        "INSERT INTO outcomes (message_id, channel, recipient, class, reply, at) VALUES (?, ?, ?, ?, ?, ?)",
        [
          outcome.messageID.map { .text($0) } ?? .null, .text(outcome.channel), .text(outcome.recipient),
          .text(outcome.outcome.rawValue), outcome.reply.map { .text($0) } ?? .null, .real(outcome.at),
        ])
    }

    /// Outcomes of one message, oldest first.
    public func outcomes(messageID: String) throws(LedgerError) -> [OutcomeRecord] {
      let rows = try database.query(
        "SELECT message_id, channel, recipient, class, reply, at FROM outcomes WHERE message_id = ? ORDER BY id",
        [.text(messageID)])
      return rows.compactMap { row in
        guard let channel = row[1].text, let recipient = row[2].text,
          let outcome = row[3].text.flatMap(OutcomeClass.init(rawValue:)), let at = row[5].real
        else { return nil }
        return OutcomeRecord(
          messageID: row[0].text, channel: channel, recipient: recipient, outcome: outcome, reply: row[4].text, at: at)
      }
    }

    /// A channel's outcomes not in `excluded` classes since `since`, newest first, at most `limit`
    /// (`check` shows a channel's recent failures).
    public func recentOutcomes(channel: String, since: Double, excluding excluded: [OutcomeClass], limit: Int)
      throws(LedgerError) -> [OutcomeRecord]
    {
      let placeholders = excluded.map { _ in "?" }.joined(separator: ", ")
      let rows = try database.query(
        "SELECT message_id, channel, recipient, class, reply, at FROM outcomes WHERE channel = ? AND at >= ?"
          + (excluded.isEmpty ? "" : " AND class NOT IN (\(placeholders))") + " ORDER BY at DESC, id DESC LIMIT ?",
        [.text(channel), .real(since)] + excluded.map { .text($0.rawValue) } + [.integer(Int64(limit))])
      return rows.compactMap { row in
        guard let channel = row[1].text, let recipient = row[2].text,
          let outcome = row[3].text.flatMap(OutcomeClass.init(rawValue:)), let at = row[5].real
        else { return nil }
        return OutcomeRecord(
          messageID: row[0].text, channel: channel, recipient: recipient, outcome: outcome, reply: row[4].text, at: at)
      }
    }

    // MARK: Rows

    private func entries(_ sql: String, _ values: [SQLiteValue]) throws(LedgerError) -> [LedgerEntry] {
      try database.query(sql, values).compactMap { row in
        guard row.count == 11, let id = row[0].integer, let grant = row[1].integer, let channel = row[2].text,
          let kind = row[3].text.flatMap(LedgerEntryKind.init(rawValue:)), let count = row[4].integer,
          let at = row[5].real, let pid = row[7].integer, let start = row[8].integer,
          let state = row[9].text.flatMap(LedgerEntryState.init(rawValue:))
        else { return nil }
        return LedgerEntry(
          id: id, grant: grant, channel: channel, kind: kind, count: Int(count), at: at, batchStart: row[6].real,
          process: ProcessIdentity(pid: Int32(truncatingIfNeeded: pid), startTime: start), state: state,
          messageID: row[10].text)
      }
    }
  }
}
