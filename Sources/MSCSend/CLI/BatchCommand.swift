import Foundation

/// `msc-send batch FILE.csv|FILE.jsonl --template T.eml [--campaign NAME] [--dry-run]`: one message
/// per row. Every row is checked before anything is sent (all bad rows reported, with their
/// numbers; `--skip-invalid` goes on without them); the good rows are rendered into one spool
/// segment (one fsync for the run) and queued in one transaction, each under its idempotency key,
/// so that running the same batch again sends only what was not sent; then they are delivered like
/// `flush` delivers (sessions reused, through the throttle), with a progress line on a terminal and
/// a summary at the end.
enum BatchCommand {
  static let options: [OptionSpec] = [
    .value("--template", valueName: "FILE", help: "the message template (RFC 5322 with {{name}} placeholders)"),
    .value("--campaign", valueName: "NAME", help: "campaign name, part of every row's key (default: FILE's name)"),
    .value("--key-column", valueName: "NAME", help: "the column that identifies a row (default: key; else a hash)"),
    .value("--channel", valueName: "NAME", help: "use this channel for every row instead of routing by From"),
    .flag("--dry-run", help: "check every row and show what would be sent; send nothing"),
    .flag("--skip-invalid", help: "send the valid rows even when others are invalid"),
    .value("--connections", valueName: "N", help: "sessions per channel at once (default 1)"),
    .value(
      "--max-wait", valueName: "DURATION", help: "longest wait for a throttle slot before deferring (default 10m)"),
    .value("--config", valueName: "FILE", help: "config file"),
    .flag("--json", help: "print the summary as JSON on stdout"),
    .flag("-v", "--verbose", help: "print the SMTP transcripts on stderr"),
    .flag("-q", "--quiet", help: "no progress line and no summary"),
    .flag("-h", "--help", help: "show this help"),
  ]

  static let usage = "usage: msc-send batch FILE.csv|FILE.jsonl --template FILE [--campaign NAME] [--dry-run] [--json]"

  static let summary = """
    Sends one message per row of a CSV file (RFC 4180, a header row naming the columns) or a JSON
    Lines file (one object per line), filled into the template's {{name}} placeholders. Every row is
    checked first; any bad row stops the batch before anything is sent (all of them are listed), or
    is left out with --skip-invalid. Each row's key (campaign plus its `key` column, else a hash of
    the row) is recorded with its message: running the same batch again sends only the rows not
    sent yet. Messages that cannot go now stay queued for `msc-send flush`.
    Exit codes: 0 all sent; 65 invalid rows (nothing sent); 75 some deferred; else the worst failure.
    """

  struct Request {
    var file: String
    var template: String
    var campaign: String
    var keyColumn: String
    var channel: String?
    var dryRun: Bool
    var skipInvalid: Bool
    var connections: Int
    var maxWait: Double
    var json: Bool
    var verbose: Bool
    var quiet: Bool
  }

  static func run(_ arguments: [String], context: CLIContext) -> ExitCode {
    let parsed: ParsedArguments
    switch CommandParsing.parse(
      arguments, options: options, usage: usage, summary: summary, allowsPositionals: true, context: context)
    {
    case .parsed(let result): parsed = result
    case .exit(let code): return code
    }
    let request: Request
    do throws(UsageError) {
      request = try makeRequest(parsed)
    } catch {
      context.error(error.message, hint: error.hint ?? usage)
      return .usage
    }
    guard let configuration = ConfigSupport.load(explicit: parsed.value("--config"), context: context) else {
      return .config
    }
    if let channel = request.channel, configuration.channel(named: channel) == nil {
      context.error(
        "no channel named \"\(channel)\"",
        hint: "configured: " + configuration.channels.map(\.name).joined(separator: ", "))
      return .usage
    }
    return BatchRun(request: request, configuration: configuration, context: context).run()
  }

  static func makeRequest(_ parsed: ParsedArguments) throws(UsageError) -> Request {
    guard parsed.positionals.count == 1, let file = parsed.positionals.first else {
      throw UsageError(parsed.positionals.isEmpty ? "give the rows file (CSV or JSON Lines)" : "give one rows file")
    }
    guard let template = parsed.value("--template") else { throw UsageError("--template FILE is required") }
    let campaign = parsed.value("--campaign") ?? defaultCampaign(file)
    do throws(BatchInputError) {
      try IdempotencyKey.validateCampaign(campaign)
    } catch {
      throw UsageError(error.message)
    }
    return Request(
      file: file, template: template, campaign: campaign,
      keyColumn: parsed.value("--key-column") ?? IdempotencyKey.defaultKeyColumn, channel: parsed.value("--channel"),
      dryRun: parsed.has("--dry-run"), skipInvalid: parsed.has("--skip-invalid"),
      connections: try FlushCommand.count(parsed.value("--connections"), flag: "--connections"),
      maxWait: try FlushCommand.duration(parsed.value("--max-wait"), flag: "--max-wait", default: 600),
      json: parsed.has("--json"), verbose: parsed.has("--verbose"), quiet: parsed.has("--quiet"))
  }

  /// The rows file's name without its extension, with anything a campaign may not hold replaced.
  static func defaultCampaign(_ file: String) -> String {
    let name = (file as NSString).lastPathComponent
    let stem = name.contains(".") ? String(name[..<(name.lastIndex(of: ".") ?? name.endIndex)]) : name
    let cleaned = String(stem.map { $0 == ":" || $0.isWhitespace || $0.isNewline ? "-" : $0 })
    return cleaned.isEmpty ? "batch" : cleaned
  }
}
