/// The throttle's arithmetic, free of I/O: given a channel's limits and the ledger rows that may
/// still count, may one more transaction go now, and if not, when? Pure functions of their
/// arguments (the clock is a parameter), so that every window kind is tested without waiting.
///
/// Sliding windows: a row counts in a window of length L while `now < leave`, where `leave` is
/// `at + L` for a used row (`at` = when the server answered, so the message had arrived by then)
/// and `max(at, now) + L` for a row still reserved (its message may arrive at any moment until
/// the server answers). Counting from the answer, not the reservation, is what keeps the
/// *server's* view of arrivals within the limit even when some sessions are slow.
public enum ThrottlePlanner {
  public enum Decision: Sendable, Equatable {
    /// Go now; `batchStart` is the batch the message joins (batch mode only).
    case granted(batchStart: Double?)
    /// Nothing may go before `until` (a lower bound: check again then).
    case wait(until: Double, reason: String)
  }

  /// How often to look again when the wait has no computable end (all connections busy).
  public static let pollInterval = 1.0

  /// Whether a transaction of `recipients` recipients may go at `now`. `ahead` is what the
  /// processes queued before this one wait for (messages, recipients): it does not stop a grant
  /// (a free slot is taken by whoever asks first) but it sets when to look again, so that a queue
  /// of waiters wakes one slot after another instead of all at the first.
  public static func decide(
    limits: ChannelLimits, entries: [LedgerEntry], recipients: Int, now: Double, ahead: [LedgerEntryKind: Int] = [:]
  ) -> Decision {
    var blocks: [(until: Double, reason: String)] = []
    for window in limits.messages where nextFree(window, .message, need: 1, entries: entries, now: now) != nil {
      let until = queuedFree(window, .message, need: 1, ahead: ahead[.message] ?? 0, entries: entries, now: now)
      blocks.append((until, "\(window) messages"))
    }
    for window in limits.recipients
    where nextFree(window, .recipients, need: recipients, entries: entries, now: now) != nil {
      let until = queuedFree(
        window, .recipients, need: recipients, ahead: ahead[.recipients] ?? 0, entries: entries, now: now)
      blocks.append((until, "\(window) recipients (\(recipients) needed)"))
    }
    var batchStart: Double?
    if let batch = limits.batch {
      switch batchState(batch, entries: entries, now: now) {
      case .closed: batchStart = now
      case .open(let start, let count) where count < batch.size: batchStart = start
      case .open(let start, _):
        let batchesAhead = Double((ahead[.message] ?? 0) / batch.size)
        blocks.append((start + batch.every * (1 + batchesAhead), "\(batch) (this batch is full)"))
      }
    }
    if let connections = limits.connections, openConnections(entries) >= connections {
      blocks.append((now + pollInterval, "\(connections) connection\(connections == 1 ? "" : "s") in use"))
    }
    guard let latest = blocks.max(by: { $0.until < $1.until }) else { return .granted(batchStart: batchStart) }
    return .wait(until: latest.until, reason: latest.reason)
  }

  /// When a row stops counting in a window of `seconds`.
  static func leaves(_ entry: LedgerEntry, window seconds: Double, now: Double) -> Double {
    entry.state == .reserved ? max(entry.at, now) + seconds : entry.at + seconds
  }

  /// The rows of `kind` that count in `window` at `now`.
  static func counting(_ kind: LedgerEntryKind, _ window: RateWindow, entries: [LedgerEntry], now: Double)
    -> [LedgerEntry]
  {
    entries.filter {
      $0.kind == kind && $0.state.counts && now < leaves($0, window: window.seconds, now: now)
    }
  }

