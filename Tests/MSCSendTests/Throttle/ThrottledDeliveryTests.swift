import Foundation
import Testing

@testable import MSCSend

/// A whole message through the throttle, with a scripted transport instead of SMTP and a manual
/// clock: splitting, waiting, deferring, retrying after a throttle, handing over on quota.
@Suite struct ThrottledDeliveryTests {
  /// Records each transaction and answers from a script (default: everyone accepted).
  final class ScriptedChannels: @unchecked Sendable {
    /// One scripted answer: a report built from the envelope, or a failure of the whole session.
    enum Step {
      case report((Envelope) -> DeliveryReport)
      case fail(ChannelError)
    }

    var calls: [(channel: String, recipients: [String], at: Double)] = []
    var script: [Step] = []
    let clock: ManualClock

    init(clock: ManualClock) { self.clock = clock }

    func transport(_ channel: ChannelConfig, _ envelope: Envelope) throws(ChannelError) -> ChannelDelivery.Result {
      calls.append((channel.name, envelope.recipients, clock.now()))
      let report: DeliveryReport
      switch script.isEmpty ? .report(Self.accepted) : script.removeFirst() {
      case .report(let build): report = build(envelope)
      case .fail(let error): throw error
      }
      return ChannelDelivery.Result(report: report, destination: "\(channel.name).test:587", tls: nil)
    }

    static func accepted(_ envelope: Envelope) -> DeliveryReport {
      DeliveryReport(
        recipients: envelope.recipients.map {
          RecipientResult(address: $0, reply: SMTPReply(code: 250, lines: ["2.0.0 ok"]), outcome: .accepted)
        }, transactions: 1)
    }
  }

  static let throttled = ChannelError.session(
    SMTPError(
      phase: .mail, reason: .rejected,
      reply: SMTPReply(code: 421, lines: ["4.7.0 Try again later, closing connection."])))
  static let quotaReply = SMTPReply(
    code: 554, lines: ["5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException"])

  static func refusedForQuota(_ envelope: Envelope) -> DeliveryReport {
    DeliveryReport(
      recipients: envelope.recipients.map { RecipientResult(address: $0, reply: quotaReply, outcome: .quotaExhausted) },
      transactions: 0)
  }

  private func channel(_ name: String = "work", limits: ChannelLimits, fallback: String? = nil) -> ChannelConfig {
    ChannelConfig(name: name, kind: .smtp, profile: "custom", limits: limits, fallback: fallback)
  }

  private func delivery(
    _ gate: ThrottleGate, _ clock: ManualClock, _ channels: ScriptedChannels, maxWait: Double = 120,
    fallback: ChannelConfig? = nil, events: EventLog? = nil
  ) -> ThrottledDelivery {
    ThrottledDelivery(
      gate: gate, clock: clock, options: .init(maxWait: maxWait),
      transport: { (channel, envelope) throws(ChannelError) in try channels.transport(channel, envelope) },
      fallback: { _ in fallback }, events: { events?.append($0) })
  }

  final class EventLog: @unchecked Sendable {
    var events: [ThrottledDelivery.Event] = []
    func append(_ event: ThrottledDelivery.Event) { events.append(event) }
  }

  @Test func largeEnvelopesAreSplitIntoTransactionsThatEachCountAsAMessage() throws {
    let clock = ManualClock()
    let start = clock.now()
    let channels = ScriptedChannels(clock: clock)
    let events = EventLog()
    let limits = ChannelLimits(messages: [window("2/1m")], recipientsPerMessage: 2)
    let outcome = try delivery(try makeGate(clock: clock), clock, channels, events: events)
      .deliver(
        Envelope(sender: "s@x.test", recipients: ["a", "b", "c", "d", "e"]), messageID: "<m>",
        via: channel(limits: limits))
    #expect(channels.calls.map(\.recipients) == [["a", "b"], ["c", "d"], ["e"]])
    #expect(channels.calls.map(\.at) == [start, start, start + 60], "the third transaction waits for the window")
    #expect(outcome.report.acceptedCount == 5)
    #expect(outcome.report.transactions == 3)
    let ticks = events.events.filter { if case .waiting = $0 { true } else { false } }
    #expect(ticks.count == 60, "one countdown tick a second")
    #expect(events.events.last == .waited)
  }

