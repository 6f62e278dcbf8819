import Testing

@testable import MSCSend

/// Each window kind on literal ledger rows at literal times: when one more may go, and when not,
/// the exact moment it may.
@Suite struct ThrottlePlannerTests {
  let now = 10_000.0

  @Test func slidingMessageWindowFreesWhenTheOldestLeaves() {
    let limits = ChannelLimits(messages: [window("3/1m")])
    let two = [entry(.message, at: now - 50), entry(.message, at: now - 10)]
    #expect(ThrottlePlanner.decide(limits: limits, entries: two, recipients: 1, now: now) == .granted(batchStart: nil))
    let three = two + [entry(.message, at: now - 5)]
    #expect(
      ThrottlePlanner.decide(limits: limits, entries: three, recipients: 1, now: now)
        == .wait(until: now + 10, reason: "3/1m messages"))
    // Exactly one window after the oldest it no longer counts: half-open windows.
    #expect(
      ThrottlePlanner.decide(limits: limits, entries: three, recipients: 1, now: now + 10) == .granted(batchStart: nil))
  }

  @Test func windowsSlideRatherThanResetOnCalendarBoundaries() {
    // 2/24h: two messages yesterday evening still count this morning, until 24 h after each.
    let limits = ChannelLimits(messages: [window("2/24h")])
    let rows = [entry(.message, at: now - 23 * 3600), entry(.message, at: now - 3600)]
    #expect(ThrottlePlanner.decide(limits: limits, entries: rows, recipients: 1, now: now).isWait(until: now + 3600))
  }

  @Test func recipientWindowCountsEveryRecipientAndFreesEnoughForTheRequest() {
    let limits = ChannelLimits(recipients: [window("10/1h")])
    let rows = [
      entry(.recipients, at: now - 3000, count: 4), entry(.recipients, at: now - 2000, count: 3),
      entry(.recipients, at: now - 1000, count: 2),
    ]
    // 9 used: 1 more fits, 2 do not.
    #expect(ThrottlePlanner.decide(limits: limits, entries: rows, recipients: 1, now: now) == .granted(batchStart: nil))
    // 5 needed: once the first row (4) leaves, at +600 s, 5 + 5 = 10 fits.
    #expect(ThrottlePlanner.decide(limits: limits, entries: rows, recipients: 5, now: now).isWait(until: now + 600))
    // 8 needed: 2 + 8 = 10 only once the second row has left too.
    #expect(ThrottlePlanner.decide(limits: limits, entries: rows, recipients: 8, now: now).isWait(until: now + 1600))
    // More than the window holds: never.
    #expect(ThrottlePlanner.decide(limits: limits, entries: [], recipients: 11, now: now).isWait(until: .infinity))
  }

  @Test func everyWindowMustHaveRoomAndTheLatestDecides() {
    let limits = ChannelLimits(messages: [window("2/1m"), window("3/1h")])
    let rows = [entry(.message, at: now - 3000), entry(.message, at: now - 30), entry(.message, at: now - 20)]
    // The minute window frees at +30 s, the hour window only at +600 s.
    #expect(
      ThrottlePlanner.decide(limits: limits, entries: rows, recipients: 1, now: now)
        == .wait(until: now + 600, reason: "3/1h messages"))
  }

  @Test func aReservationInFlightCountsFromItsAnswerNotItsStart() {
    let limits = ChannelLimits(messages: [window("1/10s")])
    let started = [entry(.message, at: now - 30, state: .reserved)]
    // Reserved 30 s ago and still not answered: the message may arrive any moment, so its
    // window cannot end before 10 s from now.
    #expect(ThrottlePlanner.decide(limits: limits, entries: started, recipients: 1, now: now).isWait(until: now + 10))
    let answered = [entry(.message, at: now - 3, state: .used)]
    #expect(ThrottlePlanner.decide(limits: limits, entries: answered, recipients: 1, now: now).isWait(until: now + 7))
    let released = [entry(.message, at: now - 3, state: .released)]
    #expect(
      ThrottlePlanner.decide(limits: limits, entries: released, recipients: 1, now: now) == .granted(batchStart: nil))
  }

  @Test func batchModeOpensFillsAndWaitsForTheNextBatch() {
    let limits = ChannelLimits(batch: BatchLimit(size: 3, every: 45))
    // No batch open: this message opens one now.
    #expect(ThrottlePlanner.decide(limits: limits, entries: [], recipients: 1, now: now) == .granted(batchStart: now))
    let start = now - 10
    let two = [entry(.message, at: start, batchStart: start), entry(.message, at: now - 5, batchStart: start)]
    #expect(
      ThrottlePlanner.decide(limits: limits, entries: two, recipients: 1, now: now) == .granted(batchStart: start))
    let full = two + [entry(.message, at: now - 1, batchStart: start)]
    #expect(ThrottlePlanner.decide(limits: limits, entries: full, recipients: 1, now: now).isWait(until: start + 45))
    // When it closes, the next message opens the next batch, however recent the last one was.
    #expect(
      ThrottlePlanner.decide(limits: limits, entries: full, recipients: 1, now: start + 45)
        == .granted(batchStart: start + 45))
    // A failed send gives its place in the batch back.
    let oneReleased = two + [entry(.message, at: now - 1, state: .released, batchStart: start)]
    #expect(
      ThrottlePlanner.decide(limits: limits, entries: oneReleased, recipients: 1, now: now)
        == .granted(batchStart: start))
  }

  @Test func batchModeIsABurstThenAPauseNotASlidingWindow() {
    // 3 per 45 s in batch mode: after a batch opened at 0 and filled at 40, the next three may
    // all go at 45 (a sliding 3/45s window would spread them to 45, 85, 85).
    let limits = ChannelLimits(batch: BatchLimit(size: 3, every: 45))
    let rows = [
      entry(.message, at: 0, batchStart: 0), entry(.message, at: 40, batchStart: 0),
      entry(.message, at: 40, batchStart: 0),
    ]
    var taken = rows
    for _ in 0..<3 {
      guard case .granted(let start) = ThrottlePlanner.decide(limits: limits, entries: taken, recipients: 1, now: 45)
      else {
        Issue.record("batch should have room at 45")
        return
      }
      #expect(start == 45)
      taken.append(entry(.message, at: 45, batchStart: start))
    }
    #expect(ThrottlePlanner.decide(limits: limits, entries: taken, recipients: 1, now: 45).isWait(until: 90))
  }

  @Test func connectionsCountOnlyOpenOnes() {
    let limits = ChannelLimits(connections: 2)
    let rows = [entry(.connection, at: now, state: .reserved), entry(.connection, at: now - 100, state: .released)]
    #expect(ThrottlePlanner.decide(limits: limits, entries: rows, recipients: 1, now: now) == .granted(batchStart: nil))
    let busy = rows + [entry(.connection, at: now, state: .reserved)]
    #expect(
      ThrottlePlanner.decide(limits: limits, entries: busy, recipients: 1, now: now)
        == .wait(until: now + ThrottlePlanner.pollInterval, reason: "2 connections in use"))
  }

  @Test func waitersQueuedAheadPushTheWakeUpToTheirOwnSlot() {
    let limits = ChannelLimits(messages: [window("3/1m")])
    let rows = [entry(.message, at: now - 50), entry(.message, at: now - 40), entry(.message, at: now - 30)]
    let wake = { (ahead: Int) in
      ThrottlePlanner.decide(limits: limits, entries: rows, recipients: 1, now: now, ahead: [.message: ahead])
    }
    #expect(wake(0).isWait(until: now + 10))
    #expect(wake(1).isWait(until: now + 20))
    #expect(wake(2).isWait(until: now + 30))
    // Beyond one window's worth: the slot the first waiter takes frees again a window later.
    #expect(wake(3).isWait(until: now + 70))
    // Waiting rows themselves take no slot, and a free slot goes to whoever asks, queue or not.
    let queued = [entry(.message, at: now - 5, state: .waiting)]
    #expect(
      ThrottlePlanner.decide(limits: limits, entries: queued, recipients: 1, now: now, ahead: [.message: 5])
        == .granted(batchStart: nil))
  }

  @Test func usageReportsUsedOldestAndNextSlot() {
    let limits = ChannelLimits(messages: [window("2/1m")], recipients: [window("10/1h")], connections: 3)
    let rows = [
      entry(.message, at: now - 40), entry(.message, at: now - 20), entry(.recipients, at: now - 40, count: 4),
      entry(.recipients, at: now - 20, count: 1), entry(.connection, at: now, state: .reserved),
    ]
    let usage = ThrottlePlanner.usage(limits: limits, entries: rows, now: now)
    #expect(usage.count == 3)
    #expect(
      usage[0]
        == .init(kind: .messages, limit: 2, window: "1m", used: 2, oldestLeavesAt: now + 20, nextFreeAt: now + 20))
    #expect(
      usage[1]
        == .init(kind: .recipients, limit: 10, window: "1h", used: 5, oldestLeavesAt: now + 3560, nextFreeAt: now))
    #expect(usage[2] == .init(kind: .connections, limit: 3, window: nil, used: 1, oldestLeavesAt: nil, nextFreeAt: now))
  }
}

extension ThrottlePlanner.Decision {
  func isWait(until expected: Double) -> Bool {
    if case .wait(let until, _) = self { return until == expected }
    return false
  }
}
