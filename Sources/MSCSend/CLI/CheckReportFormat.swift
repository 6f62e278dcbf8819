import Foundation

/// `check`'s output: a short checklist for people, a stable JSON document for scripts (its
/// schema is in the README; keys are only ever added).
enum CheckReportFormat {
  /// One block per channel:
  /// ```
  /// relay  (smtp, 127.0.0.1:2525)
  ///   ok    TLS        STARTTLS, TLSv1.3 TLS_AES_256_GCM_SHA384, verified (CN=...)
  ///   fail  login      as apikey: authentication refused: 535 5.7.8 ...
  ///         hint: check the user name and the password (or token) source
  /// ```
  static func human(_ report: ChannelCheckReport, strict: Bool) -> String {
    var text = "\(report.channel)  (\(report.kind.rawValue), \(report.target))\n"
    for item in report.items {
      let verdict = item.verdict.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)
      let label = item.id.label.padding(toLength: 11, withPad: " ", startingAt: 0)
      text += "  \(verdict)\(label)\(item.domain.map { "\($0): " } ?? "")\(terminalSafe(item.detail))\n"
      if let hint = item.hint, item.verdict == .fail || item.verdict == .warn {
        text += "        hint: \(terminalSafe(hint))\n"
      }
    }
    let code = report.exitCode(strict: strict)
    text += "  => \(report.verdict.rawValue)" + (code == .ok ? "" : " (exit \(code.rawValue))") + "\n\n"
    return text
  }

  /// Details quote servers and DNS records, which are untrusted: no control character (an escape
  /// sequence, a line break) reaches the terminal.
  static func terminalSafe(_ text: String) -> String {
    ReplyReader.printable(Array(text.utf8)).replacingOccurrences(of: "\t", with: " ")
  }

  /// The closing line: how many channels passed, warned, failed, and the exit code.
  static func summary(_ reports: [ChannelCheckReport], strict: Bool, exitCode: ExitCode) -> String {
    let failed = reports.filter { $0.verdict == .fail }.count
    let warned = reports.filter { $0.verdict == .warn }.count
    var parts = ["\(reports.count) channel\(reports.count == 1 ? "" : "s") checked"]
    if failed > 0 { parts.append("\(failed) failed") }
    if warned > 0 { parts.append("\(warned) with warnings\(strict ? "" : " (not failing without --strict)")") }
    return "result: " + parts.joined(separator: ", ") + "; exit \(exitCode.rawValue)\n"
  }

  /// `{"channels":[{"name","kind","target","verdict","exit_code","checks":[{"id","verdict","detail",
  /// "hint","exit_code","domain"}],"transcript"?}],"verdict","exit_code","strict"}`.
  static func json(_ reports: [ChannelCheckReport], strict: Bool, exitCode: ExitCode, transcript: Bool)
    -> [String: Any]
  {
    let channels = reports.map { report -> [String: Any] in
      var object: [String: Any] = [
        "name": report.channel, "kind": report.kind.rawValue, "target": report.target,
        "verdict": report.verdict.rawValue, "exit_code": Int(report.exitCode(strict: strict).rawValue),
        "checks": report.items.map { item -> [String: Any] in
          [
            "id": item.id.rawValue, "verdict": item.verdict.rawValue, "detail": item.detail,
            "hint": item.hint ?? NSNull(), "exit_code": Int(item.exitCode.rawValue), "domain": item.domain ?? NSNull(),
          ]
        },
      ]
      if transcript { object["transcript"] = report.transcript }
      return object
    }
    let verdict = reports.map(\.verdict).max { $0.rank < $1.rank } ?? .skip
    return ["channels": channels, "verdict": verdict.rawValue, "exit_code": Int(exitCode.rawValue), "strict": strict]
  }
}