  /// nil when `need` more fit now; else the first moment enough rows have left the window
  /// (`.infinity` when `need` exceeds the window itself).
  static func nextFree(
    _ window: RateWindow, _ kind: LedgerEntryKind, need: Int, entries: [LedgerEntry], now: Double
  ) -> Double? {
    let inWindow = counting(kind, window, entries: entries, now: now)
    var used = inWindow.reduce(0) { $0 + $1.count }
    if used + need <= window.limit { return nil }
    for entry in inWindow.sorted(by: {
      leaves($0, window: window.seconds, now: now) < leaves($1, window: window.seconds, now: now)
    }) {
      used -= entry.count
      if used + need <= window.limit { return leaves(entry, window: window.seconds, now: now) }
    }
    return .infinity
  }

  /// When this request's turn comes if the `ahead` units queued before it are served first: the
  /// window's leaving times cover one window's worth; beyond that, each further window's worth
  /// comes one window length later (those waiters' own rows must leave in turn).
  static func queuedFree(
    _ window: RateWindow, _ kind: LedgerEntryKind, need: Int, ahead: Int, entries: [LedgerEntry], now: Double
  ) -> Double {
    guard need <= window.limit else { return .infinity }
    let total = need + ahead
    let laterWindows = (total - 1) / window.limit
    let inThisWindow = (total - 1) % window.limit + 1
    let first = nextFree(window, kind, need: inThisWindow, entries: entries, now: now) ?? now
    return first + Double(laterWindows) * window.seconds
  }

  enum BatchState: Equatable {
    case closed
    case open(start: Double, count: Int)
  }

  /// The open batch: the latest batch start whose interval has not ended, and its messages.
  static func batchState(_ batch: BatchLimit, entries: [LedgerEntry], now: Double) -> BatchState {
    let messages = entries.filter { $0.kind == .message && $0.state.counts }
    guard let start = messages.compactMap(\.batchStart).max(), start + batch.every > now else { return .closed }
    return .open(start: start, count: messages.filter { $0.batchStart == start }.reduce(0) { $0 + $1.count })
  }

  static func openConnections(_ entries: [LedgerEntry]) -> Int {
    entries.filter { $0.kind == .connection && $0.state == .reserved }.count
  }

  // MARK: - Usage, for `msc-send quota`

  /// One limit's state at a moment.
  public struct Usage: Sendable, Equatable {
    public enum Kind: String, Sendable {
      case messages, recipients, batch, connections
    }
    public var kind: Kind
    public var limit: Int
    /// "1m" for windows, "45s" for batches, nil for connections.
    public var window: String?
    public var used: Int
    /// When the oldest counted row leaves the window (or the open batch closes).
    public var oldestLeavesAt: Double?
    /// When one more unit fits: `now` when it fits already, nil when it cannot be computed.
    public var nextFreeAt: Double?
  }

  public static func usage(limits: ChannelLimits, entries: [LedgerEntry], now: Double) -> [Usage] {
    var usages: [Usage] = []
    for (kind, windows) in [(LedgerEntryKind.message, limits.messages), (.recipients, limits.recipients)] {
      for window in windows {
        let inWindow = counting(kind, window, entries: entries, now: now)
        usages.append(
          Usage(
            kind: kind == .message ? .messages : .recipients, limit: window.limit, window: window.durationText,
            used: inWindow.reduce(0) { $0 + $1.count },
            oldestLeavesAt: inWindow.map { leaves($0, window: window.seconds, now: now) }.min(),
            nextFreeAt: nextFree(window, kind, need: 1, entries: entries, now: now) ?? now))
      }
    }
    if let batch = limits.batch {
      switch batchState(batch, entries: entries, now: now) {
      case .closed:
        usages.append(Usage(kind: .batch, limit: batch.size, window: batch.everyText, used: 0, nextFreeAt: now))
      case .open(let start, let count):
        usages.append(
          Usage(
            kind: .batch, limit: batch.size, window: batch.everyText, used: count, oldestLeavesAt: start + batch.every,
            nextFreeAt: count < batch.size ? now : start + batch.every))
      }
    }
    if let connections = limits.connections {
      let open = openConnections(entries)
      usages.append(
        Usage(kind: .connections, limit: connections, used: open, nextFreeAt: open < connections ? now : nil))
    }
    return usages
  }
}
