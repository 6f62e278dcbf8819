import Foundation

/// One `msc-send batch` run: read and check every row (spooling the good ones as it goes), stop or
/// queue them all at once, deliver the campaign, report.
struct BatchRun {
  let request: BatchCommand.Request
  let configuration: Configuration
  let context: CLIContext

  func run() -> ExitCode {
    let started = SystemThrottleClock().now()
    let template: MessageTemplate
    do {
      template = try loadTemplate()
    } catch let error as TemplateError {
      context.error("\(request.template): \(error.description)")
      return error.kind == .unreadable ? .ioError : .dataError
    } catch {
      context.error("\(error)")
      return .ioError
    }
    var defaultFrom: Mailbox?
    if let from = configuration.defaults.from { defaultFrom = try? Mailbox.parse(from) }
    if defaultFrom == nil && !template.fields.contains(where: { $0.name.lowercased() == "from" }) {
      context.error("the template has no From field and [defaults] from is not set", hint: "add From: to the template")
      return .dataError
    }
    let ledgerPath = configuration.ledgerPath(environment: context.environment)
    let spool = configuration.spool(environment: context.environment)
    var queue: MessageQueue?
    let spooler: BatchSpooler
    let validation: BatchValidation
    do {
      if !request.dryRun || ThrottleLedger.exists(at: ledgerPath) {
        queue = MessageQueue(ledger: try ThrottleLedger(path: ledgerPath))
      }
      spooler = BatchSpooler(
        configuration: configuration, campaign: request.campaign,
        templateName: (request.template as NSString).lastPathComponent, defaultFrom: defaultFrom,
        explicitChannel: request.channel, existingKeys: try queue?.keys(campaign: request.campaign) ?? [],
        writer: request.dryRun ? nil : try spool.makeWriter(), compose: fixedCompose())
      validation = try validate(template, spooler: spooler)
    } catch let error as BatchInputError {
      context.error(error.line.map { "\(request.file):\($0): \(error.message)" } ?? "\(request.file): \(error.message)")
      return error.exitCode
    } catch {
      context.error("\(error)", hint: "nothing was sent")
      return .ioError
    }
    for problem in validation.errors { context.error("\(request.file): \(problem.message)") }
    if let failure = spooler.failure {
      context.error(failure.description, hint: "nothing was sent")
      return .ioError
    }
    var report = BatchReport(request: request, validation: validation, spooler: spooler, started: started)
    if !validation.isValid && !request.skipInvalid {
      context.error(
        "\(validation.badRows.count) of \(validation.rowCount) rows are invalid; nothing was sent",
        hint: "fix them (msc-send batch --dry-run checks again), or pass --skip-invalid to send the others")
      if request.json { context.printJSON(report.json(progress: nil, code: .dataError)) }
      return .dataError
    }
    if request.dryRun {
      if request.json { context.printJSON(report.json(progress: nil, code: .ok)) }
      if !request.quiet { context.console.err(report.dryRunText()) }
      return .ok
    }
    guard let queue else { return .software }
    do {
      if !spooler.messages.isEmpty {
        try spooler.writer?.commit()
        _ = try queue.enqueue(batch: spooler.messages)
      }
    } catch {
      context.error("\(error)", hint: "nothing was sent")
      return .ioError
    }
    report.queuedAt = SystemThrottleClock().now()
    return deliver(report: report)
  }

  private func loadTemplate() throws -> MessageTemplate {
    guard let data = FileManager.default.contents(atPath: request.template) else {
      throw TemplateError(.unreadable, "cannot read the template \(request.template)")
    }
    guard let text = String(validating: Array(data), as: UTF8.self) else {
      throw TemplateError(.invalidSyntax, "the template is not valid UTF-8")
    }
    return try MessageTemplate(text)
  }

  private func validate(_ template: MessageTemplate, spooler: BatchSpooler) throws -> BatchValidation {
    let validator = try BatchValidator(template: template, campaign: request.campaign, keyColumn: request.keyColumn)
    let maker = spooler.maker
    let workers = ProcessInfo.processInfo.activeProcessorCount
    let lower = request.file.lowercased()
    if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") || lower.hasSuffix(".json") {
      var source = try JSONLinesReader(contentsOfFile: request.file)
      return try validator.validate(&source, workers: workers, prepare: { maker.make($1) }, accept: spooler.accept)
    }
    var source = try CSVReader(contentsOfFile: request.file)
    return try validator.validate(&source, workers: workers, prepare: { maker.make($1) }, accept: spooler.accept)
  }

  /// The clock, zone and host name read once for the whole run (the live environment computes
  /// the zone's offset on every access).
  private func fixedCompose() -> ComposeEnvironment {
    let live = context.composeEnvironment
    return ComposeEnvironment(
      now: live.now, timeZoneOffsetSeconds: live.timeZoneOffsetSeconds, randomBytes: live.randomBytes,
      hostName: live.hostName)
  }

  private func deliver(report: BatchReport) -> ExitCode {
    let clock = SystemThrottleClock()
    var runner = FlushRunner(
      configuration: configuration,
      options: RunOptions(
        campaign: request.campaign, maxWait: request.maxWait, ignoreBackoff: true, connections: request.connections),
      environment: context.environment, connector: context.connector, clock: clock)
    let console = context.console
    runner.warn = { [quiet = request.quiet] text in if !quiet { console.err("msc-send: warning: \(text)\n") } }
    if request.verbose { runner.transcript = TranscriptPrinter.make(console) }
    let showProgress = console.stderrIsTerminal && !request.quiet && !request.verbose
    let limits = report.spooler.perChannel.keys.compactMap { configuration.channel(named: $0)?.limits }
    let progress: RunProgress
    do {
      progress = try runner.run { progress in
        if showProgress {
          console.err("\r\u{1B}[K" + report.progressLine(progress.snapshot, limits: limits, now: clock.now()))
        }
      }
    } catch {
      context.error("\(error)", hint: "the rows are queued: `msc-send flush` sends them")
      return .ioError
    }
    if showProgress { console.err("\r\u{1B}[K") }
    let tally = progress.snapshot
    if !request.quiet {
      for line in tally.reports.map(\.line) { console.err("msc-send: \(line)\n") }
      console.err(report.summaryText(tally, now: clock.now()))
    }
    if request.json { context.printJSON(report.json(progress: tally, code: tally.worst)) }
    return tally.worst
  }
}
