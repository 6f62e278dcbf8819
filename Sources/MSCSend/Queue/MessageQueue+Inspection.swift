/// Reading the queue (`queue list`, `queue show`, summaries) and the changes a person makes by
/// hand (`queue retry`, `queue drop`).
extension MessageQueue {
  static let columns = """
    id, message_id, channel, sender, spool_path, spool_offset, size, eight_bit, smtputf8, state, lease_until,
    lease_pid, lease_start, attempts, next_attempt, created, updated, last_error, last_class, campaign, template,
    idempotency_key, uncertain_retries
    """

  /// Which messages `list` shows.
  public struct ListFilter: Sendable, Equatable {
    /// nil: every state but `sent` and `dropped`.
    public var states: Set<MessageState>?
    public var campaign: String?
    public var channel: String?

    public init(states: Set<MessageState>? = nil, campaign: String? = nil, channel: String? = nil) {
      self.states = states
      self.campaign = campaign
      self.channel = channel
    }

    public static let unfinished = ListFilter(states: [.queued, .sending, .deferred, .failed, .uncertain])
    public static let all = ListFilter(states: Set(MessageState.allCases))
  }

  /// The messages matching `filter`, oldest first.
  public func list(_ filter: ListFilter = .unfinished) throws(LedgerError) -> [QueuedMessage] {
    let states = (filter.states ?? ListFilter.unfinished.states ?? []).map(\.rawValue).sorted()
    let placeholders = states.map { _ in "?" }.joined(separator: ", ")
    let rows = try database.query(
      """
      SELECT \(Self.columns) FROM messages WHERE state IN (\(placeholders))
        AND (? IS NULL OR campaign = ?) AND (? IS NULL OR channel = ?) ORDER BY id
      """,
      states.map { .text($0) } + [
        Self.optional(filter.campaign), Self.optional(filter.campaign), Self.optional(filter.channel),
        Self.optional(filter.channel),
      ])
    return try Self.messages(rows, database: database)
  }

  /// One message, nil when there is no such id.
  public func message(id: Int64) throws(LedgerError) -> QueuedMessage? {
    let rows = try database.query("SELECT \(Self.columns) FROM messages WHERE id = ?", [.integer(id)])
    return try Self.messages(rows, database: database).first
  }

  /// How many messages of `campaign` are in each state.
  public func counts(campaign: String) throws(LedgerError) -> [MessageState: Int] {
    let rows = try database.query(
      "SELECT state, count(*) FROM messages WHERE campaign = ? GROUP BY state", [.text(campaign)])
    var counts: [MessageState: Int] = [:]
    for row in rows {
      if let state = row[0].text.flatMap(MessageState.init(rawValue:)), let count = row[1].integer {
        counts[state] = Int(count)
      }
    }
    return counts
  }

