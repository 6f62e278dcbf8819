import Foundation

/// `msc-send quota [CHANNEL] [--json]`: per channel and limit, what is used of it, when the oldest
/// counted entry leaves its window, when the next slot frees, and any cooldown with its reason and
/// the server's words. Reads the ledger every process shares, so it shows what the next `send`
/// will find.
enum QuotaCommand {
  static let options: [OptionSpec] = [
    .value("--config", valueName: "FILE", help: "config file"),
    .flag("--json", help: "print the usage as JSON on stdout"),
    .flag("--clear-cooldown", help: "lift CHANNEL's pause now (when the provider's quota is known to be back)"),
    .flag("-h", "--help", help: "show this help"),
  ]

  static let usage = "usage: msc-send quota [CHANNEL] [--config FILE] [--json] [--clear-cooldown]"

  static func run(_ arguments: [String], context: CLIContext) -> ExitCode {
    let parsed: ParsedArguments
    do throws(UsageError) {
      parsed = try ArgumentParser.parse(arguments, options: options, allowsPositionals: true)
      guard parsed.positionals.count <= 1 else { throw UsageError("give at most one channel") }
      if parsed.has("--clear-cooldown") && parsed.positionals.isEmpty {
        throw UsageError("--clear-cooldown needs the CHANNEL whose pause to lift")
      }
    } catch {
      context.error(error.message, hint: error.hint ?? usage)
      return .usage
    }
    if parsed.has("--help") {
      context.console.out(
        "\(usage)\n\nShows each channel's limits as the ledger counts them now: used/limit per window, when the "
          + "oldest entry leaves it, the next free slot, and any cooldown.\n\nOptions:\n"
          + ArgumentParser.helpText(for: options) + "\n")
      return .ok
    }
    guard let configuration = ConfigSupport.load(explicit: parsed.value("--config"), context: context) else {
      return .config
    }
    var channels = configuration.channels
    if let name = parsed.positionals.first {
      guard let channel = configuration.channel(named: name) else {
        let names = configuration.channels.map(\.name)
        context.error(
          "no channel named \"\(name)\"; configured: \(names.joined(separator: ", "))",
          hint: Suggestion.nearest(to: name, in: names).map { "did you mean \($0)?" })
        return .usage
      }
      channels = [channel]
    }
    let path = configuration.ledgerPath(environment: context.environment)
    let clock = SystemThrottleClock()
    let now = clock.now()
    var reports: [(channel: ChannelConfig, usage: [ThrottlePlanner.Usage], cooldown: CooldownRecord?)] = []
    do throws(LedgerError) {
      // Nothing sent yet: every limit is free, and a read-only command creates no file.
      let gate = ThrottleLedger.exists(at: path) ? ThrottleGate(ledger: try ThrottleLedger(path: path)) : nil
      if parsed.has("--clear-cooldown"), let gate, let channel = channels.first {
        try gate.clearCooldown(channel: channel.name)
      }
      for channel in channels {
        let usage =
          try gate?.usage(channel: channel.name, limits: channel.limits, at: now)
          ?? ThrottlePlanner.usage(limits: channel.limits, entries: [], now: now)
        let cooldown = try gate?.cooldown(channel: channel.name).flatMap { $0.until > now ? $0 : nil }
        reports.append((channel, usage, cooldown))
      }
    } catch {
      context.error(error.description, hint: "check that folder's permissions, or set [defaults] ledger")
      return .ioError
    }
    if parsed.has("--json") {
      context.console.out(
        JSONOutput.render(["ledger": path, "channels": reports.map { json($0.channel, $0.usage, $0.cooldown) }]) + "\n")
      return .ok
    }
    var text = "ledger: \(path)\(ThrottleLedger.exists(at: path) ? "" : " (not created yet: nothing sent)")\n"
    for report in reports {
      text += "\n" + human(report.channel, report.usage, report.cooldown, now: now)
    }
    if parsed.has("--clear-cooldown"), let channel = channels.first {
      text += "\ncooldown of \(channel.name) lifted\n"
    }
    context.console.out(text)
    return .ok
  }

  static func human(
    _ channel: ChannelConfig, _ usage: [ThrottlePlanner.Usage], _ cooldown: CooldownRecord?, now: Double
  ) -> String {
    var text = "\(channel.name)  (\(channel.kind.rawValue), profile \(channel.profile))\n"
    if usage.isEmpty {
      text += "  no counted limits\(channel.limits.chunkSize.map { ", \($0) recipients per message" } ?? "")\n"
    }
    for limit in usage {
      let label: String
      switch limit.kind {
      case .messages: label = "messages / \(limit.window ?? "")"
      case .recipients: label = "recipients / \(limit.window ?? "")"
      case .batch: label = "batch / \(limit.window ?? "")"
      case .connections: label = "connections"
      }
      var line =
        "  " + label.padding(toLength: 20, withPad: " ", startingAt: 0)
        + "\(limit.used)/\(limit.limit)".padding(toLength: 14, withPad: " ", startingAt: 0)
      switch limit.nextFreeAt {
      case .some(let time) where time <= now: line += "free now"
      case .some(let time): line += "next slot \(ThrottleTime.describe(time, now: now))"
      case .none: line += "all in use"
      }
      if let leaves = limit.oldestLeavesAt {
        line +=
          limit.kind == .batch
          ? "; batch closes \(ThrottleTime.describe(leaves, now: now))"
          : "; oldest leaves \(ThrottleTime.describe(leaves, now: now))"
      }
      text += line + "\n"
    }
    if let cooldown {
      let what =
        cooldown.reason == .quota
        ? "out of quota" : "backing off \(DurationText.format(cooldown.backoffSeconds)) after a throttle reply"
      text +=
        "  cooldown            \(what) until \(ThrottleTime.describe(cooldown.until, now: now))"
        + (cooldown.reply.map { ": \($0)" } ?? "") + "\n"
    }
    if let fallback = channel.fallback { text += "  fallback            \(fallback) (takes over when out of quota)\n" }
    return text
  }

  static func json(_ channel: ChannelConfig, _ usage: [ThrottlePlanner.Usage], _ cooldown: CooldownRecord?)
    -> [String: Any]
  {
    var object: [String: Any] = [
      "name": channel.name, "kind": channel.kind.rawValue, "profile": channel.profile,
      "limits": usage.map { limit -> [String: Any] in
        [
          "kind": limit.kind.rawValue, "limit": limit.limit, "window": limit.window ?? NSNull(), "used": limit.used,
          "oldest_leaves_at": limit.oldestLeavesAt.map(ThrottleTime.iso8601) ?? NSNull(),
          "next_free_at": limit.nextFreeAt.map(ThrottleTime.iso8601) ?? NSNull(),
        ]
      },
      "recipients_per_message": channel.limits.chunkSize ?? NSNull(),
      "fallback": channel.fallback ?? NSNull(),
      "cooldown": NSNull(),
    ]
    if let cooldown {
      object["cooldown"] =
        [
          "reason": cooldown.reason.rawValue, "until": ThrottleTime.iso8601(cooldown.until),
          "reply": cooldown.reply ?? NSNull(), "backoff_seconds": cooldown.backoffSeconds,
        ] as [String: Any]
    }
    return object
  }
}