  @Test func noSlotBeforeMaxWaitIsDeferredAtOnceWithTheTime() throws {
    let clock = ManualClock()
    let channels = ScriptedChannels(clock: clock)
    let gate = try makeGate(clock: clock)
    let limits = ChannelLimits(messages: [window("1/1h")])
    let work = channel(limits: limits)
    _ = try delivery(gate, clock, channels).deliver(Envelope(sender: "s", recipients: ["a"]), messageID: nil, via: work)
    let before = clock.now()
    #expect {
      _ = try delivery(gate, clock, channels, maxWait: 120).deliver(
        Envelope(sender: "s", recipients: ["b"]), messageID: nil, via: work)
    } throws: { error in
      guard case .deferred(let deferral) = error as? ThrottledDelivery.Failure else { return false }
      return deferral.until == before + 3600 && deferral.outcome == .rateThrottle && deferral.reason == "1/1h messages"
    }
    #expect(clock.now() == before, "no time spent waiting in vain")
    #expect(channels.calls.count == 1)
  }

  @Test func noWaitMeansAnyWaitIsADeferral() throws {
    let clock = ManualClock()
    let channels = ScriptedChannels(clock: clock)
    let gate = try makeGate(clock: clock)
    let work = channel(limits: ChannelLimits(messages: [window("1/2s")]))
    _ = try delivery(gate, clock, channels).deliver(Envelope(sender: "s", recipients: ["a"]), messageID: nil, via: work)
    #expect(throws: ThrottledDelivery.Failure.self) {
      _ = try delivery(gate, clock, channels, maxWait: 0).deliver(
        Envelope(sender: "s", recipients: ["b"]), messageID: nil, via: work)
    }
    // With time to wait, the same send goes 2 s later.
    _ = try delivery(gate, clock, channels, maxWait: 5).deliver(
      Envelope(sender: "s", recipients: ["b"]), messageID: nil, via: work)
    #expect(channels.calls.count == 2)
    #expect(clock.totalSlept == 2)
  }

  @Test func aThrottleReplyIsRetriedAfterTheBackoff() throws {
    let clock = ManualClock()
    let start = clock.now()
    let channels = ScriptedChannels(clock: clock)
    channels.script = [.fail(Self.throttled)]
    let events = EventLog()
    let outcome = try delivery(try makeGate(clock: clock), clock, channels, events: events)
      .deliver(
        Envelope(sender: "s", recipients: ["a", "b"]), messageID: nil, via: channel(limits: ChannelLimits(backoff: 30)))
    #expect(outcome.report.acceptedCount == 2)
    #expect(channels.calls.map(\.at) == [start, start + 30])
    #expect(
      events.events.contains {
        if case .cooldown(let text) = $0 { text.contains("421 4.7.0 Try again later") } else { false }
      })
  }

  @Test func aThrottleOutlastingMaxWaitIsATemporaryFailure() throws {
    let clock = ManualClock()
    let channels = ScriptedChannels(clock: clock)
    channels.script = Array(repeating: .fail(Self.throttled), count: 5)
    #expect {
      _ = try delivery(try makeGate(clock: clock), clock, channels, maxWait: 60)
        .deliver(
          Envelope(sender: "s", recipients: ["a"]), messageID: nil, via: channel(limits: ChannelLimits(backoff: 30)))
    } throws: { error in
      guard case .deferred(let deferral) = error as? ThrottledDelivery.Failure else { return false }
      return deferral.outcome == .rateThrottle && deferral.outcome.exitCode == .tempFail
        && deferral.reply == "421 4.7.0 Try again later, closing connection."
    }
    // Tried at 0 and after 30 s; the next backoff (60 s) would end beyond --max-wait.
    #expect(channels.calls.count == 2)
  }

  @Test func quotaRefusedMailGoesToTheFallbackChannel() throws {
    let clock = ManualClock()
    let channels = ScriptedChannels(clock: clock)
    channels.script = [.report(Self.refusedForQuota)]
    let events = EventLog()
    let relay = channel("relay", limits: .none)
    let outcome = try delivery(try makeGate(clock: clock), clock, channels, fallback: relay, events: events)
      .deliver(
        Envelope(sender: "s", recipients: ["a", "b"]), messageID: nil,
        via: channel(limits: ChannelLimits(recipients: [window("10000/24h")]), fallback: "relay"))
    #expect(channels.calls.map(\.channel) == ["work", "relay"])
    #expect(outcome.fallbackChannel == "relay")
    #expect(outcome.report.acceptedCount == 2)
    #expect(
      events.events.contains {
        if case .handover(let text) = $0 {
          text.contains("handing 2 recipient(s) to its fallback channel relay")
        } else {
          false
        }
      })
  }

  @Test func quotaWithoutFallbackIsUnavailableWithTheServersWords() throws {
    let clock = ManualClock()
    let path = try temporaryLedgerPath()
    let channels = ScriptedChannels(clock: clock)
    channels.script = [.report(Self.refusedForQuota)]
    let work = channel(limits: ChannelLimits(messages: [window("30/1m")], recipients: [window("10000/24h")]))
    for attempt in 1...2 {
      // The second process finds the channel paused and does not even connect.
      #expect {
        _ = try delivery(try makeGate(clock: clock, path: path), clock, channels)
          .deliver(Envelope(sender: "s", recipients: ["a"]), messageID: nil, via: work)
      } throws: { error in
        guard case .deferred(let deferral) = error as? ThrottledDelivery.Failure else { return false }
        return deferral.outcome.exitCode == .unavailable && deferral.reply == Self.quotaReply.description
      }
      #expect(channels.calls.count == 1, "attempt \(attempt)")
    }
  }

  @Test func aChannelFailureEndsTheOtherChunksWithoutTrying() throws {
    let clock = ManualClock()
    let channels = ScriptedChannels(clock: clock)
    let refused = ChannelError.session(
      SMTPError(
        phase: .authentication, reason: .rejected, reply: SMTPReply(code: 535, lines: ["5.7.8 bad credentials"])))
    channels.script = [.fail(refused)]
    #expect {
      _ = try delivery(try makeGate(clock: clock), clock, channels)
        .deliver(
          Envelope(sender: "s", recipients: ["a", "b", "c"]), messageID: nil,
          via: channel(limits: ChannelLimits(recipientsPerMessage: 1)))
    } throws: { error in
      guard case .channel(let channelError, let failed) = error as? ThrottledDelivery.Failure else { return false }
      return channelError.outcome == .authentication && failed.name == "work"
    }
    #expect(channels.calls.count == 1)
  }
}
