import Foundation

/// Entry point of the CLI as a library function, so most CLI tests run in-process.
public enum CommandLineInterface {
  public static let version = "0.1.0"

  static let commands: [(name: String, summary: String)] = [
    ("send", "compose a message and deliver it through the right channel"),
    ("batch", "send one message per row of a CSV or JSON Lines file, from a template"),
    ("flush", "deliver everything due in the queue (for cron)"),
    ("queue", "list, show, retry or drop queued messages"),
    ("route", "show which channel carries mail from a sender, and why"),
    ("channels", "list the configured channels"),
    ("quota", "show each channel's limits as used now, the next free slot, cooldowns"),
    ("check", "diagnose channels: DNS, TLS, AUTH, limits, SPF/DMARC/DKIM (exit 0 only when all pass)"),
    ("config", "check a configuration file (config check [FILE])"),
    ("sink", "run a local SMTP server that captures mail (never relays)"),
  ]

  static var help: String {
    let width = commands.map(\.name.count).max() ?? 0
    let list = commands.map { "  \($0.name)\(String(repeating: " ", count: width - $0.name.count))  \($0.summary)" }
    return """
      usage: msc-send <command> [options]

      msc-send routes mail to the right delivery channel and submits it over SMTP.

      Commands:
      \(list.joined(separator: "\n"))

      Run `msc-send <command> --help` for a command's options.
      Options: --help, --version

      Sendmail mode: msc-send -t [-f SENDER] [-F NAME] [-i] [RECIPIENT ...] < message
      (also as a symlink named sendmail; msc-send -t --help for the details)

      """
  }

  public static func run(arguments: [String], environment: [String: String], console: Console) -> ExitCode {
    run(arguments: arguments, context: CLIContext(environment: environment, console: console))
  }

  public static func run(arguments: [String], context: CLIContext) -> ExitCode {
    SocketTransport.ignoreSIGPIPE()
    let rest = Array(arguments.dropFirst())
    // Sendmail mode: invoked as `sendmail` (a symlink), or with sendmail's own flags.
    let programName = arguments.first.map { ($0 as NSString).lastPathComponent } ?? ""
    if programName == "sendmail" || rest.first.map(SendmailArguments.startsSendmailMode) == true {
      return SendmailCommand.run(rest, context: context)
    }
    guard let command = rest.first else {
      context.console.err(help)
      return .usage
    }
    switch command {
    case "-h", "--help", "help":
      context.console.out(help)
      return .ok
    case "-V", "--version":
      context.console.out("msc-send \(version)\n")
      return .ok
    case "send":
      return SendCommand.run(Array(rest.dropFirst()), context: context)
    case "config":
      return ConfigCommand.run(Array(rest.dropFirst()), context: context)
    case "route":
      return RouteCommand.run(Array(rest.dropFirst()), context: context)
    case "channels":
      return ChannelsCommand.run(Array(rest.dropFirst()), context: context)
    case "sink":
      return SinkCommand.run(Array(rest.dropFirst()), context: context)
    case "quota":
      return QuotaCommand.run(Array(rest.dropFirst()), context: context)
    case "check":
      return CheckCommand.run(Array(rest.dropFirst()), context: context)
    case "flush":
      return FlushCommand.run(Array(rest.dropFirst()), context: context)
    case "queue":
      return QueueCommand.run(Array(rest.dropFirst()), context: context)
    case "batch":
      return BatchCommand.run(Array(rest.dropFirst()), context: context)
    default:
      let suggestion = Suggestion.nearest(to: command, in: commands.map(\.name)).map { "did you mean `msc-send \($0)`?" }
      context.error("unknown command \"\(command)\"", hint: suggestion ?? "run `msc-send --help` for the commands")
      return .usage
    }
  }
}
