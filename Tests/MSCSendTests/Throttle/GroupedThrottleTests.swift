import Testing

@testable import MSCSend

/// The throttle of a run on open sessions: no ledger transaction per message where no limit
/// counts, settlements written in groups, pauses written at once.
@Suite struct GroupedThrottleTests {
  private let uncounted = ChannelLimits(connections: 2).forOpenSession

  private func outcomes(_ gate: ThrottleGate) throws -> [OutcomeRecord] {
    try gate.ledger.transaction { (transaction) throws(LedgerError) in try transaction.outcomes(messageID: "<m@x>") }
  }

  @Test func uncountedGrantsWriteNothingUntilTheGroupIsWritten() throws {
    let clock = ManualClock()
    let gate = try makeGate(clock: clock)
    let grouped = GroupedThrottle(gate: gate, clock: clock)
    #expect(!uncounted.isCounted, "a session's connection slot leaves nothing to count per message")
    let grant = try #require(
      try grouped.reserve(channel: "c", limits: uncounted, recipients: 1, messageID: "<m@x>", ticket: nil).grant)
    #expect(!grant.counted)
    let cooldown = try grouped.settle(
      grant, limits: uncounted, attempts: [.init(recipient: "r@x.test", outcome: .accepted, reply: "250 ok")],
      messageID: "<m@x>", answeredAt: clock.now())
    #expect(cooldown == nil)
    #expect(grouped.hasBufferedSettlements)
    #expect(try outcomes(gate).isEmpty)
    try gate.ledger.transaction { (transaction) throws(LedgerError) in try grouped.write(in: transaction) }
    #expect(try outcomes(gate).map(\.outcome) == [.accepted])
  }

  @Test func aThrottleReplyPausesTheChannelAtOnceAndASuccessAfterItLiftsIt() throws {
    let clock = ManualClock()
    let gate = try makeGate(clock: clock)
    let grouped = GroupedThrottle(gate: gate, clock: clock)
    let first = try #require(
      try grouped.reserve(channel: "c", limits: uncounted, recipients: 1, messageID: nil, ticket: nil).grant)
    let paused = try grouped.settle(
      first, limits: uncounted,
      attempts: [.init(recipient: "r@x.test", outcome: .rateThrottle, reply: "421 4.7.0 try later")],
      messageID: nil, answeredAt: clock.now())
    #expect(paused?.reason == .throttle)
    #expect(try gate.cooldown(channel: "c")?.reason == .throttle, "in the ledger before the next reservation")
    let refused = try grouped.reserve(channel: "c", limits: uncounted, recipients: 1, messageID: nil, ticket: nil)
    #expect(refused.cooldown != nil)
    clock.advance(31)
    let second = try #require(
      try grouped.reserve(channel: "c", limits: uncounted, recipients: 1, messageID: nil, ticket: nil).grant)
    _ = try grouped.settle(
      second, limits: uncounted, attempts: [.init(recipient: "r@x.test", outcome: .accepted, reply: "250 ok")],
      messageID: nil, answeredAt: clock.now())
    try gate.ledger.transaction { (transaction) throws(LedgerError) in try grouped.write(in: transaction) }
    #expect(try gate.cooldown(channel: "c") == nil, "a success after the pause lifts it")
  }

  @Test func countedLimitsGoThroughTheGateForEachMessage() throws {
    let clock = ManualClock()
    let gate = try makeGate(clock: clock)
    let grouped = GroupedThrottle(gate: gate, clock: clock)
    let limits = ChannelLimits(messages: [window("1/1m")])
    let grant = try #require(
      try grouped.reserve(channel: "c", limits: limits, recipients: 1, messageID: nil, ticket: nil).grant)
    #expect(grant.counted)
    #expect(
      try grouped.reserve(channel: "c", limits: limits, recipients: 1, messageID: nil, ticket: nil).waitUntil != nil)
  }

  @Test func aSessionHoldsOneConnectionSlot() throws {
    let clock = ManualClock()
    let gate = try makeGate(clock: clock, alive: { _ in true })
    let limits = ChannelLimits(connections: 1)
    let held = try #require(try gate.reserveConnection(channel: "c", limits: limits).grant)
    let other = try makeGate(
      clock: clock, path: gate.ledger.path, process: ProcessIdentity(pid: 5, startTime: 5), alive: { _ in true })
    #expect(try other.reserveConnection(channel: "c", limits: limits).waitUntil == clock.now() + 1)
    try gate.releaseConnection(held)
    #expect(try other.reserveConnection(channel: "c", limits: limits).grant != nil)
  }
}
