/// What one reservation row counts against: a message (one SMTP transaction), its recipients, or
/// an open connection.
public enum LedgerEntryKind: String, Sendable, Equatable, CaseIterable {
  case message
  case recipients
  case connection
}

/// `waiting` while a process waits for a slot (it counts for nothing, but tells later waiters
/// how many are ahead of them), `reserved` while the sending process works (it holds the slot
/// whatever happens), `used` once the server answered (counted from then on), `released` when
/// nothing was delivered or its process died.
public enum LedgerEntryState: String, Sendable, Equatable {
  case waiting
  case reserved
  case used
  case released

  /// Whether the row takes a slot.
  public var counts: Bool { self == .reserved || self == .used }
}

/// One row of `reservations`. The rows of one grant (message, recipients, connection) share
/// `grant`, so that they are settled or released together.
public struct LedgerEntry: Sendable, Equatable {
  public var id: Int64
  public var grant: Int64
  public var channel: String
  public var kind: LedgerEntryKind
  public var count: Int
  /// When reserved; once used, when the server's answer came (the message arrived no later).
  public var at: Double
  /// Batch mode: when the batch this message belongs to opened.
  public var batchStart: Double?
  public var process: ProcessIdentity
  public var state: LedgerEntryState
  public var messageID: String?

  public init(
    id: Int64 = 0, grant: Int64, channel: String, kind: LedgerEntryKind, count: Int, at: Double,
    batchStart: Double? = nil, process: ProcessIdentity, state: LedgerEntryState = .reserved, messageID: String? = nil
  ) {
    self.id = id
    self.grant = grant
    self.channel = channel
    self.kind = kind
    self.count = count
    self.at = at
    self.batchStart = batchStart
    self.process = process
    self.state = state
    self.messageID = messageID
  }
}

/// Why a channel is paused: its quota is used up (until the window rolls) or the server throttled
/// us (exponential backoff).
public enum CooldownReason: String, Sendable, Equatable {
  case quota
  case throttle
}

/// One row of `cooldowns`: the channel may not be used before `until`. The row outlives `until`
/// so that the next throttle doubles `backoffSeconds`; a success resets it.
public struct CooldownRecord: Sendable, Equatable {
  public var channel: String
  public var until: Double
  public var reason: CooldownReason
  /// The server's reply that caused it, as received (untrusted text, shown as is).
  public var reply: String?
  public var backoffSeconds: Double
  public var setAt: Double

  public init(
    channel: String, until: Double, reason: CooldownReason, reply: String?, backoffSeconds: Double, setAt: Double
  ) {
    self.channel = channel
    self.until = until
    self.reason = reason
    self.reply = reply
    self.backoffSeconds = backoffSeconds
    self.setAt = setAt
  }
}

/// One row of `outcomes`: what became of one recipient in one attempt.
public struct OutcomeRecord: Sendable, Equatable {
  public var messageID: String?
  public var channel: String
  public var recipient: String
  public var outcome: OutcomeClass
  public var reply: String?
  public var at: Double

  public init(
    messageID: String?, channel: String, recipient: String, outcome: OutcomeClass, reply: String?, at: Double
  ) {
    self.messageID = messageID
    self.channel = channel
    self.recipient = recipient
    self.outcome = outcome
    self.reply = reply
    self.at = at
  }
}
