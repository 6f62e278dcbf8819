/// The limits one channel must honour: its profile's (DOMAIN.md section 2) with the channel's
/// `limits` table laid over them key by key (a key given replaces the profile's value for that
/// key; `messages = []` removes the profile's message windows).
public struct ChannelLimits: Sendable, Equatable {
  /// Sliding windows over messages (SMTP transactions); all apply.
  public var messages: [RateWindow] = []
  /// Sliding windows over recipients: every recipient of every message counts.
  public var recipients: [RateWindow] = []
  /// Larger envelopes are split into several transactions of the same message.
  public var recipientsPerMessage: Int?
  /// Connections open at once across every process.
  public var connections: Int?
  /// Transactions one session carries before flush and batch reconnect (SparkPost 100, SendGrid
  /// 5,000); `send` opens one per transaction anyway.
  public var messagesPerConnection: Int?
  public var batch: BatchLimit?
  /// The first pause after a throttle reply (`421 4.7.0` ...); it doubles with each throttle
  /// that follows without a success in between, up to `backoffGrowthLimit` times this.
  public var backoff: Double = 30

  public static let backoffGrowthLimit = 32.0
  public static let none = ChannelLimits()

  public init(
    messages: [RateWindow] = [], recipients: [RateWindow] = [], recipientsPerMessage: Int? = nil,
    connections: Int? = nil, messagesPerConnection: Int? = nil, batch: BatchLimit? = nil, backoff: Double = 30
  ) {
    self.messages = messages
    self.recipients = recipients
    self.recipientsPerMessage = recipientsPerMessage
    self.connections = connections
    self.messagesPerConnection = messagesPerConnection
    self.batch = batch
    self.backoff = backoff
  }

  /// The limits of an embedded profile (whose table is ours and tested).
  public init(profile: ThrottleProfile) {
    self.init(
      messages: profile.messages.compactMap(RateWindow.init),
      recipients: profile.recipients.compactMap(RateWindow.init),
      recipientsPerMessage: profile.recipientsPerMessage, connections: profile.connections,
      messagesPerConnection: profile.messagesPerConnection,
      batch: profile.batch.flatMap { batch in
        DurationText.parse(batch.every).map { BatchLimit(size: batch.size, every: $0, everyText: batch.every) }
      })
  }

  /// Whether any limit needs the ledger's counting (recipients per message does not).
  public var isCounted: Bool { !messages.isEmpty || !recipients.isEmpty || batch != nil || connections != nil }

  /// How far back a row can still matter: the longest window or batch interval.
  public var horizon: Double {
    (messages + recipients).map(\.seconds).reduce(batch?.every ?? 0, max)
  }

  /// The most recipients one transaction may carry: the per-message limit, and never more than
  /// the smallest recipients window (a larger chunk could never be granted).
  public var chunkSize: Int? {
    let bounds = [recipientsPerMessage].compactMap { $0 } + recipients.map(\.limit)
    return bounds.min()
  }

  /// The window a quota reply waits out: the longest of the channel's windows (the provider's
  /// rolling day for the shipped profiles), or a day when the channel has none.
  public var quotaWindow: (kind: LedgerEntryKind, seconds: Double) {
    let longestMessages = messages.map(\.seconds).max() ?? 0
    let longestRecipients = recipients.map(\.seconds).max() ?? 0
    if longestMessages == 0 && longestRecipients == 0 { return (.message, 86_400) }
    return longestRecipients >= longestMessages ? (.recipients, longestRecipients) : (.message, longestMessages)
  }

  /// "30/1m messages, 10000/24h recipients, 500 recipients per message, 3 connections".
  public var summary: String {
    var parts: [String] = []
    if !messages.isEmpty { parts.append(messages.map(\.description).joined(separator: " + ") + " messages") }
    if !recipients.isEmpty { parts.append(recipients.map(\.description).joined(separator: " + ") + " recipients") }
    if let batch { parts.append(batch.description) }
    if let recipientsPerMessage { parts.append("\(recipientsPerMessage) recipients per message") }
    if let connections { parts.append("\(connections) connection\(connections == 1 ? "" : "s")") }
    if let messagesPerConnection { parts.append("\(messagesPerConnection) messages per connection") }
    return parts.isEmpty ? "no limits" : parts.joined(separator: ", ")
  }
}

