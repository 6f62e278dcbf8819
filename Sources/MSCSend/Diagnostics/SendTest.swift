import Foundation

/// `check --send-test ADDRESS`: a short message through the channel by the normal delivery path,
/// *including the channel's throttle*: it reserves a slot in the ledger like any send, waits up
/// to `--max-wait` for one, and is counted and recorded, because the provider counts it too (a
/// test that bypassed the ledger could be the message that breaks a quota). No fallback: the
/// point is to test this channel.
struct SendTest {
  let channel: ChannelConfig
  let ledgerPath: String
  let maxWait: Double
  let delivery: ChannelDelivery.Context
  let composeEnvironment: ComposeEnvironment

  func run(from sender: Mailbox, to recipient: Mailbox) -> CheckItem {
    do throws(RouteError) {
      try Router.checkUsable(channel, for: sender.address.lowercased())
    } catch {
      return .fail(.sendTest, error.description, hint: error.hint, code: error.exitCode)
    }
    let message: StreamingMessage
    do throws(ComposeError) {
      let date = TLSReport.date(composeEnvironment.now().timeIntervalSince1970)
      message = try MIMEComposer.compose(
        OutgoingMessage(
          from: sender, to: [recipient], subject: "msc-send check: test message via \(channel.name)",
          body: "This message was sent by `msc-send check --send-test` through the channel \(channel.name) "
            + "(\(channel.kind.rawValue)) on \(date), to check that it delivers. No reply is needed.\n"),
        environment: composeEnvironment)
    } catch {
      return .fail(.sendTest, error.description, code: error.exitCode)
    }
    let gate: ThrottleGate
    do throws(LedgerError) {
      gate = ThrottleGate(ledger: try ThrottleLedger(path: ledgerPath))
    } catch {
      return .fail(.sendTest, error.description, hint: "nothing was sent; check the ledger's folder", code: .ioError)
    }
    let throttled = ThrottledDelivery(
      gate: gate, options: ThrottledDelivery.Options(maxWait: maxWait),
      transport: { (channel, envelope) throws(ChannelError) in
        try ChannelDelivery.deliver(message, envelope: envelope, via: channel, context: delivery)
      })
    let envelope = Envelope(sender: sender.address, recipients: [recipient.address])
    do throws(ThrottledDelivery.Failure) {
      let outcome = try throttled.deliver(envelope, messageID: message.messageID, via: channel)
      guard let result = outcome.report.recipients.first else {
        return .fail(.sendTest, "no result for \(recipient.address)", code: .software)
      }
      let reply = result.reply.map { ": \($0)" } ?? ""
      let to = "\(message.messageID) from \(sender.address) to \(recipient.address)"
      if result.accepted {
        return .ok(.sendTest, "sent \(to) via \(outcome.destination ?? channel.name)\(reply)")
      }
      return .fail(
        .sendTest, "\(SendHints.describe(result.outcome)) \(to)\(reply)", code: result.outcome.exitCode)
    } catch {
      switch error {
      case .channel(let channelError, let failed):
        var hint: String?
        if case .session(let sessionError) = channelError {
          hint = SendHints.hint(for: sessionError, outcome: channelError.outcome, channel: failed)
        }
        return .fail(.sendTest, channelError.description, hint: hint, code: channelError.outcome.exitCode)
      case .ledger(let ledgerError):
        return .fail(.sendTest, ledgerError.description, hint: "nothing was sent", code: .ioError)
      case .deferred(let deferral):
        let when = ThrottleTime.describe(deferral.until, now: Date().timeIntervalSince1970)
        return .fail(
          .sendTest, "not sent: \(deferral.reason); the channel frees at \(when)",
          hint: "run it again then, or allow a longer --max-wait (see `msc-send quota \(channel.name)`)",
          code: deferral.outcome.exitCode)
      }
    }
  }
}
