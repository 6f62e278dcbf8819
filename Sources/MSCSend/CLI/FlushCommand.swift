import Foundation

/// `msc-send flush [--channel C] [--max-time D] [--now] [--connections N] [--json]`: delivers
/// everything due in the queue, for cron. Quiet on success and on mere deferrals (cron mails any
/// output; a server down for an hour must not mail every five minutes): it prints only what needs a
/// person (failures, expirations, refused logins), and its exit code is the worst outcome.
enum FlushCommand {
  static let options: [OptionSpec] = [
    .value("--channel", valueName: "NAME", repeatable: true, help: "only this channel (repeatable)"),
    .value("--max-time", valueName: "DURATION", help: "take no message after this long (default 10m)"),
    .flag("--now", help: "also messages whose next attempt is not due yet (cooldowns and limits still hold)"),
    .value(
      "--connections", valueName: "N", help: "sessions per channel at once (default 1; at most its connections limit)"),
    .value("--config", valueName: "FILE", help: "config file"),
    .flag("--json", help: "print the tally as JSON on stdout"),
    .flag("-v", "--verbose", help: "print the SMTP transcripts and a summary on stderr"),
    .flag("-q", "--quiet", help: "print nothing, not even failures (the exit code still tells)"),
    .flag("-h", "--help", help: "show this help"),
  ]

  static let usage = "usage: msc-send flush [--channel NAME] [--max-time DURATION] [--now] [--connections N] [--json]"

  static let summary = """
    Delivers every queued message that is due, through the throttle, one SMTP session per channel
    reused for many messages (reconnecting after the channel's messages_per_connection). Messages
    that fail for now are deferred with exponential backoff; after [defaults] max_age (5d) they fail
    with a report. A lock per channel makes concurrent flushes share the channels; leases make sure
    no message is ever taken by two processes. Run it from cron every few minutes (Examples/cron.sh).
    Exit codes: 0 all sent (or nothing due); 75 some deferred; otherwise the worst failure's code.
    """

  static func run(_ arguments: [String], context: CLIContext) -> ExitCode {
    let parsed: ParsedArguments
    switch CommandParsing.parse(arguments, options: options, usage: usage, summary: summary, context: context) {
    case .parsed(let result): parsed = result
    case .exit(let code): return code
    }
    let maxTime: Double
    let connections: Int
    do throws(UsageError) {
      maxTime = try duration(parsed.value("--max-time"), flag: "--max-time", default: 600)
      connections = try count(parsed.value("--connections"), flag: "--connections")
    } catch {
      context.error(error.message, hint: error.hint ?? usage)
      return .usage
    }
    guard let configuration = ConfigSupport.load(explicit: parsed.value("--config"), context: context) else {
      return .config
    }
    let names = parsed.all("--channel")
    for name in names where configuration.channel(named: name) == nil {
      context.error(
        "no channel named \"\(name)\"",
        hint: "configured: " + configuration.channels.map(\.name).joined(separator: ", "))
      return .usage
    }
    let clock = SystemThrottleClock()
    let verbose = parsed.has("--verbose")
    let quiet = parsed.has("--quiet")
    var runner = FlushRunner(
      configuration: configuration,
      options: RunOptions(
        channels: names.isEmpty ? nil : Set(names), deadline: clock.now() + maxTime, maxWait: maxTime,
        ignoreBackoff: parsed.has("--now"), connections: connections, lockChannels: true),
      environment: context.environment, connector: context.connector, clock: clock)
    let console = context.console
    runner.warn = { text in if !quiet { console.err("msc-send: warning: \(text)\n") } }
    if verbose { runner.transcript = TranscriptPrinter.make(console) }
    let progress: RunProgress
    do {
      progress = try runner.run()
    } catch {
      context.error("\(error)", hint: "nothing was sent; check the ledger's folder (permissions, free space)")
      return .ioError
    }
    let tally = progress.snapshot
    if !quiet {
      for report in tally.reports where verbose || report.code != .tempFail {
        console.err("msc-send: \(report.line)\n")
      }
      if verbose { console.err("msc-send: flush: \(describe(tally))\n") }
    }
    if parsed.has("--json") { context.printJSON(json(tally)) }
    return tally.worst
  }

  static func describe(_ tally: RunProgress.Snapshot) -> String {
    var parts = ["\(tally.sent) sent"]
    if tally.possiblyDuplicated > 0 { parts.append("\(tally.possiblyDuplicated) of them possibly duplicated") }
    parts.append("\(tally.deferred) deferred" + reasons(tally.deferredReasons))
    parts.append("\(tally.failed) failed" + reasons(tally.failedReasons))
    if tally.uncertain > 0 { parts.append("\(tally.uncertain) uncertain") }
    return parts.joined(separator: ", ")
  }

  static func reasons(_ counts: [String: Int]) -> String {
    counts.isEmpty
      ? "" : " (" + counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
  }

  static func json(_ tally: RunProgress.Snapshot) -> [String: Any] {
    [
      "sent": tally.sent, "possibly_duplicated": tally.possiblyDuplicated, "deferred": tally.deferred,
      "failed": tally.failed, "uncertain": tally.uncertain, "deferred_reasons": tally.deferredReasons,
      "failed_reasons": tally.failedReasons, "reports": tally.reports.map(\.line), "exit": Int(tally.worst.rawValue),
    ]
  }

  /// A duration flag (`90`, `45s`, `10m`), positive, at most a day.
  static func duration(_ text: String?, flag: String, default value: Double) throws(UsageError) -> Double {
    guard let text else { return value }
    guard let seconds = DurationText.parse(text, allowingBareSeconds: true), seconds > 0, seconds <= 86_400 else {
      throw UsageError("invalid \(flag) \"\(text)\": expected seconds or a duration up to 24h, such as 90, 45s, 10m")
    }
    return seconds
  }

  /// `--connections N`: 1 to 32.
  static func count(_ text: String?, flag: String) throws(UsageError) -> Int {
    guard let text else { return 1 }
    guard let value = Int(text), (1...32).contains(value) else {
      throw UsageError("invalid \(flag) \"\(text)\": expected a number from 1 to 32")
    }
    return value
  }
}

/// `-v` transcripts of sessions, for commands that open them.
enum TranscriptPrinter {
  static func make(_ console: Console) -> @Sendable (TranscriptEvent) -> Void {
    { event in
      switch event {
      case .client(let line): console.err("C: \(line)\n")
      case .server(let line): console.err("S: \(line)\n")
      case .info(let line): console.err("-- \(line)\n")
      }
    }
  }
}
