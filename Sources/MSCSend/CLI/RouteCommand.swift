import Foundation

/// `msc-send route --from A [--to B ...] [--channel C] [--json]`: which channel would carry the
/// message, the rule that chose it, and why each other channel was passed over. Sends nothing.
enum RouteCommand {
  static let options: [OptionSpec] = [
    .value("--from", valueName: "ADDRESS", help: "sender to route (default: [defaults] from)"),
    .value("--to", valueName: "ADDRESS", repeatable: true, help: "recipient (checked and listed; repeatable)"),
    .value("--channel", valueName: "NAME", help: "check that this channel may carry the sender"),
    .value("--config", valueName: "FILE", help: "config file"),
    .flag("--json", help: "print the decision as JSON on stdout"),
    .flag("-h", "--help", help: "show this help"),
  ]

  static let usage = "usage: msc-send route [--from ADDRESS] [--to ADDRESS ...] [--channel NAME] [--json]"

  static func run(_ arguments: [String], context: CLIContext) -> ExitCode {
    let parsed: ParsedArguments
    switch CommandParsing.parse(
      arguments, options: options, usage: usage, summary: "Explains which channel carries mail from a sender, and why.",
      context: context)
    {
    case .parsed(let result): parsed = result
    case .exit(let code): return code
    }
    guard let configuration = ConfigSupport.load(explicit: parsed.value("--config"), context: context) else { return .config }
    guard let fromText = parsed.value("--from") ?? configuration.defaults.from else {
      context.error("no sender: give --from ADDRESS", hint: "or set [defaults] from in the config file")
      return .usage
    }
    let from: Mailbox
    let recipients: [Mailbox]
    do throws(ComposeError) {
      from = try Mailbox.parse(fromText)
      recipients = try parsed.all("--to").map { (text) throws(ComposeError) in try Mailbox.parse(text) }
    } catch {
      context.error(error.description)
      return .dataError
    }
    let decision: RouteDecision
    do throws(RouteError) {
      decision = try Router.route(from: from.address, configuration: configuration, explicitChannel: parsed.value("--channel"))
    } catch {
      if parsed.has("--json") {
        context.printJSON(["from": from.address, "error": error.description])
      }
      context.error(error.description, hint: error.hint)
      return error.exitCode
    }
    let channel = decision.channel
    if parsed.has("--json") {
      var object: [String: Any] = [
        "from": from.address, "channel": channel.name, "kind": channel.kind.rawValue, "rule": decision.rule.name,
        "explanation": decision.explanation, "profile": channel.profile,
        "passed_over": decision.passedOver.map { ["channel": $0.channel, "reason": $0.reason] },
        "recipients": recipients.map(\.address),
        "config": configuration.file ?? "(embedded default)",
      ]
      if let endpoint = channel.endpoint { object["endpoint"] = "\(endpoint.host):\(endpoint.port)" }
      if let directory = channel.outboxDirectory { object["outbox"] = directory }
      object["fallback"] = channel.fallback ?? NSNull()
      context.printJSON(object)
      return .ok
    }
    var lines = [
      "from:        \(from.address)",
      "channel:     \(channel.name) (\(ChannelsCommand.summary(of: channel)))",
      "rule:        \(decision.explanation)",
    ]
    if !recipients.isEmpty { lines.append("recipients:  \(recipients.map(\.address).joined(separator: ", "))") }
    if let fallback = channel.fallback {
      lines.append("fallback:    \(fallback) (takes the mail when \(channel.name) is out of quota)")
    }
    if channel.kind == .legacy { lines.append("warning:     legacy shared servers have no DKIM/SPF alignment") }
    if !decision.passedOver.isEmpty {
      lines.append("passed over:")
      let width = decision.passedOver.map(\.channel.count).max() ?? 0
      for passed in decision.passedOver {
        lines.append("  \(passed.channel.padding(toLength: width, withPad: " ", startingAt: 0))  \(passed.reason)")
      }
    }
    if configuration.isEmbeddedDefault { lines.append("config:      none found; the embedded default is in use") }
    context.console.out(lines.joined(separator: "\n") + "\n")
    return .ok
  }
}