extension ChannelLimits {
  static let keys = [
    "messages", "recipients", "recipients_per_message", "connections", "messages_per_connection", "batch", "backoff",
  ]
  static let windowHint = "a window is COUNT/DURATION, such as \"30/1m\" or \"10000/24h\"; durations: 45s, 1m, 24h, 7d"

  /// Reads a channel's `limits = { ... }` over `base` (its profile's limits). Every mistake is a
  /// `ConfigError` at the offending key or value.
  static func read(_ table: ConfigTable, over base: ChannelLimits) throws(ConfigError) -> ChannelLimits {
    try table.checkKeys(keys)
    var limits = base
    if let windows = try windows(table, "messages") { limits.messages = windows }
    if let windows = try windows(table, "recipients") { limits.recipients = windows }
    if let count = try positive(table, "recipients_per_message") { limits.recipientsPerMessage = count }
    if let count = try positive(table, "connections") { limits.connections = count }
    if let count = try positive(table, "messages_per_connection") { limits.messagesPerConnection = count }
    if let batch = try table.table("batch", hint: "write batch = { size = 25, every = \"45s\" }") {
      limits.batch = try readBatch(batch)
    }
    if let backoff = try table.string("backoff") {
      guard let seconds = DurationText.parse(backoff.value), seconds > 0 else {
        throw table.error(
          at: backoff.position, "\(table.keyPath("backoff")): \"\(backoff.value)\" is not a positive duration",
          hint: "durations are a whole number and a unit: 45s, 1m, 24h")
      }
      limits.backoff = seconds
    }
    return limits
  }

  private static func windows(_ table: ConfigTable, _ key: String) throws(ConfigError) -> [RateWindow]? {
    guard let entry = table.table.entry(key) else { return nil }
    let nodes: [TOMLNode]
    switch entry.node.value {
    case .string: nodes = [entry.node]
    case .array(let items): nodes = items
    default:
      throw table.error(
        at: entry.node.position,
        "\(table.keyPath(key)): expected a window such as \"30/1m\" or a list of them, found "
          + entry.node.value.typeNameWithArticle)
    }
    var windows: [RateWindow] = []
    for node in nodes {
      guard case .string(let text) = node.value else {
        throw table.error(
          at: node.position, "\(table.keyPath(key)): expected a string, found \(node.value.typeNameWithArticle)")
      }
      guard let window = RateWindow(text) else {
        throw table.error(
          at: node.position, "\(table.keyPath(key)): \"\(text)\" is not a window of positive count and duration",
          hint: windowHint)
      }
      windows.append(window)
    }
    return windows
  }

  private static func positive(_ table: ConfigTable, _ key: String) throws(ConfigError) -> Int? {
    guard let number = try table.integer(key) else { return nil }
    guard number.value > 0, number.value <= 1_000_000_000 else {
      throw table.error(at: number.position, "\(table.keyPath(key)): expected a positive count, found \(number.value)")
    }
    return Int(number.value)
  }

  private static func readBatch(_ located: ConfigTable.Located<ConfigTable>) throws(ConfigError) -> BatchLimit {
    let batch = located.value
    try batch.checkKeys(["size", "every"])
    let size = try positive(batch, "size")
    let every = try batch.string("every")
    guard let size, let every else {
      throw batch.error(
        at: located.position, "\(batch.path): needs both size and every",
        hint: "write batch = { size = 25, every = \"45s\" }: up to 25 messages released every 45 seconds")
    }
    guard let seconds = DurationText.parse(every.value), seconds > 0 else {
      throw batch.error(
        at: every.position, "\(batch.keyPath("every")): \"\(every.value)\" is not a positive duration",
        hint: "durations are a whole number and a unit: 45s, 1m, 24h")
    }
    return BatchLimit(size: size, every: seconds, everyText: every.value)
  }
}
