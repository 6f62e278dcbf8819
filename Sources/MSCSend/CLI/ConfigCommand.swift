import Foundation

/// `msc-send config check [FILE]`: validates a configuration without sending anything, so that a
/// mistake shows up in an editor-friendly `file:line:col` line before cron runs into it.
enum ConfigCommand {
  static let subcommands: [(name: String, summary: String)] = [
    ("check", "validate a configuration file (errors as file:line:col: message)")
  ]

  static let checkOptions: [OptionSpec] = [
    .value("--config", valueName: "FILE", help: "the file to check (same as the FILE argument)"),
    .flag("--json", help: "print the result as JSON on stdout"),
    .flag("-q", "--quiet", help: "print nothing when the file is valid (warnings still go to stderr)"),
    .flag("-h", "--help", help: "show this help"),
  ]

  static let usage = "usage: msc-send config check [FILE] [--json]"

  static var help: String {
    let width = subcommands.map(\.name.count).max() ?? 0
    let list = subcommands.map { "  \($0.name)\(String(repeating: " ", count: width - $0.name.count))  \($0.summary)" }
    return """
      usage: msc-send config <subcommand> [options]

      Subcommands:
      \(list.joined(separator: "\n"))

      Run `msc-send config check --help` for its options.

      """
  }

  static var checkHelp: String {
    """
    \(usage)

    Validates FILE, or the configuration msc-send would use: --config, else $MSC_SEND_CONFIG, else
    $XDG_CONFIG_HOME/msc-send/config.toml (~/.config/msc-send/config.toml). With none of them the
    embedded default (one `file` channel, `outbox`) is in use, which is valid. Prints the channels
    on success and warnings (legacy channels, tls = "none", tls_verify = false) on stderr.

    Options:
    \(ArgumentParser.helpText(for: checkOptions))

    Exit codes: 0 valid (warnings do not change it); 64 usage; 78 the configuration is invalid.

    """
  }

  static func run(_ arguments: [String], context: CLIContext) -> ExitCode {
    guard let subcommand = arguments.first else {
      context.console.err(help)
      return .usage
    }
    switch subcommand {
    case "-h", "--help", "help":
      context.console.out(help)
      return .ok
    case "check":
      return check(Array(arguments.dropFirst()), context: context)
    default:
      let suggestion = Suggestion.nearest(to: subcommand, in: subcommands.map(\.name))
      context.error(
        "unknown subcommand \"config \(subcommand)\"",
        hint: suggestion.map { "did you mean `msc-send config \($0)`?" } ?? "run `msc-send config --help`")
      return .usage
    }
  }

  private static func check(_ arguments: [String], context: CLIContext) -> ExitCode {
    let parsed: ParsedArguments
    do throws(UsageError) {
      parsed = try ArgumentParser.parse(arguments, options: checkOptions)
      if parsed.has("--help") {
        context.console.out(checkHelp)
        return .ok
      }
      if parsed.positionals.count > 1 || (parsed.positionals.count == 1 && parsed.has("--config")) {
        throw UsageError("give one file: FILE or --config FILE")
      }
    } catch {
      context.error(error.message, hint: error.hint ?? usage)
      return .usage
    }
    let json = parsed.has("--json")
    let explicit = parsed.positionals.first ?? parsed.value("--config")
    guard let path = ConfigLoader.locate(explicit: explicit, environment: context.environment) else {
      reportEmbeddedDefault(context: context, json: json, quiet: parsed.has("--quiet"))
      return .ok
    }
    let configuration: Configuration
    do {
      configuration = try ConfigLoader.load(path: path, environment: context.environment)
    } catch {
      context.error(error.description, hint: error.hint)
      if json {
        var object: [String: Any] = ["ok": false, "file": error.file, "message": error.message]
        if let position = error.position {
          object["line"] = position.line
          object["column"] = position.column
        }
        if let hint = error.hint { object["hint"] = hint }
        context.printJSON(object)
      }
      return .config
    }
    for warning in configuration.warnings { context.warning(warning) }
    if json {
      context.printJSON(summary(configuration, file: path))
    } else if !parsed.has("--quiet") {
      let names = configuration.channels.map(\.name).joined(separator: ", ")
      context.console.out("\(path): ok, \(countOfChannels(configuration)) (\(names))\n")
    }
    return .ok
  }

  private static func reportEmbeddedDefault(context: CLIContext, json: Bool, quiet: Bool) {
    let configuration = ConfigLoader.embeddedDefault(environment: context.environment)
    let looked = ConfigLoader.implicitPath(environment: context.environment)
    if json {
      var object = summary(configuration, file: nil)
      object["embedded_default"] = true
      context.printJSON(object)
      return
    }
    guard !quiet else { return }
    let outbox = configuration.channels.first?.outboxDirectory ?? "the outbox"
    context.console.out(
      """
      no configuration file (none at \(looked), $MSC_SEND_CONFIG unset): the embedded default is in use,
      1 channel (outbox: kind file, writes each message as an .eml file into \(outbox))
      to send real mail, write \(looked) (see Examples/ for annotated files)

      """)
  }

  private static func countOfChannels(_ configuration: Configuration) -> String {
    configuration.channels.count == 1 ? "1 channel" : "\(configuration.channels.count) channels"
  }

  /// What a script needs to know about each channel; secrets appear only as their source.
  private static func summary(_ configuration: Configuration, file: String?) -> [String: Any] {
    let channels = configuration.channels.map { channel -> [String: Any] in
      var object: [String: Any] = [
        "name": channel.name, "kind": channel.kind.rawValue, "enabled": channel.enabled, "profile": channel.profile,
        "scope": channel.scope.rawValue, "identities": channel.identities.map(\.description),
      ]
      if let endpoint = channel.endpoint {
        object["host"] = endpoint.host
        object["port"] = Int(endpoint.port)
        object["tls"] = endpoint.tlsMode.rawValue
        if let secret = endpoint.secret { object["secret"] = secret.description }
      }
      if let directory = channel.outboxDirectory { object["path"] = directory }
      return object
    }
    return [
      "ok": true, "file": file ?? NSNull(), "channels": channels, "warnings": configuration.warnings,
    ]
  }
}
