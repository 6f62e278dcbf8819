import Foundation

/// The queue's part in `send` and sendmail mode for a configured channel: the message is spooled
/// and queued (both on disk) before anything else, then tried at once the way `flush` would try it
/// (through the throttle, journaled). Whatever could not be delivered now stays queued: a
/// temporary failure, no slot within `--max-wait` and a quota pause all exit 75, since `msc-send
/// flush` will send it; permanent refusals fail the message with the usual 65/69/77.
/// `--queue` only queues (exit 0).
extension SendExecution {
  /// The queued message and what its first attempt made of it.
  struct QueueNote {
    var id: Int64
    var completion: Completion
  }

  func deliverQueued(
    _ message: MeasuredContent, envelope: Envelope, messageID: String, decision: RouteDecision,
    configuration: Configuration, context delivery: ChannelDelivery.Context
  ) -> Delivered {
    let channel = decision.channel
    let spool = configuration.spool(environment: context.environment)
    let queue: MessageQueue
    let gate: ThrottleGate
    let location: SpoolLocation
    let id: Int64
    do {
      let ledger = try ThrottleLedger(path: configuration.ledgerPath(environment: context.environment))
      queue = MessageQueue(ledger: ledger)
      gate = ThrottleGate(ledger: ledger)
      let writer = try spool.makeWriter()
      location = try writer.append(message)
      try writer.commit()
      id = try queue.enqueue(
        NewMessage(
          messageID: messageID, channel: channel.name, sender: envelope.sender, recipients: envelope.recipients,
          spool: location, eightBit: message.requiresEightBitMIME, smtpUTF8: message.requiresSMTPUTF8),
        leased: !options.queueOnly)
    } catch let error as LedgerError {
      return .exit(ledgerFailure(error))
    } catch {
      context.error("\(error)", hint: "nothing was sent; check the spool folder \(spool.directory)")
      return .exit(.ioError)
    }
    if options.queueOnly { return .exit(reportQueuedOnly(id, messageID: messageID, channel: channel)) }

    let attempt: (completion: Completion, delivered: Delivered?)
    do {
      attempt = try attemptNow(
        id: id, message: message, location: location, queue: queue, gate: gate, spool: spool, channel: channel,
        configuration: configuration, delivery: delivery)
    } catch let error as LedgerError {
      return .exit(ledgerFailure(error))
    } catch {
      context.error("\(error)", hint: "the message stays queued as \(id): `msc-send flush` tries it again")
      return .exit(.ioError)
    }
    if attempt.completion.state == .sent {
      try? queue.releaseSegments([location.path], spool: spool, policy: configuration.retryPolicy)
    }
    return attempt.delivered ?? .exit(QueueOutcome.exitCode(attempt.completion))
  }

