import Foundation

/// `send`'s way through the throttle: a configured channel is reserved in the ledger, waited for
/// (with a countdown on a terminal, silently in cron) and paused by quota or throttle replies; an
/// ad-hoc `--server` is no channel, so it has no limits to share, is not queued (there would be no
/// channel to flush it through) and goes straight out.
extension SendExecution {
  enum Delivered {
    case result(ChannelDelivery.Result, fallback: String?, queued: QueueNote?)
    case exit(ExitCode)
  }

  func deliver(
    _ message: MeasuredContent, envelope: Envelope, messageID: String, decision: RouteDecision,
    configuration: Configuration?, context delivery: ChannelDelivery.Context
  ) -> Delivered {
    let channel = decision.channel
    guard options.adHocEndpoint == nil else {
      do throws(ChannelError) {
        return .result(
          try ChannelDelivery.deliver(message, envelope: envelope, via: channel, context: delivery), fallback: nil,
          queued: nil)
      } catch {
        return .exit(fail(error, channel: channel))
      }
    }
    return deliverQueued(
      message, envelope: envelope, messageID: messageID, decision: decision,
      configuration: configuration ?? ConfigLoader.embeddedDefault(environment: context.environment),
      context: delivery)
  }

  /// The channel named by `fallback`, if it may carry this sender (address-scoped credentials
  /// never send as another address, even to rescue a message).
  func fallbackChannel(of primary: ChannelConfig, configuration: Configuration, sender: String)
    -> ChannelConfig?
  {
    switch Router.fallback(of: primary, in: configuration, sender: sender) {
    case .success(let other): return other
    case .failure(let error):
      let name = primary.fallback ?? ""
      context.warning("the fallback channel \(name) of \(primary.name) cannot take this message: \(error.description)")
      return nil
    case nil: return nil
    }
  }

  func ledgerFailure(_ error: LedgerError) -> ExitCode {
    context.error(
      error.description,
      hint: "nothing was sent; check that folder's permissions and free space, or set [defaults] ledger")
    if options.json { printThrottleJSON(["error": error.description, "class": OutcomeClass.localIO.rawValue]) }
    return .ioError
  }

  /// One line: what holds the channel and until when.
  func describe(_ deferral: ThrottledDelivery.Deferral) -> String {
    let now = SystemThrottleClock().now()
    let when = ThrottleTime.describe(deferral.until, now: now)
    let reply = deferral.reply.map { ": \($0)" } ?? ""
    if deferral.outcome == .quotaExhausted {
      return "channel \(deferral.channel) is out of quota until \(when)\(reply)"
    }
    if deferral.reply != nil {
      return "channel \(deferral.channel) is backing off after a throttle reply until \(when)\(reply)"
    }
    let within = options.maxWait > 0 ? " within --max-wait \(DurationText.format(options.maxWait))" : ""
    return "channel \(deferral.channel): no free slot\(within) (\(deferral.reason)); the next frees at \(when)"
  }

  func hint(for deferral: ThrottledDelivery.Deferral, channel: ChannelConfig, queued id: Int64) -> String {
    let queued = "queued as message \(id): `msc-send flush` sends it when the channel is free again (run it from cron)"
    if deferral.outcome == .quotaExhausted && channel.fallback == nil {
      return queued + "; `fallback = \"OTHER\"` in [channels.\(channel.name)] hands such mail to another channel"
    }
    return queued + "; see `msc-send quota \(deferral.channel)`"
  }

  /// Countdown on a terminal (`\r` updates on one line), one line per wait with `-v`, nothing in
  /// cron. Cooldowns are news only to someone watching; a hand-over to another channel is always
  /// said, since the mail leaves by a route the user did not pick.
  func throttleEventPrinter() -> (ThrottledDelivery.Event) -> Void {
    let console = context.console
    let countdown = console.stderrIsTerminal && !options.quiet
    let verbose = options.verbose
    let quiet = options.quiet
    let announced = WaitAnnouncement()
    return { event in
      switch event {
      case .waiting(let channel, let until, let remaining, let reason):
        if countdown {
          console.err("\r\u{1B}[Kmsc-send: \(channel): \(reason); waiting \(DurationText.format(remaining))")
        } else if verbose && announced.first(until) {
          console.err("-- \(channel): \(reason); waiting \(DurationText.format(remaining))\n")
        }
      case .waited:
        if countdown { console.err("\r\u{1B}[K") }
      case .cooldown(let text):
        if countdown || verbose { console.err("msc-send: \(text)\n") }
      case .handover(let text):
        if !quiet { console.err("msc-send: \(text)\n") }
      }
    }
  }

  func printThrottleJSON(_ object: [String: Any]) {
    guard
      let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    else { return }
    context.console.out(String(decoding: data, as: UTF8.self) + "\n")
  }
}

/// Remembers which waits `-v` has already announced (one line per wait, not per tick).
private final class WaitAnnouncement {
  private var last: Double?

  func first(_ until: Double) -> Bool {
    defer { last = until }
    return last != until
  }
}
