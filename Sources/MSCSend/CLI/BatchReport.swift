import Foundation

/// What `batch` tells: the progress line on a terminal (sent / total, rate, ETA), the dry run's
/// plan, the summary at the end, and the same as JSON for scripts.
struct BatchReport {
  let request: BatchCommand.Request
  let validation: BatchValidation
  let spooler: BatchSpooler
  let started: Double
  /// When every row was checked, spooled and queued (delivery starts).
  var queuedAt: Double?

  /// `batch q3: 523/2000 sent (3 deferred)  842/s  ETA 2s`. The ETA is the larger of what the
  /// rate so far and what the channels' message windows allow for the rest (a 30/1m window sends
  /// the next 300 in no less than ten minutes, however fast the first 30 went).
  func progressLine(_ tally: RunProgress.Snapshot, limits: [ChannelLimits], now: Double) -> String {
    let elapsed = max(now - tally.started, 0.001)
    let rate = Double(tally.sent) / elapsed
    var line = "batch \(request.campaign): \(tally.sent)/\(tally.total) sent"
    var others: [String] = []
    if tally.deferred > 0 { others.append("\(tally.deferred) deferred") }
    if tally.failed > 0 { others.append("\(tally.failed) failed") }
    if !others.isEmpty { line += " (" + others.joined(separator: ", ") + ")" }
    line += String(format: "  %.0f/s", rate)
    let remaining = Double(max(0, tally.total - tally.done))
    var eta = rate > 0 ? remaining / rate : 0
    for limit in limits {
      for window in limit.messages { eta = max(eta, remaining / Double(window.limit) * window.seconds) }
    }
    if remaining > 0 && (rate > 0 || !limits.isEmpty) { line += "  ETA \(DurationText.format(eta))" }
    if let waiting = tally.waiting {
      line += "  waiting for \(waiting.channel) until \(ThrottleTime.describe(waiting.until, now: now))"
    }
    return line
  }

  func dryRunText() -> String {
    var text =
      "batch \(request.campaign) (dry run): \(validation.rowCount) row(s), \(validation.rows.count) valid, "
      + "\(validation.badRows.count) invalid\n"
    for (channel, count) in spooler.perChannel.sorted(by: { $0.key < $1.key }) {
      text += "  would queue \(count) message(s) for channel \(channel)\n"
    }
    if spooler.alreadyQueued > 0 { text += "  \(spooler.alreadyQueued) row(s) already queued by earlier runs\n" }
    return text
  }

  func summaryText(_ tally: RunProgress.Snapshot, now: Double) -> String {
    let elapsed = now - started
    var text = "batch \(request.campaign): " + FlushCommand.describe(tally)
    if spooler.alreadyQueued > 0 { text += "; \(spooler.alreadyQueued) row(s) queued by an earlier run" }
    if !validation.isValid { text += "; \(validation.badRows.count) invalid row(s) left out" }
    text += String(format: " in %.2f s", elapsed)
    if let queuedAt {
      let sending = max(now - queuedAt, 0.001)
      text += String(format: " (rows checked, spooled and queued in %.2f s; ", queuedAt - started)
      text += String(format: "delivery %.2f s, %.0f/s)", sending, Double(tally.sent) / sending)
    }
    if tally.deferred > 0 { text += "\n  the deferred ones stay queued: `msc-send flush` sends them" }
    return text + "\n"
  }

  func json(progress tally: RunProgress.Snapshot?, code: ExitCode) -> [String: Any] {
    var object: [String: Any] = [
      "campaign": request.campaign, "rows": validation.rowCount, "valid": validation.rows.count,
      "invalid_rows": validation.badRows, "already_queued": spooler.alreadyQueued,
      "queued": spooler.messages.count, "dry_run": request.dryRun, "exit": Int(code.rawValue),
      "channels": spooler.perChannel,
      "errors": validation.errors.map { ["row": $0.row, "line": $0.line, "message": $0.problem] as [String: Any] },
    ]
    if let tally {
      for (key, value) in FlushCommand.json(tally) where key != "exit" { object[key] = value }
      object["elapsed_seconds"] = ((SystemThrottleClock().now() - started) * 1000).rounded() / 1000
    }
    return object
  }
}
