import Foundation

/// Everything one worker needs, handed to its thread.
struct WorkerSetup: Sendable {
  var configuration: Configuration
  var channel: ChannelConfig
  var index: Int
  var options: RunOptions
  /// Messages untouched since this moment may be claimed (the run's start).
  var runStart: Double
  var environment: [String: String]
  var connector: SMTPConnector
  var clock: ThrottleClock
  var transcript: (@Sendable (TranscriptEvent) -> Void)?
  var warn: @Sendable (String) -> Void
}

/// One session's worth of a run: claims due messages of one channel in groups, sends each through
/// the throttle (`ThrottledDelivery`, riding the worker's open session) and writes outcomes in
/// grouped commits, journaling every transaction first (`AttemptJournal`). Several workers (of
/// this process or others) may work on the same channel: leases keep them off each other's
/// messages. Runs on its own thread with its own ledger connection.
final class FlushWorker {
  let setup: WorkerSetup
  let progress: RunProgress
  private var touchedSegments: Set<String> = []
  /// For the backoff's jitter: seeded once, so that no message costs a system call for it.
  private var random = SplitMix64(seed: UInt64.random(in: 0...UInt64.max))

  init(setup: WorkerSetup, progress: RunProgress) {
    self.setup = setup
    self.progress = progress
  }

  /// The parts that live as long as the worker.
  struct Parts {
    let queue: MessageQueue
    let gate: ThrottleGate
    let throttle: GroupedThrottle
    let journal: AttemptJournal
    let sessions: ChannelSessions
    let reader: SpoolReader
    let group: OutcomeGroup
  }

  func run() {
    let channel = setup.channel
    let spool = setup.configuration.spool(environment: setup.environment)
    let parts: Parts
    do {
      parts = try makeParts(spool: spool)
    } catch let error as LedgerError {
      progress.report("channel \(channel.name): \(error.description)", code: .ioError)
      return
    } catch {
      progress.report("channel \(channel.name): \(error)", code: .ioError)
      return
    }
    var connection: ThrottleGate.Grant?
    do throws(LedgerError) {
      connection = try acquireConnection(parts.gate)
      if connection != nil { try deliverDue(parts) }
      try parts.group.commit()
      parts.sessions.closeAll()
      parts.journal.remove()
      if let connection { try parts.gate.releaseConnection(connection) }
      try parts.queue.releaseSegments(touchedSegments, spool: spool, policy: setup.configuration.retryPolicy)
    } catch {
      // The journal stays: whoever takes these leases back after we exit replays it.
      parts.sessions.closeAll()
      progress.report("channel \(channel.name): \(error.description)", code: .ioError)
    }
  }

  private func makeParts(spool: Spool) throws -> Parts {
    let ledger = try ThrottleLedger(path: setup.configuration.ledgerPath(environment: setup.environment))
    let queue = MessageQueue(ledger: ledger, clock: setup.clock)
    let gate = ThrottleGate(ledger: ledger, clock: setup.clock)
    let throttle = GroupedThrottle(gate: gate, clock: setup.clock)
    let journal = try AttemptJournal(directory: spool.journalDirectory, process: queue.process, worker: setup.index)
    let context = ChannelDelivery.Context(
      environment: setup.environment, connector: setup.connector, transcript: setup.transcript,
      onPlaintextPeer: { [warn = setup.warn] peer in warn("tls = none: messages travel in clear to \(peer)") })
    let log = DeliveryLog(target: setup.configuration.defaults.log ?? .off, warn: setup.warn)
    return Parts(
      queue: queue, gate: gate, throttle: throttle, journal: journal, sessions: ChannelSessions(context: context),
      reader: SpoolReader(), group: OutcomeGroup(queue: queue, throttle: throttle, log: log, clock: setup.clock))
  }

  /// The session's connection slot (`connections`), waited for until the deadline. nil: none came.
  private func acquireConnection(_ gate: ThrottleGate) throws(LedgerError) -> ThrottleGate.Grant? {
    var ticket: Int64?
    while true {
      switch try gate.reserveConnection(channel: setup.channel.name, limits: setup.channel.limits, ticket: ticket) {
      case .granted(let grant):
        return grant
      case .wait(let until, _, let next):
        ticket = next
        guard until <= min(setup.options.deadline, setup.clock.now() + setup.options.maxWait) else { return nil }
        setup.clock.sleep(seconds: max(0, until - setup.clock.now()))
      case .cooldown(let cooldown):
        // The messages will meet the cooldown themselves and be deferred to its end.
        _ = cooldown
        return ThrottleGate.Grant(id: 0, channel: setup.channel.name, grantedAt: 0, recipients: 0, counted: false)
      }
    }
  }

