import Foundation

/// How `queue` shows messages: a table, one message in detail, JSON for scripts (stable keys).
enum QueueDisplay {
  static func table(_ messages: [QueuedMessage], now: Double) -> String {
    guard !messages.isEmpty else { return "the queue is empty\n" }
    let header = ["ID", "STATE", "CHANNEL", "TRIES", "NEXT ATTEMPT", "RCPT", "CAMPAIGN", "LAST ERROR"]
    let rows = messages.map { message -> [String] in
      [
        String(message.id), state(message), message.channel, String(message.attempts),
        message.state.isWaiting ? ThrottleTime.describe(message.nextAttempt, now: now) : "-",
        "\(message.recipients.count)", message.campaign ?? "-", message.lastError.map { String($0.prefix(60)) } ?? "",
      ]
    }
    let widths = header.indices.map { column in
      ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
    }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { index, cell in
        index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
      }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }
    return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
  }

  /// The state, with "(possibly duplicated)" when an uncertain outcome was retried.
  static func state(_ message: QueuedMessage) -> String {
    message.state.rawValue + (message.possiblyDuplicated && message.state == .sent ? " (possibly duplicated)" : "")
  }

  static func detail(_ message: QueuedMessage, now: Double) -> String {
    var lines = [
      "message \(message.id)  \(message.messageID)",
      "state:        \(state(message))",
      "channel:      \(message.channel)",
      "from:         \(message.sender.isEmpty ? "<>" : message.sender)",
      "size:         \(message.size) octets"
        + (message.spool.map { " in \($0.path) at \($0.offset)" } ?? " (bytes freed)"),
      "queued:       \(ThrottleTime.describe(message.created, now: now))",
      "attempts:     \(message.attempts)",
    ]
    if message.state.isWaiting { lines.append("next attempt: \(ThrottleTime.describe(message.nextAttempt, now: now))") }
    if message.state == .sending, let holder = message.leaseHolder {
      lines.append(
        "leased by:    process \(holder.pid) until \(ThrottleTime.describe(message.leaseUntil ?? 0, now: now))")
    }
    if let campaign = message.campaign { lines.append("campaign:     \(campaign)") }
    if let template = message.template { lines.append("template:     \(template)") }
    if message.uncertainRetries > 0 {
      lines.append("uncertain:    retried \(message.uncertainRetries) time(s) after an unknown outcome (RFC 1047)")
    }
    if let error = message.lastError { lines.append("last error:   \(error)") }
    lines.append("recipients:")
    for recipient in message.recipients {
      let outcome = recipient.outcome.map { " (\($0.rawValue))" } ?? ""
      lines.append(
        "  \(recipient.address)  \(recipient.state.rawValue)\(outcome)" + (recipient.reply.map { ": \($0)" } ?? ""))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  static func json(_ message: QueuedMessage) -> [String: Any] {
    [
      "id": message.id, "message_id": message.messageID, "state": message.state.rawValue, "channel": message.channel,
      "sender": message.sender, "size": message.size, "attempts": message.attempts,
      "next_attempt": message.state.isWaiting ? ThrottleTime.iso8601(message.nextAttempt) : NSNull(),
      "created": ThrottleTime.iso8601(message.created), "updated": ThrottleTime.iso8601(message.updated),
      "last_error": message.lastError ?? NSNull(), "last_class": message.lastClass?.rawValue ?? NSNull(),
      "campaign": message.campaign ?? NSNull(), "template": message.template ?? NSNull(),
      "idempotency_key": message.idempotencyKey ?? NSNull(), "uncertain_retries": message.uncertainRetries,
      "possibly_duplicated": message.possiblyDuplicated, "spool": message.spool?.path ?? NSNull(),
      "recipients": message.recipients.map { recipient -> [String: Any] in
        [
          "address": recipient.address, "state": recipient.state.rawValue,
          "class": recipient.outcome?.rawValue ?? NSNull(), "reply": recipient.reply ?? NSNull(),
        ]
      },
    ]
  }
}
