import Testing

@testable import MSCSend

/// Reservations and cooldowns through a real ledger with an injected clock.
@Suite struct ThrottleGateTests {
  private func settle(
    _ gate: ThrottleGate, _ grant: ThrottleGate.Grant, limits: ChannelLimits, _ outcome: OutcomeClass,
    reply: String? = nil
  ) throws -> CooldownRecord? {
    try gate.settle(grant, limits: limits, attempts: [.init(recipient: "r@x.test", outcome: outcome, reply: reply)])
  }

  @Test func aSlidingWindowCountsFromEachAnswer() throws {
    let clock = ManualClock()
    let start = clock.now()
    let gate = try makeGate(clock: clock)
    let limits = ChannelLimits(messages: [window("3/1m")])
    for _ in 0..<3 {
      let grant = try #require(try gate.reserve(channel: "c", limits: limits, recipients: 1).grant)
      clock.advance(2)  // the session takes 2 s: the window counts from its answer
      _ = try settle(gate, grant, limits: limits, .accepted)
      clock.advance(8)
    }
    let refused = try gate.reserve(channel: "c", limits: limits, recipients: 1)
    #expect(refused.waitUntil == start + 2 + 60)
    clock.advance(start + 62 - clock.now())
    #expect(try gate.reserve(channel: "c", limits: limits, recipients: 1).grant != nil)
  }

  @Test func undeliveredMessagesGiveTheirSlotsBack() throws {
    let clock = ManualClock()
    let gate = try makeGate(clock: clock)
    let limits = ChannelLimits(messages: [window("1/1h")], recipients: [window("3/1h")], connections: 1)
    let grant = try #require(try gate.reserve(channel: "c", limits: limits, recipients: 3).grant)
    _ = try settle(gate, grant, limits: limits, .recipientPermanent, reply: "550 5.1.1 unknown")
    #expect(try gate.reserve(channel: "c", limits: limits, recipients: 3).grant != nil)
  }

  @Test func onlyAcceptedRecipientsCount() throws {
    let clock = ManualClock()
    let gate = try makeGate(clock: clock)
    let limits = ChannelLimits(recipients: [window("4/1h")])
    let grant = try #require(try gate.reserve(channel: "c", limits: limits, recipients: 3).grant)
    try gate.settle(
      grant, limits: limits,
      attempts: [
        .init(recipient: "a", outcome: .accepted, reply: nil), .init(recipient: "b", outcome: .uncertain, reply: nil),
        .init(recipient: "c", outcome: .recipientPermanent, reply: nil),
      ])
    // a and b (uncertain: it may have arrived) count; c does not: 2 of 4 left.
    #expect(try gate.reserve(channel: "c", limits: limits, recipients: 2).grant != nil)
    #expect(try gate.reserve(channel: "c", limits: limits, recipients: 1).grant == nil)
  }

  @Test func aQuotaReplyPausesTheChannelForEveryProcessUntilTheWindowRolls() throws {
    let path = try temporaryLedgerPath()
    let clock = ManualClock()
    let start = clock.now()
    let limits = ChannelLimits(messages: [window("30/1m")], recipients: [window("10000/24h")])
    let first = try makeGate(clock: clock, path: path)
    let sent = try #require(try first.reserve(channel: "work", limits: limits, recipients: 1).grant)
    _ = try settle(first, sent, limits: limits, .accepted)
    clock.advance(3600)
    let refused = try #require(try first.reserve(channel: "work", limits: limits, recipients: 1).grant)
    let reply = "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException"
    let cooldown = try settle(first, refused, limits: limits, .quotaExhausted, reply: reply)
    // The longest window (recipients, 24 h) frees when the one recipient counted there leaves it.
    #expect(cooldown?.reason == .quota)
    #expect(cooldown?.until == start + 86_400)
    let second = try makeGate(clock: clock, path: path, process: ProcessIdentity(pid: 5555, startTime: 5))
    let paused = try #require(try second.reserve(channel: "work", limits: limits, recipients: 1).cooldown)
    #expect(paused.reason == .quota && paused.reply == reply)
    #expect(try second.reserve(channel: "other", limits: limits, recipients: 1).grant != nil, "other channels go on")
    clock.advance(start + 86_400 - clock.now())
    #expect(try second.reserve(channel: "work", limits: limits, recipients: 1).grant != nil)
  }

