/// The ledger's view of a channel, as one checklist line: each limit's use (`quota`'s numbers),
/// a running cooldown, and the channel-level failures of the last day. A quota pause fails the
/// line with 69, as `send` would exit now; a throttle pause and recent failures warn.
enum LedgerView {
  /// How far back "recent failures" look.
  static let recentWindow = 86_400.0
  /// Recipient refusals are about addresses, not about the channel.
  static let notChannelFailures: [OutcomeClass] = [.accepted, .recipientPermanent, .recipientTransient]

  static func item(channel: ChannelConfig, ledgerPath: String, now: Double) -> CheckItem {
    guard ThrottleLedger.exists(at: ledgerPath) else {
      return .ok(.ledger, "no ledger yet at \(ledgerPath): nothing sent, every limit free")
    }
    let usage: [ThrottlePlanner.Usage]
    let cooldown: CooldownRecord?
    let failures: [OutcomeRecord]
    do throws(LedgerError) {
      let gate = ThrottleGate(ledger: try ThrottleLedger(path: ledgerPath))
      usage = try gate.usage(channel: channel.name, limits: channel.limits, at: now)
      cooldown = try gate.cooldown(channel: channel.name).flatMap { $0.until > now ? $0 : nil }
      failures = try gate.ledger.transaction { (transaction) throws(LedgerError) in
        try transaction.recentOutcomes(
          channel: channel.name, since: now - recentWindow, excluding: notChannelFailures, limit: 20)
      }
    } catch {
      return .fail(
        .ledger, error.description, hint: "check that folder's permissions, or set [defaults] ledger", code: .ioError)
    }
    var parts: [String] = []
    let limits = usage.map { limit -> String in
      switch limit.kind {
      case .connections: "connections \(limit.used)/\(limit.limit)"
      default: "\(limit.kind.rawValue) \(limit.used)/\(limit.limit) per \(limit.window ?? "?")"
      }
    }
    parts.append(limits.isEmpty ? "no counted limits" : limits.joined(separator: ", "))
    if let cooldown {
      let what = cooldown.reason == .quota ? "out of quota" : "backing off after a throttle reply"
      parts.append(
        "cooldown: \(what) until \(ThrottleTime.describe(cooldown.until, now: now))"
          + (cooldown.reply.map { " (\(ReplyReader.printable(Array($0.utf8))))" } ?? ""))
    } else {
      parts.append("no cooldown")
    }
    if let latest = failures.first {
      let count = failures.count >= 20 ? "20 or more" : "\(failures.count)"
      parts.append(
        "\(count) failure(s) in the last 24h, latest \(ThrottleTime.describe(latest.at, now: now)) "
          + "\(latest.outcome.rawValue)" + (latest.reply.map { ": \(ReplyReader.printable(Array($0.utf8)))" } ?? ""))
    } else {
      parts.append("no failures in the last 24h")
    }
    let detail = parts.joined(separator: "; ")
    if let cooldown, cooldown.reason == .quota {
      let hint =
        channel.fallback == nil
        ? "mail waits for the window to roll; `fallback = \"OTHER\"` hands it to another channel meanwhile"
        : "its fallback \(channel.fallback ?? "") takes the mail meanwhile; `msc-send quota` shows when it frees"
      return .fail(.ledger, detail, hint: hint, code: .unavailable)
    }
    if cooldown != nil || !failures.isEmpty {
      return .warn(
        .ledger, detail, hint: "see `msc-send quota \(channel.name)` and the failures' replies", code: .tempFail)
    }
    return .ok(.ledger, detail)
  }
}
