/// The provider limits each channel kind starts from (DOMAIN.md section 2). Provider numbers
/// change without notice, so they are data: an embedded TOML table that a channel's `limits`
/// override (the throttle issue enforces them; `channels` shows them).
public struct ThrottleProfile: Sendable, Equatable {
  public var name: String
  /// Sliding windows such as "30/1m", "2000/24h".
  public var messages: [String]
  public var recipients: [String]
  public var recipientsPerMessage: Int?
  public var connections: Int?
  public var messagesPerConnection: Int?
  /// MSC's batch mode: up to `size` messages released every `every`.
  public var batch: (size: Int, every: String)?
  public var note: String

  public static func == (lhs: ThrottleProfile, rhs: ThrottleProfile) -> Bool {
    lhs.name == rhs.name && lhs.messages == rhs.messages && lhs.recipients == rhs.recipients
      && lhs.recipientsPerMessage == rhs.recipientsPerMessage && lhs.connections == rhs.connections
      && lhs.messagesPerConnection == rhs.messagesPerConnection && lhs.batch?.size == rhs.batch?.size
      && lhs.batch?.every == rhs.batch?.every && lhs.note == rhs.note
  }

  /// "30/1m messages, 10000/24h recipients, 500 per message, 3 connections".
  public var summary: String {
    var parts: [String] = []
    if !messages.isEmpty { parts.append(messages.joined(separator: " + ") + " messages") }
    if !recipients.isEmpty { parts.append(recipients.joined(separator: " + ") + " recipients") }
    if let batch { parts.append("batches of \(batch.size) every \(batch.every)") }
    if let recipientsPerMessage { parts.append("\(recipientsPerMessage) recipients per message") }
    if let connections { parts.append("\(connections) connection\(connections == 1 ? "" : "s")") }
    if let messagesPerConnection { parts.append("\(messagesPerConnection) messages per connection") }
    return parts.isEmpty ? "no limits" : parts.joined(separator: ", ")
  }
}

public enum ThrottleProfiles {
  /// DOMAIN.md section 2's "concrete defaults to ship".
  static let embeddedTOML = """
    [exchange-online]
    messages = ["30/1m"]
    recipients = ["10000/24h"]
    recipients_per_message = 500
    connections = 3
    note = "Office 365: 30 messages a minute, 10,000 recipients a rolling day"

    [google-workspace]
    messages = ["60/1m", "2000/24h"]
    recipients = ["10000/24h"]
    recipients_per_message = 100
    connections = 2
    note = "Google Workspace via SMTP"

    [gmail-consumer]
    messages = ["20/1m", "500/24h"]
    recipients = ["500/24h"]
    recipients_per_message = 100
    connections = 1
    note = "@gmail.com and @googlemail.com accounts"

    [google-smtp-relay]
    recipients = ["10000/24h"]
    recipients_per_message = 1000
    connections = 4
    note = "Google Workspace SMTP relay service"

    [sendgrid]
    recipients_per_message = 1000
    connections = 10
    messages_per_connection = 5000
    note = "plan limits apply at SendGrid"

    [sparkpost]
    recipients_per_message = 1000
    connections = 10
    messages_per_connection = 100
    note = "plan limits apply at SparkPost"

    [exchange-onprem]
    messages = ["30/1m"]
    recipients_per_message = 100
    connections = 2
    note = "conservative until IT says otherwise"

    [legacy]
    messages = ["30/1m"]
    recipients_per_message = 100
    connections = 2
    note = "conservative until IT says otherwise"

    [msc-batch]
    batch = { size = 25, every = "45s" }
    connections = 1
    note = "Marketo Sales Connect's batch mode"

    [custom]
    note = "a relay of your own: its plan sets the limits"

    [none]
    note = "no network"
    """

  public static let names = ["exchange-online", "google-workspace", "gmail-consumer", "google-smtp-relay", "sendgrid",
    "sparkpost", "exchange-onprem", "legacy", "msc-batch", "custom", "none"]

  /// All embedded profiles by name. The table is ours and tested, so a parse failure is a bug.
  public static func all() -> [String: ThrottleProfile] {
    guard let table = try? TOMLParser.parse(Array(embeddedTOML.utf8), file: "embedded profiles") else { return [:] }
    var profiles: [String: ThrottleProfile] = [:]
    for entry in table.entries {
      guard case .table(let fields) = entry.node.value else { continue }
      profiles[entry.key] = ThrottleProfile(
        name: entry.key, messages: strings(fields["messages"]), recipients: strings(fields["recipients"]),
        recipientsPerMessage: integer(fields["recipients_per_message"]), connections: integer(fields["connections"]),
        messagesPerConnection: integer(fields["messages_per_connection"]), batch: batch(fields["batch"]),
        note: string(fields["note"]) ?? "")
    }
    return profiles
  }

  public static func named(_ name: String) -> ThrottleProfile? { all()[name] }

  private static func strings(_ node: TOMLNode?) -> [String] {
    guard case .array(let items)? = node?.value else { return [] }
    return items.compactMap { if case .string(let text) = $0.value { text } else { nil } }
  }

  private static func string(_ node: TOMLNode?) -> String? {
    if case .string(let text)? = node?.value { text } else { nil }
  }

  private static func integer(_ node: TOMLNode?) -> Int? {
    if case .integer(let value)? = node?.value { Int(value) } else { nil }
  }

  private static func batch(_ node: TOMLNode?) -> (size: Int, every: String)? {
    guard case .table(let fields)? = node?.value, let size = integer(fields["size"]), let every = string(fields["every"])
    else { return nil }
    return (size, every)
  }
}
