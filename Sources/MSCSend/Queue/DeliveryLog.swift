import Foundation

/// Where `[defaults] log` sends the delivery log.
public enum DeliveryLogTarget: Sendable, Equatable {
  case off
  /// Appended to this file (created 0600).
  case file(String)
  /// syslog(3), facility mail, as msmtp's `syslog on`.
  case syslog
}

/// The delivery log: one line per recipient per attempt, in `key=value` form like msmtp's log, so
/// that tools written for it (and grep) read it:
///
/// ```
/// time=2026-11-23T17:19:03Z channel=work message_id=<...@acme.test> campaign=q3
///   recipient=bob@example.com outcome=accepted reply='250 2.0.0 OK'
/// ```
/// (one line; broken here for width).
///
/// A value with spaces, quotes or nothing in it is quoted with `'` (`\'` and `\\` inside); control
/// characters become spaces. syslog lines leave out `time=` (syslog stamps them). Lines are written
/// with each grouped commit, in one `write(2)` per group (O_APPEND: concurrent processes never
/// interleave within a line). A log that cannot be written warns once and never stops delivery.
public final class DeliveryLog {
  public struct Entry: Sendable, Equatable {
    public var time: Double
    public var channel: String
    public var messageID: String
    public var campaign: String?
    public var recipient: String
    public var outcome: OutcomeClass
    public var reply: String?

    public init(
      time: Double, channel: String, messageID: String, campaign: String?, recipient: String, outcome: OutcomeClass,
      reply: String?
    ) {
      self.time = time
      self.channel = channel
      self.messageID = messageID
      self.campaign = campaign
      self.recipient = recipient
      self.outcome = outcome
      self.reply = reply
    }
  }

  public let target: DeliveryLogTarget
  private let warn: (String) -> Void
  private var warned = false

  public init(target: DeliveryLogTarget, warn: @escaping (String) -> Void = { _ in }) {
    self.target = target
    self.warn = warn
  }

  public var isOn: Bool { target != .off }

  public func write(_ entries: [Entry]) {
    guard !entries.isEmpty else { return }
    switch target {
    case .off:
      return
    case .file(let path):
      let text = entries.map { Self.line($0, withTime: true) + "\n" }.joined()
      if !append(text, to: path) && !warned {
        warned = true
        warn("cannot write the delivery log \(path): \(String(cString: strerror(errno)))")
      }
    case .syslog:
      for entry in entries {
        let line = Self.line(entry, withTime: false)
        withVaList([line]) { vsyslog(LOG_MAIL | LOG_INFO, "%s", $0) }
      }
    }
  }

  /// One entry as a log line.
  public static func line(_ entry: Entry, withTime: Bool) -> String {
    var fields: [(String, String)] = []
    if withTime { fields.append(("time", ThrottleTime.iso8601(entry.time))) }
    fields += [("channel", entry.channel), ("message_id", entry.messageID)]
    if let campaign = entry.campaign { fields.append(("campaign", campaign)) }
    fields += [("recipient", entry.recipient), ("outcome", entry.outcome.rawValue), ("reply", entry.reply ?? "")]
    return fields.map { "\($0.0)=\(quoted($0.1))" }.joined(separator: " ")
  }

  static func quoted(_ value: String) -> String {
    let clean = String(value.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) })
    let needsQuotes = clean.isEmpty || clean.contains { $0 == " " || $0 == "'" || $0 == "\"" || $0 == "\\" }
    guard needsQuotes else { return clean }
    return "'" + clean.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
  }

  private func append(_ text: String, to path: String) -> Bool {
    let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    let bytes = Array(text.utf8)
    var written = 0
    while written < bytes.count {
      let count = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else { return false }
      written += count
    }
    return true
  }
}
