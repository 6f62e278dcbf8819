import Foundation

/// `msc-send check [CHANNEL | --all]`: diagnostics per channel (DESIGN.md section 6), a checklist
/// with a verdict per line. Exit 0 only when every check passed; else the code of the worst
/// failure (DESIGN.md section 5); warnings count only with `--strict`.
enum CheckCommand {
  static let options: [OptionSpec] = [
    .value("--config", valueName: "FILE", help: "config file"),
    .flag("--all", help: "check every channel (the default when no CHANNEL is named)"),
    .value(
      "--send-test", valueName: "ADDRESS", help: "also send a short test message to ADDRESS (through the throttle)"),
    .value("--from", valueName: "ADDRESS", help: "sender for the domain checks and the test message"),
    .value(
      "--resolver", valueName: "IP[:PORT]", repeatable: true,
      help: "DNS resolver for SPF/DMARC/DKIM (default: nameserver lines of /etc/resolv.conf)"),
    .value(
      "--timeout", valueName: "SECONDS", help: "bound every network step (default: the channel's timeout, else 10)"),
    .value(
      "--max-wait", valueName: "DURATION", help: "how long the test message may wait for a throttle slot (default 2m)"),
    .flag("--no-wait", help: "the test message does not wait for a throttle slot"),
    .flag("--strict", help: "warnings fail the run too"),
    .flag("--json", help: "print the results as JSON on stdout"),
    .flag("-v", "--verbose", help: "print the SMTP transcript (credentials redacted) and DNS answers on stderr"),
    .flag("-h", "--help", help: "show this help"),
  ]

  static let usage =
    "usage: msc-send check [CHANNEL | --all] [--send-test ADDRESS] [--from ADDRESS] [--json] [-v] [--strict] "
    + "[--resolver IP[:PORT]] [--timeout SECONDS]"

  static let summary = """
    Checks each channel and prints a checklist with a verdict per line (ok, warn, fail, skip): name
    resolution, TCP connect, greeting, TLS and its certificate, EHLO, AUTH and login (then QUIT: no
    mail is sent unless --send-test), SIZE, the ledger's view, the kind's rules, and the sender
    domain's SPF, DMARC and DKIM records. Exit 0 only when every check passed, else the code of the
    worst failure: 69 refused service or domain records that fail, 74 local I/O (ledger, outbox),
    75 network or DNS trouble, 76 protocol violation, 77 login or certificate refused, 78 our own
    configuration (e.g. a secret that cannot be read). Warnings (a certificate expiring within 14
    days, a legacy channel, no DMARC record) fail the run only with --strict.
    """

  struct Request {
    var channel: String?
    var options = CheckOptions()
    var resolvers: [SocketAddress] = []
    var strict = false
    var json = false
    var verbose = false
    var configFile: String?
  }

  static func run(_ arguments: [String], context: CLIContext) -> ExitCode {
    let request: Request
    switch CommandParsing.parse(
      arguments, options: options, usage: usage, summary: summary, allowsPositionals: true, context: context)
    {
    case .parsed(let parsed):
      do throws(UsageError) {
        request = try read(parsed)
      } catch {
        context.error(error.message, hint: error.hint ?? usage)
        return .usage
      }
    case .exit(let code):
      return code
    }
    guard let configuration = ConfigSupport.load(explicit: request.configFile, context: context) else { return .config }
    var channels = configuration.channels
    if let name = request.channel {
      guard let channel = configuration.channel(named: name) else {
        let names = configuration.channels.map(\.name)
        context.error(
          "no channel named \"\(name)\"; configured: \(names.joined(separator: ", "))",
          hint: Suggestion.nearest(to: name, in: names).map { "did you mean \($0)?" })
        return .usage
      }
      channels = [channel]
    }
    let servers = request.resolvers.isEmpty ? ResolverConfiguration.systemServers() : request.resolvers
    let dnsTimeout = min(2, request.options.timeout ?? CheckOptions.defaultTimeout)
    var check = ChannelCheck(
      configuration: configuration, options: request.options, environment: context.environment,
      resolver: DNSClient(servers: servers, attemptTimeout: dnsTimeout, attempts: 2))
    check.composeEnvironment = context.composeEnvironment
    check.connector = context.connector

    var reports: [ChannelCheckReport] = []
    for channel in channels {
      if request.verbose { context.console.err("-- checking channel \(channel.name)\n") }
      let report = check.run(channel, transcript: request.verbose ? transcriptPrinter(context.console) : { _ in })
      reports.append(report)
      if !request.json { context.console.out(CheckReportFormat.human(report, strict: request.strict)) }
    }
    let code = ExitCode.worst(reports.map { $0.exitCode(strict: request.strict) })
    if request.json {
      context.printJSON(
        CheckReportFormat.json(reports, strict: request.strict, exitCode: code, transcript: request.verbose))
    } else {
      context.console.out(CheckReportFormat.summary(reports, strict: request.strict, exitCode: code))
    }
    return code
  }

  static func read(_ parsed: ParsedArguments) throws(UsageError) -> Request {
    var request = Request()
    guard parsed.positionals.count <= 1 else { throw UsageError("name at most one channel (or --all)") }
    request.channel = parsed.positionals.first
    if request.channel != nil && parsed.has("--all") { throw UsageError("give a CHANNEL or --all, not both") }
    request.configFile = parsed.value("--config")
    request.strict = parsed.has("--strict")
    request.json = parsed.has("--json")
    request.verbose = parsed.has("--verbose")
    if let text = parsed.value("--timeout") {
      guard let seconds = Double(text), seconds > 0, seconds <= 3600 else {
        throw UsageError("invalid --timeout \"\(text)\": expected seconds between 1 and 3600")
      }
      request.options.timeout = seconds
    }
    request.options.maxWait = try SendRequest.maxWait(parsed)
    for text in parsed.all("--resolver") {
      guard let server = ResolverConfiguration.parse(text) else {
        throw UsageError("invalid --resolver \"\(text)\": expected IP, IP:PORT or [IPv6]:PORT (an address, not a name)")
      }
      request.resolvers.append(server)
    }
    do throws(ComposeError) {
      request.options.sender = try parsed.value("--from").map { (text) throws(ComposeError) in try Mailbox.parse(text) }
      request.options.sendTestRecipient = try parsed.value("--send-test").map { (text) throws(ComposeError) in
        try Mailbox.parse(text)
      }
    } catch {
      throw UsageError(error.description)
    }
    return request
  }

  private static func transcriptPrinter(_ console: Console) -> (TranscriptEvent) -> Void {
    { event in
      switch event {
      case .client(let line): console.err("C: \(line)\n")
      case .server(let line): console.err("S: \(line)\n")
      case .info(let line): console.err("-- \(line)\n")
      }
    }
  }
}