  /// Claims and delivers until nothing is due, the deadline passes, or the channel fails.
  private func deliverDue(_ parts: Parts) throws(LedgerError) {
    let filter = MessageQueue.ClaimFilter(
      channel: setup.channel.name, dueBefore: setup.options.ignoreBackoff ? .infinity : setup.runStart,
      untouchedSince: setup.runStart, campaign: setup.options.campaign)
    while setup.clock.now() < setup.options.deadline {
      try parts.group.commitIfDue()
      let claimed = try parts.queue.claim(filter, limit: setup.options.claimSize)
      if claimed.isEmpty { return }
      var remaining = claimed[...]
      while let message = remaining.popFirst() {
        if setup.clock.now() >= setup.options.deadline {
          try parts.queue.release([message.id] + remaining.map(\.id))
          return
        }
        let attempt = try deliver(message, parts)
        parts.group.add(attempt.completion, log: attempt.log)
        progress.record(attempt.completion, message: message)
        if let path = message.spool?.path { touchedSegments.insert(path) }
        try parts.group.commitIfDue()
        if let failure = attempt.channelFailure {
          // The channel itself cannot be used (down, login refused): the rest would fail alike.
          try parts.group.commit()
          try parts.queue.release(remaining.map(\.id))
          progress.report(
            "channel \(setup.channel.name): \(failure.description)"
              + (remaining.isEmpty ? "" : " (\(remaining.count) more message(s) left waiting)"),
            code: QueueOutcome.exitCode(attempt.completion))
          return
        }
      }
    }
  }

  struct Attempt {
    var completion: Completion
    var log: [DeliveryLog.Entry]
    /// Set when the channel failed as a whole (connection, TLS, login), not this message.
    var channelFailure: ChannelError?
  }

  private func deliver(_ message: QueuedMessage, _ parts: Parts) throws(LedgerError) -> Attempt {
    let record = AttemptRecorder(message: message, journal: parts.journal, clock: setup.clock)
    let now = setup.clock.now()
    guard let location = message.spool else {
      let results = Dictionary(
        uniqueKeysWithValues: message.pendingRecipients.map {
          ($0, (OutcomeClass.localIO, Optional("the message's spooled bytes are gone")))
        })
      return Attempt(completion: completion(message, AttemptResult(results: results, reachedChannel: false)), log: [])
    }
    let content = SpooledMessage(
      location, eightBit: message.eightBit, smtpUTF8: message.smtpUTF8, reader: parts.reader)
    let sessions = parts.sessions
    let delivery = ThrottledDelivery(
      gate: parts.throttle, clock: setup.clock,
      options: .init(maxWait: max(0, min(setup.options.maxWait, setup.options.deadline - now)), ridesOpenSession: true),
      transport: { (channel, envelope) throws(ChannelError) in
        try record.attempt(channel: channel, envelope: envelope) { () throws(ChannelError) in
          try sessions.deliver(content, envelope: envelope, via: channel)
        }
      },
      fallback: { [configuration = setup.configuration] primary in
        if case .success(let other) = Router.fallback(of: primary, in: configuration, sender: message.sender) {
          return other
        }
        return nil
      },
      events: waitEvents(parts.queue))
    let envelope = Envelope(sender: message.sender, recipients: message.pendingRecipients)
    do throws(ThrottledDelivery.Failure) {
      let outcome = try delivery.deliver(envelope, messageID: message.messageID, via: setup.channel)
      let result = AttemptResult(outcome: outcome, reachedChannel: record.reachedChannel)
      return Attempt(completion: completion(message, result), log: record.log)
    } catch {
      switch error {
      case .ledger(let ledgerError):
        throw ledgerError
      case .channel(let channelError, _):
        let result = AttemptResult(failure: channelError, recipients: envelope.recipients, reachedChannel: true)
        return Attempt(
          completion: completion(message, result), log: record.log,
          channelFailure: Self.concernsChannel(channelError) ? channelError : nil)
      case .deferred(let deferral):
        let result = AttemptResult(
          deferral: deferral, recipients: envelope.recipients, reachedChannel: record.reachedChannel)
        return Attempt(completion: completion(message, result), log: record.log)
      }
    }
  }

  private func completion(_ message: QueuedMessage, _ result: AttemptResult) -> Completion {
    QueueOutcome.completion(
      for: message, result: result, policy: setup.configuration.retryPolicy, now: setup.clock.now(),
      random: Double.random(in: 0...1, using: &random))
  }

  /// Waits are shown by the runner (progress, countdown) and renew the leases once a minute.
  private func waitEvents(_ queue: MessageQueue) -> (ThrottledDelivery.Event) -> Void {
    let progress = self.progress
    let clock = setup.clock
    var renewed = clock.now()
    return { event in
      switch event {
      case .waiting(let channel, let until, _, _):
        progress.waiting((channel, until))
        if clock.now() - renewed > 60 {
          renewed = clock.now()
          try? queue.renewLeases()
        }
      case .waited:
        progress.waiting(nil)
      case .cooldown, .handover:
        break
      }
    }
  }

  /// Failures that say nothing about the message: the channel could not be reached, secured or
  /// logged into, or its own settings are wrong.
  static func concernsChannel(_ error: ChannelError) -> Bool {
    switch error {
    case .configuration, .io: return true
    case .session(let session):
      return [.connect, .greeting, .hello, .startTLS, .authentication].contains(session.phase)
    }
  }
}
