import Foundation

/// `msc-send queue [list | show ID | retry ID | drop ID] [--json]`: what the durable outbox holds,
/// one message in detail with each recipient's last outcome, and the two changes a person may make
/// by hand (try again now; never send).
enum QueueCommand {
  static let options: [OptionSpec] = [
    .flag("--all", help: "list: also sent and dropped messages"),
    .value("--campaign", valueName: "NAME", help: "list: only this campaign's messages"),
    .value("--channel", valueName: "NAME", help: "list: only this channel's messages"),
    .value("--config", valueName: "FILE", help: "config file"),
    .flag("--json", help: "print as JSON on stdout"),
    .flag("-h", "--help", help: "show this help"),
  ]

  static let usage = "usage: msc-send queue [list | show ID | retry ID | drop ID] [--all] [--campaign NAME] [--json]"

  static let summary = """
    list (the default) shows the messages not yet sent (with --all every one): id, state, channel,
    attempts, next attempt, recipients, campaign, last error. show ID prints one message with each
    recipient's outcome and the server's reply. retry ID makes a deferred, failed or uncertain
    message due now (failed and uncertain recipients are tried again); drop ID removes a message
    that was not sent, so that nothing sends it (its bytes are freed). States: queued, sending
    (leased by a process), sent, deferred, failed, uncertain (RFC 1047), dropped.
    """

  static func run(_ arguments: [String], context: CLIContext) -> ExitCode {
    let parsed: ParsedArguments
    switch CommandParsing.parse(
      arguments, options: options, usage: usage, summary: summary, allowsPositionals: true, context: context)
    {
    case .parsed(let result): parsed = result
    case .exit(let code): return code
    }
    let verb = parsed.positionals.first ?? "list"
    let id: Int64?
    do throws(UsageError) {
      id = try checkArguments(verb: verb, parsed.positionals)
    } catch {
      context.error(error.message, hint: error.hint ?? usage)
      return .usage
    }
    guard let configuration = ConfigSupport.load(explicit: parsed.value("--config"), context: context) else {
      return .config
    }
    let path = configuration.ledgerPath(environment: context.environment)
    guard ThrottleLedger.exists(at: path) else {
      if let id {
        context.error("no message \(id) in the queue (nothing was ever queued: no ledger at \(path))")
        return .dataError
      }
      if parsed.has("--json") {
        context.printJSON(["ledger": path, "messages": [Any]()])
      } else {
        context.console.out("the queue is empty (no ledger yet at \(path))\n")
      }
      return .ok
    }
    do {
      let queue = MessageQueue(ledger: try ThrottleLedger(path: path))
      switch (verb, id) {
      case ("show", let id?):
        return try show(id, queue: queue, json: parsed.has("--json"), context: context)
      case ("retry", let id?):
        return try change(id, .retry, queue: queue, configuration: configuration, parsed: parsed, context: context)
      case ("drop", let id?):
        return try change(id, .drop, queue: queue, configuration: configuration, parsed: parsed, context: context)
      default:
        let filter = MessageQueue.ListFilter(
          states: parsed.has("--all") ? Set(MessageState.allCases) : nil, campaign: parsed.value("--campaign"),
          channel: parsed.value("--channel"))
        let messages = try queue.list(filter)
        if parsed.has("--json") {
          context.printJSON(["ledger": path, "messages": messages.map(QueueDisplay.json)])
        } else {
          context.console.out(QueueDisplay.table(messages, now: SystemThrottleClock().now()))
        }
        return .ok
      }
    } catch let error as LedgerError {
      context.error(error.description, hint: "check that folder's permissions, or set [defaults] ledger")
      return .ioError
    } catch {
      context.error("\(error)")
      return .software
    }
  }

  /// The verb's arguments: an id for show, retry and drop; nothing more for list.
  private static func checkArguments(verb: String, _ positionals: [String]) throws(UsageError) -> Int64? {
    switch verb {
    case "list":
      guard positionals.count <= 1 else { throw UsageError("queue list takes no argument") }
      return nil
    case "show", "retry", "drop":
      guard positionals.count == 2 else { throw UsageError("queue \(verb) needs one message id (see queue list)") }
      guard let id = Int64(positionals[1]), id > 0 else {
        throw UsageError("invalid message id \"\(positionals[1])\": the number queue list shows")
      }
      return id
    default:
      let suggestion = Suggestion.nearest(to: verb, in: ["list", "show", "retry", "drop"])
      throw UsageError("unknown queue command \"\(verb)\"", hint: suggestion.map { "did you mean queue \($0)?" })
    }
  }

  private static func show(_ id: Int64, queue: MessageQueue, json: Bool, context: CLIContext) throws -> ExitCode {
    guard let message = try queue.message(id: id) else {
      context.error("no message \(id) in the queue")
      return .dataError
    }
    if json {
      context.printJSON(QueueDisplay.json(message))
    } else {
      context.console.out(QueueDisplay.detail(message, now: SystemThrottleClock().now()))
    }
    return .ok
  }

  private static func change(
    _ id: Int64, _ change: MessageQueue.HandChange, queue: MessageQueue, configuration: Configuration,
    parsed: ParsedArguments, context: CLIContext
  ) throws -> ExitCode {
    switch try queue.change(id: id, change) {
    case .failure(let refusal):
      context.error(refusal.description)
      return refusal.notFound ? .dataError : .unavailable
    case .success(let message):
      if change == .drop, let path = message.spool?.path {
        try queue.releaseSegments(
          [path], spool: configuration.spool(environment: context.environment), policy: configuration.retryPolicy)
      }
      if parsed.has("--json") {
        context.printJSON(QueueDisplay.json(message))
      } else {
        let what =
          change == .retry ? "queued again, due now: `msc-send flush` sends it" : "dropped: it will not be sent"
        context.console.out("message \(id) \(message.messageID) \(what)\n")
      }
      return .ok
    }
  }
}
