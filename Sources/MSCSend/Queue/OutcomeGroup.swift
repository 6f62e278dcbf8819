/// Outcomes waiting for the run's next grouped commit: the queue's completions, the throttle's
/// settlements and the delivery-log lines, written together every `maximumCount` messages or
/// `maximumAge` seconds, whichever comes first, in one transaction (which also renews the run's
/// leases). A crash between two commits loses nothing: the attempt journal has every outcome.
final class OutcomeGroup {
  let queue: MessageQueue
  let throttle: GroupedThrottle
  let log: DeliveryLog
  let clock: ThrottleClock
  private var completions: [Completion] = []
  private var entries: [DeliveryLog.Entry] = []
  private var oldest: Double?

  static let maximumCount = 100
  static let maximumAge = 0.25

  init(queue: MessageQueue, throttle: GroupedThrottle, log: DeliveryLog, clock: ThrottleClock) {
    self.queue = queue
    self.throttle = throttle
    self.log = log
    self.clock = clock
  }

  func add(_ completion: Completion, log lines: [DeliveryLog.Entry]) {
    completions.append(completion)
    entries += lines
    if oldest == nil { oldest = clock.now() }
  }

  func commitIfDue() throws(LedgerError) {
    guard let oldest else { return }
    if completions.count >= Self.maximumCount || clock.now() - oldest >= Self.maximumAge { try commit() }
  }

  func commit() throws(LedgerError) {
    guard !completions.isEmpty || throttle.hasBufferedSettlements else { return }
    let pending = completions
    try queue.ledger.transaction { (transaction) throws(LedgerError) in
      try throttle.write(in: transaction)
      try queue.complete(pending, in: transaction.database)
      try queue.renewLeases(in: transaction.database)
    }
    log.write(entries)
    completions = []
    entries = []
    oldest = nil
  }
}
