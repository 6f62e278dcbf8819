import Testing

@testable import MSCSend

/// The queue's state machine for one attempt: which recipients are done, what the message becomes,
/// when it is tried again, and the exit code it stands for.
@Suite struct QueueOutcomeTests {
  private func message(
    _ recipients: [String], attempts: Int = 0, uncertainRetries: Int = 0, created: Double = 1_000_000
  ) -> QueuedMessage {
    QueuedMessage(
      id: 7, messageID: "<m@acme.test>", channel: "work", sender: "a@acme.test", spool: nil, size: 10,
      eightBit: false, smtpUTF8: false, state: .sending, leaseHolder: nil, leaseUntil: nil, attempts: attempts,
      nextAttempt: created, created: created, updated: created, lastError: nil, lastClass: nil, campaign: nil,
      template: nil, idempotencyKey: nil, uncertainRetries: uncertainRetries,
      recipients: recipients.enumerated().map {
        QueuedRecipient(address: $1, position: $0, state: .pending, outcome: nil, reply: nil, updated: nil)
      })
  }

  private let policy = RetryPolicy(maxAge: 5 * 86_400, uncertainRetries: 1)
  private let now = 1_000_100.0

  private func complete(_ message: QueuedMessage, _ result: AttemptResult, random: Double = 0.5) -> Completion {
    QueueOutcome.completion(for: message, result: result, policy: policy, now: now, random: random)
  }

  @Test func everyoneAcceptedIsSent() {
    let done = complete(
      message(["a@x.test", "b@x.test"]),
      AttemptResult(
        results: results(["a@x.test", "b@x.test"], .accepted), reachedChannel: true))
    #expect(done.state == .sent)
    #expect(done.recipients.map(\.state) == [.sent, .sent])
    #expect(done.attemptsMade == 1)
    #expect(QueueOutcome.exitCode(done) == .ok)
  }

  @Test func aPermanentRefusalFailsOnlyThatRecipient() {
    var found = results(["a@x.test"], .accepted)
    found["b@x.test"] = (.recipientPermanent, "550 5.1.1 no such user")
    let done = complete(message(["a@x.test", "b@x.test"]), AttemptResult(results: found, reachedChannel: true))
    #expect(done.state == .sent, "a message sent to some recipients is sent; the refusal is per recipient")
    #expect(done.recipients.first { $0.address == "b@x.test" }?.state == .failed)
    #expect(done.lastError == "b@x.test: recipient refused: 550 5.1.1 no such user")
    #expect(QueueOutcome.exitCode(done) == .dataError)
    let refused = complete(
      message(["b@x.test"]),
      AttemptResult(
        results: results(["b@x.test"], .recipientPermanent, "550 5.1.1 no"), reachedChannel: true))
    #expect(refused.state == .failed)
  }

  @Test func aTemporaryFailureWaitsWithExponentialBackoffAndJitter() {
    let found = results(["a@x.test"], .transient, "451 4.3.0 try later")
    let first = complete(message(["a@x.test"]), AttemptResult(results: found, reachedChannel: true), random: 0)
    #expect(first.state == .deferred)
    #expect(first.nextAttempt == now + 30, "half of the first 60 s at the lowest jitter")
    let third = complete(
      message(["a@x.test"], attempts: 2), AttemptResult(results: found, reachedChannel: true), random: 1)
    #expect(third.nextAttempt == now + 240, "60 s doubled twice, at the highest jitter")
    let capped = complete(
      message(["a@x.test"], attempts: 30), AttemptResult(results: found, reachedChannel: true), random: 1)
    #expect(capped.nextAttempt == now + 3600)
    #expect(QueueOutcome.exitCode(first) == .tempFail)
  }

  @Test func theThrottleSaysWhenWithoutCountingAnAttempt() {
    let result = AttemptResult(
      results: results(["a@x.test"], .rateThrottle, "no free slot"), reachedChannel: false, retryAt: now + 42)
    let done = complete(message(["a@x.test"]), result)
    #expect(done.state == .deferred)
    #expect(done.nextAttempt == now + 42)
    #expect(done.attemptsMade == 0)
    let quota = AttemptResult(
      results: results(["a@x.test"], .quotaExhausted, "554 5.2.0 quota"), reachedChannel: true, retryAt: now + 900)
    let paused = complete(message(["a@x.test"]), quota)
    #expect(paused.nextAttempt == now + 900)
    #expect(QueueOutcome.exitCode(paused) == .tempFail, "quota is 75 once the message waits in the queue")
  }

  @Test func anUncertainOutcomeIsRetriedOnceThenStaysUncertain() {
    let lost = AttemptResult(
      results: results(["a@x.test"], .uncertain, "connection lost after the final dot"), reachedChannel: true)
    let first = complete(message(["a@x.test"]), lost)
    #expect(first.state == .deferred)
    #expect(first.uncertainRetriesAdded == 1)
    #expect(first.recipients.map(\.state) == [.pending])
    let second = complete(message(["a@x.test"], attempts: 1, uncertainRetries: 1), lost)
    #expect(second.state == .uncertain)
    #expect(second.uncertainRetriesAdded == 0)
    #expect(QueueOutcome.exitCode(second) == .tempFail)
    let never = QueueOutcome.completion(
      for: message(["a@x.test"]), result: lost, policy: RetryPolicy(uncertainRetries: 0), now: now, random: 0)
    #expect(never.state == .uncertain, "uncertain_retries = 0: never retried")
  }

  @Test func aMessageOlderThanMaxAgeFailsWithAReport() {
    let old = message(["a@x.test"], attempts: 9, created: now - 5 * 86_400 - 1)
    let done = complete(
      old,
      AttemptResult(
        results: results(["a@x.test"], .transient, "421 4.3.2 busy"), reachedChannel: true))
    #expect(done.state == .failed)
    #expect(done.expired)
    #expect(done.lastError?.hasPrefix("not delivered within max_age 5d; last error: a@x.test:") == true)
    #expect(QueueOutcome.exitCode(done) == .unavailable)
  }

  @Test func aPersonMustActOnARefusedLoginButTheMessageWaits() {
    let done = complete(
      message(["a@x.test"]),
      AttemptResult(
        results: results(["a@x.test"], .authentication, "535 5.7.8 bad credentials"), reachedChannel: true))
    #expect(done.state == .deferred)
    #expect(QueueOutcome.exitCode(done) == .noPermission)
  }
}