  @Test func aQuotaReplyWithNothingCountedPausesForAWholeWindow() throws {
    let clock = ManualClock()
    let gate = try makeGate(clock: clock)
    let limits = ChannelLimits(messages: [window("20/1m"), window("500/24h")])
    let grant = try #require(try gate.reserve(channel: "c", limits: limits, recipients: 1).grant)
    let cooldown = try settle(
      gate, grant, limits: limits, .quotaExhausted, reply: "550 5.4.5 Daily user sending limit exceeded.")
    #expect(cooldown?.until == clock.now() + 86_400)
    // A relay without windows (SendGrid's "Maximum credits") waits a day.
    let relay = try #require(try gate.reserve(channel: "relay", limits: .none, recipients: 1).grant)
    #expect(try settle(gate, relay, limits: .none, .quotaExhausted)?.until == clock.now() + 86_400)
  }

  @Test func throttleRepliesBackOffExponentiallyCappedAndResetBySuccess() throws {
    let clock = ManualClock()
    let gate = try makeGate(clock: clock)
    let limits = ChannelLimits(backoff: 30)
    var pauses: [Double] = []
    for _ in 0..<8 {
      let grant = try #require(try gate.reserve(channel: "c", limits: limits, recipients: 1).grant)
      let cooldown = try #require(
        try settle(gate, grant, limits: limits, .rateThrottle, reply: "421 4.7.0 Try again later"))
      #expect(cooldown.until == clock.now() + cooldown.backoffSeconds)
      pauses.append(cooldown.backoffSeconds)
      #expect(try gate.reserve(channel: "c", limits: limits, recipients: 1).cooldown?.reason == .throttle)
      clock.advance(cooldown.backoffSeconds)
    }
    #expect(pauses == [30, 60, 120, 240, 480, 960, 960, 960])
    let success = try #require(try gate.reserve(channel: "c", limits: limits, recipients: 1).grant)
    #expect(try settle(gate, success, limits: limits, .accepted) == nil)
    #expect(try gate.cooldown(channel: "c") == nil, "a success lifts the throttle and forgets its backoff")
    let again = try #require(try gate.reserve(channel: "c", limits: limits, recipients: 1).grant)
    #expect(try settle(gate, again, limits: limits, .rateThrottle)?.backoffSeconds == 30)
  }

  @Test func processesThrottledInOneBurstShareOneStep() throws {
    let clock = ManualClock()
    let gate = try makeGate(clock: clock)
    let limits = ChannelLimits(backoff: 30)
    let grants = try (0..<3).map { _ in
      try #require(try gate.reserve(channel: "c", limits: limits, recipients: 1).grant)
    }
    clock.advance(1)
    let pauses = try grants.map { try settle(gate, $0, limits: limits, .rateThrottle)?.backoffSeconds }
    #expect(pauses == [30, 30, 30])
  }

  @Test func aSuccessDoesNotLiftAThrottleThatCameDuringIt() throws {
    let clock = ManualClock()
    let gate = try makeGate(clock: clock)
    let limits = ChannelLimits(backoff: 30)
    let slow = try #require(try gate.reserve(channel: "c", limits: limits, recipients: 1).grant)
    clock.advance(1)
    let fast = try #require(try gate.reserve(channel: "c", limits: limits, recipients: 1).grant)
    _ = try settle(gate, fast, limits: limits, .rateThrottle)
    clock.advance(1)
    _ = try settle(gate, slow, limits: limits, .accepted)
    #expect(try gate.cooldown(channel: "c")?.reason == .throttle)
  }

  @Test func aThrottleNeverShortensAQuotaPause() throws {
    let clock = ManualClock()
    let gate = try makeGate(clock: clock)
    let limits = ChannelLimits(recipients: [window("100/24h")])
    let first = try #require(try gate.reserve(channel: "c", limits: limits, recipients: 1).grant)
    let second = try #require(try gate.reserve(channel: "c", limits: limits, recipients: 1).grant)
    let quota = try #require(try settle(gate, first, limits: limits, .quotaExhausted))
    #expect(try settle(gate, second, limits: limits, .rateThrottle) == nil)
    #expect(try gate.cooldown(channel: "c") == quota)
  }

  /// Processes that must wait queue in the ledger, so that each wakes for its own slot rather
  /// than all of them for the first; the queue's rows count for nothing and leave with their owner.
  @Test func waitersQueueForSuccessiveSlots() throws {
    let path = try temporaryLedgerPath()
    let clock = ManualClock()
    let start = clock.now()
    let limits = ChannelLimits(messages: [window("2/10s")])
    let sender = try makeGate(clock: clock, path: path)
    for offset in [0.0, 1] {
      clock.advance(offset)
      let grant = try #require(try sender.reserve(channel: "c", limits: limits, recipients: 1).grant)
      _ = try settle(sender, grant, limits: limits, .accepted)
    }
    let waiters = try (0..<3).map { index in
      try makeGate(clock: clock, path: path, process: ProcessIdentity(pid: Int32(6000 + index), startTime: 1))
    }
    let first = try waiters[0].reserve(channel: "c", limits: limits, recipients: 1)
    let second = try waiters[1].reserve(channel: "c", limits: limits, recipients: 1)
    let third = try waiters[2].reserve(channel: "c", limits: limits, recipients: 1)
    #expect([first, second, third].map(\.waitUntil) == [start + 10, start + 11, start + 20])
    // Asking again keeps the place: the first waiter is still first.
    let again = try waiters[0].reserve(channel: "c", limits: limits, recipients: 1, ticket: first.ticket)
    #expect(again.waitUntil == start + 10 && again.ticket == first.ticket)
    // The second gives up: the third moves up.
    try waiters[1].withdraw(ticket: try #require(second.ticket))
    #expect(
      try waiters[2].reserve(channel: "c", limits: limits, recipients: 1, ticket: third.ticket).waitUntil == start + 11)
    clock.advance(start + 10 - clock.now())
    let granted = try waiters[0].reserve(channel: "c", limits: limits, recipients: 1, ticket: first.ticket)
    #expect(granted.grant?.id == first.ticket, "the ticket becomes the grant")
    let rows = try sender.ledger.database.query(
      "SELECT state, count(*) FROM reservations GROUP BY state ORDER BY state")
    #expect(
      rows == [[.text("reserved"), .integer(2)], [.text("used"), .integer(4)], [.text("waiting"), .integer(2)]])
  }

  @Test func aDeadWaiterLeavesTheQueue() throws {
    let path = try temporaryLedgerPath()
    let clock = ManualClock()
    let limits = ChannelLimits(messages: [window("1/10s")])
    let dead = ProcessIdentity(pid: 7001, startTime: 1)
    let sender = try makeGate(clock: clock, path: path)
    _ = try settle(
      sender, try #require(try sender.reserve(channel: "c", limits: limits, recipients: 1).grant), limits: limits,
      .accepted)
    _ = try makeGate(clock: clock, path: path, process: dead).reserve(channel: "c", limits: limits, recipients: 1)
    let survivor = try makeGate(clock: clock, path: path, alive: { $0 != dead })
    #expect(try survivor.reserve(channel: "c", limits: limits, recipients: 1).waitUntil == clock.now() + 10)
  }

  @Test func connectionsAreHeldUntilTheAttemptIsSettled() throws {
    let clock = ManualClock()
    let gate = try makeGate(clock: clock)
    let limits = ChannelLimits(connections: 2)
    let first = try #require(try gate.reserve(channel: "c", limits: limits, recipients: 1).grant)
    #expect(try gate.reserve(channel: "c", limits: limits, recipients: 1).grant != nil)
    #expect(try gate.reserve(channel: "c", limits: limits, recipients: 1).waitUntil == clock.now() + 1)
    _ = try settle(gate, first, limits: limits, .accepted)
    #expect(try gate.reserve(channel: "c", limits: limits, recipients: 1).grant != nil)
  }
}
