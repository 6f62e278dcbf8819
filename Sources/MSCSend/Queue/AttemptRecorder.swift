/// Wraps each transaction of one queued message: journals it before and after (so that a crash
/// mid-transaction is known as such) and keeps the delivery-log lines it produced. Shared by the
/// flush workers and `send`'s first attempt, so both leave the same traces.
final class AttemptRecorder {
  let message: QueuedMessage
  let journal: AttemptJournal
  let clock: ThrottleClock
  /// Whether any transaction reached the channel (a connection was tried).
  private(set) var reachedChannel = false
  private(set) var log: [DeliveryLog.Entry] = []

  init(message: QueuedMessage, journal: AttemptJournal, clock: ThrottleClock) {
    self.message = message
    self.journal = journal
    self.clock = clock
  }

  /// Runs one transaction through `send`, with its journal lines and log entries.
  func attempt(
    channel: ChannelConfig, envelope: Envelope, _ send: () throws(ChannelError) -> ChannelDelivery.Result
  ) throws(ChannelError) -> ChannelDelivery.Result {
    reachedChannel = true
    journal.begin(message.id, recipients: envelope.recipients)
    do throws(ChannelError) {
      let result = try send()
      let outcomes = result.report.recipients.map { ($0.address, $0.outcome, $0.reply?.description) }
      journal.end(message.id, results: outcomes)
      note(outcomes, channel: channel)
      return result
    } catch {
      let reply = error.reply?.description ?? error.description
      let outcomes = envelope.recipients.map { ($0, error.outcome, Optional(reply)) }
      journal.end(message.id, results: outcomes)
      note(outcomes, channel: channel)
      throw error
    }
  }

  private func note(_ outcomes: [(String, OutcomeClass, String?)], channel: ChannelConfig) {
    let now = clock.now()
    for (recipient, outcome, reply) in outcomes {
      log.append(
        DeliveryLog.Entry(
          time: now, channel: channel.name, messageID: message.messageID, campaign: message.campaign,
          recipient: recipient, outcome: outcome, reply: reply))
    }
  }
}

extension AttemptResult {
  /// What `ThrottledDelivery` reported, per recipient.
  init(outcome: ThrottledDelivery.Outcome, reachedChannel: Bool) {
    var results: [String: (outcome: OutcomeClass, reply: String?)] = [:]
    for recipient in outcome.report.recipients {
      results[recipient.address] = (recipient.outcome, recipient.reply?.description)
    }
    self.init(
      results: results, reachedChannel: reachedChannel,
      retryAt: outcome.deferral.flatMap { $0.until.isFinite ? $0.until : nil })
  }

  /// The channel failed for every recipient.
  init(failure: ChannelError, recipients: [String], reachedChannel: Bool) {
    let reply = failure.reply?.description ?? failure.description
    self.init(
      results: Dictionary(uniqueKeysWithValues: recipients.map { ($0, (failure.outcome, Optional(reply))) }),
      reachedChannel: reachedChannel)
  }

  /// No slot or a cooldown for every recipient: retried when it ends.
  init(deferral: ThrottledDelivery.Deferral, recipients: [String], reachedChannel: Bool) {
    let reply = deferral.reply ?? deferral.reason
    self.init(
      results: Dictionary(uniqueKeysWithValues: recipients.map { ($0, (deferral.outcome, Optional(reply))) }),
      reachedChannel: reachedChannel, retryAt: deferral.until.isFinite ? deferral.until : nil)
  }
}