  /// The first attempt, journaled and recorded in the queue like any other.
  private func attemptNow(
    id: Int64, message: MeasuredContent, location: SpoolLocation, queue: MessageQueue, gate: ThrottleGate,
    spool: Spool, channel: ChannelConfig, configuration: Configuration, delivery: ChannelDelivery.Context
  ) throws -> (completion: Completion, delivered: Delivered?) {
    guard let queued = try queue.message(id: id) else {
      throw LedgerError(path: queue.ledger.path, message: "message \(id) vanished from the queue")
    }
    let journal = try AttemptJournal(directory: spool.journalDirectory, process: queue.process, worker: 0)
    let recorder = AttemptRecorder(message: queued, journal: journal, clock: SystemThrottleClock())
    let content = MeasuredContent(
      SpooledMessage(location, eightBit: queued.eightBit, smtpUTF8: queued.smtpUTF8, reader: SpoolReader()),
      measurement: message.measurement)
    let printer = throttleEventPrinter()
    var renewed = Date()
    let throttled = ThrottledDelivery(
      gate: gate, options: ThrottledDelivery.Options(maxWait: options.maxWait),
      transport: { (channel, envelope) throws(ChannelError) in
        try recorder.attempt(channel: channel, envelope: envelope) { () throws(ChannelError) in
          try ChannelDelivery.deliver(content, envelope: envelope, via: channel, context: delivery)
        }
      },
      fallback: { primary in fallbackChannel(of: primary, configuration: configuration, sender: queued.sender) },
      events: { event in
        printer(event)
        if case .waiting = event, Date().timeIntervalSince(renewed) > 60 {
          renewed = Date()
          try? queue.renewLeases()
        }
      })
    let envelope = Envelope(sender: queued.sender, recipients: queued.pendingRecipients)
    let result: AttemptResult
    var delivered: Delivered?
    var report: (() -> Void)?
    do throws(ThrottledDelivery.Failure) {
      let outcome = try throttled.deliver(envelope, messageID: queued.messageID, via: channel)
      result = AttemptResult(outcome: outcome, reachedChannel: recorder.reachedChannel)
      if let deferral = outcome.deferral, !options.quiet { context.warning(describe(deferral)) }
      let channelResult = ChannelDelivery.Result(
        report: outcome.report, destination: outcome.destination ?? channel.name, tls: outcome.tls)
      delivered = .result(channelResult, fallback: outcome.fallbackChannel, queued: nil)
    } catch {
      switch error {
      case .ledger(let ledgerError):
        throw ledgerError
      case .channel(let channelError, let failed):
        result = AttemptResult(failure: channelError, recipients: envelope.recipients, reachedChannel: true)
        report = { _ = fail(channelError, channel: failed, queued: id) }
      case .deferred(let deferral):
        result = AttemptResult(
          deferral: deferral, recipients: envelope.recipients, reachedChannel: recorder.reachedChannel)
        report = { reportDeferral(deferral, channel: channel, queued: id) }
      }
    }
    let completion = QueueOutcome.completion(
      for: queued, result: result, policy: configuration.retryPolicy, now: SystemThrottleClock().now(),
      random: Double.random(in: 0...1))
    try queue.complete([completion])
    journal.remove()
    DeliveryLog(target: configuration.defaults.log ?? .off, warn: context.warning).write(recorder.log)
    report?()
    if case .result(let channelResult, let fallback, _) = delivered {
      return (completion, .result(channelResult, fallback: fallback, queued: QueueNote(id: id, completion: completion)))
    }
    return (completion, nil)
  }

  private func reportDeferral(_ deferral: ThrottledDelivery.Deferral, channel: ChannelConfig, queued id: Int64) {
    context.error(describe(deferral), hint: hint(for: deferral, channel: channel, queued: id))
    if options.json {
      printThrottleJSON([
        "error": describe(deferral), "class": deferral.outcome.rawValue, "channel": deferral.channel,
        "retry_at": ThrottleTime.iso8601(deferral.until), "reason": deferral.reason,
        "queue": ["id": id, "state": MessageState.deferred.rawValue] as [String: Any],
      ])
    }
  }

  private func reportQueuedOnly(_ id: Int64, messageID: String, channel: ChannelConfig) -> ExitCode {
    if options.json {
      printThrottleJSON([
        "message_id": messageID, "channel": channel.name,
        "queue": ["id": id, "state": MessageState.queued.rawValue] as [String: Any],
      ])
    } else if !options.quiet && (context.console.stderrIsTerminal || options.verbose) {
      context.console.err("msc-send: queued \(messageID) as message \(id) for channel \(channel.name)\n")
    }
    return .ok
  }

  /// The line `send` adds when recipients stay queued after its attempt.
  func queueLine(_ note: QueueNote) -> String? {
    let waiting = note.completion.recipients.filter { $0.state == .pending }
    guard !waiting.isEmpty else { return nil }
    let when = ThrottleTime.describe(note.completion.nextAttempt, now: SystemThrottleClock().now())
    let line =
      "\(waiting.count) recipient(s) queued as message \(note.id): `msc-send flush` retries them (next attempt \(when))"
    guard waiting.contains(where: { $0.outcome == .uncertain }) else { return line }
    return line + "; it may have arrived already, so the retry may deliver it twice"
  }

  /// The `"queue"` object of `--json`.
  func queueJSON(_ note: QueueNote) -> [String: Any] {
    var object: [String: Any] = ["id": note.id, "state": note.completion.state.rawValue]
    if note.completion.state == .deferred { object["next_attempt"] = ThrottleTime.iso8601(note.completion.nextAttempt) }
    return object
  }
}