  /// Why a change by hand was refused.
  public struct RefusedChange: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public let notFound: Bool
  }

  public enum HandChange: Sendable, Equatable {
    /// Due now again; failed and uncertain recipients are tried again too.
    case retry
    /// Never to be sent; its bytes are freed.
    case drop
  }

  /// `queue retry ID` / `queue drop ID`. Throws `RefusedChange` (through the result) when the
  /// message is missing, being sent, already sent, or (retry) without its bytes.
  public func change(id: Int64, _ change: HandChange) throws(LedgerError) -> Result<QueuedMessage, RefusedChange> {
    let now = clock.now()
    return try ledger.transaction { (transaction) throws(LedgerError) -> Result<QueuedMessage, RefusedChange> in
      let database = transaction.database
      let rows = try database.query("SELECT \(Self.columns) FROM messages WHERE id = ?", [.integer(id)])
      guard let message = try Self.messages(rows, database: database).first else {
        return .failure(RefusedChange(description: "no message \(id) in the queue", notFound: true))
      }
      if let refusal = Self.refusal(of: change, for: message, now: now, isAlive: isAlive) {
        return .failure(RefusedChange(description: refusal, notFound: false))
      }
      switch change {
      case .retry:
        try database.query(
          """
          UPDATE message_recipients SET state = 'pending' WHERE message_rowid = ? AND state IN ('failed', 'uncertain')
          """,
          [.integer(id)])
        try database.query(
          """
          UPDATE messages SET state = 'queued', next_attempt = ?, updated = ?, lease_until = NULL, lease_pid = NULL,
            lease_start = NULL WHERE id = ?
          """, [.real(now), .real(now), .integer(id)])
      case .drop:
        try database.query(
          """
          UPDATE messages SET state = 'dropped', updated = ?, lease_until = NULL, lease_pid = NULL, lease_start = NULL
          WHERE id = ?
          """, [.real(now), .integer(id)])
      }
      let changed = try database.query("SELECT \(Self.columns) FROM messages WHERE id = ?", [.integer(id)])
      return .success(try Self.messages(changed, database: database).first ?? message)
    }
  }

  private static func refusal(
    of change: HandChange, for message: QueuedMessage, now: Double, isAlive: (ProcessIdentity) -> Bool
  ) -> String? {
    switch message.state {
    case .sending:
      let live = message.leaseHolder.map(isAlive) ?? false && (message.leaseUntil ?? 0) > now
      if live { return "message \(message.id) is being sent right now (by process \(message.leaseHolder?.pid ?? 0))" }
    case .sent:
      return "message \(message.id) was already sent"
        + (change == .retry ? "; sending it again would duplicate it" : "")
    case .dropped:
      return "message \(message.id) was dropped"
    default:
      break
    }
    if change == .retry && message.spool == nil { return "the bytes of message \(message.id) are no longer kept" }
    return nil
  }

  // MARK: Rows

  /// Decodes `columns` rows and reads each message's recipients: in one range query when the ids
  /// lie close together (a claim of a hundred messages of a batch), else message by message.
  static func messages(_ rows: [[SQLiteValue]], database: SQLiteDatabase) throws(LedgerError) -> [QueuedMessage] {
    var messages = rows.compactMap(message)
    guard let low = messages.map(\.id).min(), let high = messages.map(\.id).max() else { return messages }
    if messages.count > 1 && high - low < Int64(4 * messages.count + 16) {
      var byMessage: [Int64: [QueuedRecipient]] = [:]
      for (id, recipient) in try recipients(from: low, to: high, database: database) {
        byMessage[id, default: []].append(recipient)
      }
      for index in messages.indices { messages[index].recipients = byMessage[messages[index].id] ?? [] }
      return messages
    }
    for index in messages.indices {
      messages[index].recipients = try recipients(from: messages[index].id, to: messages[index].id, database: database)
        .map(\.1)
    }
    return messages
  }

  private static func message(_ row: [SQLiteValue]) -> QueuedMessage? {
    guard row.count == 23, let id = row[0].integer, let messageID = row[1].text, let channel = row[2].text,
      let sender = row[3].text, let size = row[6].integer, let state = row[9].text.flatMap(MessageState.init),
      let attempts = row[13].integer, let next = row[14].real, let created = row[15].real,
      let updated = row[16].real, let retries = row[22].integer
    else { return nil }
    let spool = row[4].text.map { SpoolLocation(path: $0, offset: Int(row[5].integer ?? 0), size: Int(size)) }
    var holder: ProcessIdentity?
    if let pid = row[11].integer, let start = row[12].integer {
      holder = ProcessIdentity(pid: Int32(truncatingIfNeeded: pid), startTime: start)
    }
    return QueuedMessage(
      id: id, messageID: messageID, channel: channel, sender: sender, spool: spool, size: Int(size),
      eightBit: row[7].integer == 1, smtpUTF8: row[8].integer == 1, state: state, leaseHolder: holder,
      leaseUntil: row[10].real, attempts: Int(attempts), nextAttempt: next, created: created, updated: updated,
      lastError: row[17].text, lastClass: row[18].text.flatMap(OutcomeClass.init), campaign: row[19].text,
      template: row[20].text, idempotencyKey: row[21].text, uncertainRetries: Int(retries), recipients: [])
  }

  /// The recipients of the messages with ids from `low` to `high`, by message and position.
  private static func recipients(from low: Int64, to high: Int64, database: SQLiteDatabase) throws(LedgerError)
    -> [(Int64, QueuedRecipient)]
  {
    try database.query(
      """
      SELECT message_rowid, recipient, position, state, class, reply, updated FROM message_recipients
      WHERE message_rowid BETWEEN ? AND ? ORDER BY message_rowid, position
      """, [.integer(low), .integer(high)]
    ).compactMap { row in
      guard let id = row[0].integer, let address = row[1].text, let position = row[2].integer,
        let state = row[3].text.flatMap(RecipientState.init)
      else { return nil }
      return (
        id,
        QueuedRecipient(
          address: address, position: Int(position), state: state, outcome: row[4].text.flatMap(OutcomeClass.init),
          reply: row[5].text, updated: row[6].real)
      )
    }
  }
}
