/// Where a queued message is in its life:
///
/// ```
/// queued ──claim──> sending ──> sent
///    ^                 │  ├───> deferred ──(next_attempt due)──> claim again
///    │                 │  ├───> failed    (permanent refusal, or older than max_age)
///    │                 │  └───> uncertain (connection lost after the final dot, retries used up)
///    └── retry ────────┘        (dropped: removed by hand; its bytes are freed)
/// ```
///
/// `sending` is a lease: the process named in the row works on the message until `lease_until`.
/// A lease whose process died (or stopped renewing it) is taken back by the next queue user, who
/// reads that process's attempt journal to learn what it did (see `AttemptJournal`).
public enum MessageState: String, Sendable, Equatable, CaseIterable {
  case queued
  case sending
  case sent
  case deferred
  case failed
  case uncertain
  case dropped

  /// Waiting for an attempt (due at `next_attempt`).
  public var isWaiting: Bool { self == .queued || self == .deferred }

  /// Nothing more will be tried unless someone says `queue retry`.
  public var isFinal: Bool { self == .sent || self == .failed || self == .uncertain || self == .dropped }
}

/// One envelope recipient's state. `pending` recipients are the ones the next attempt carries.
public enum RecipientState: String, Sendable, Equatable {
  case pending
  case sent
  case failed
  /// Delivered or not, unknown (RFC 1047), and not to be retried any more.
  case uncertain
}

/// Where a message's bytes are: `size` octets at `offset` in a spool segment.
public struct SpoolLocation: Sendable, Equatable {
  public var path: String
  public var offset: Int
  public var size: Int

  public init(path: String, offset: Int, size: Int) {
    self.path = path
    self.offset = offset
    self.size = size
  }
}

/// One recipient of a queued message, with the last outcome recorded for it.
public struct QueuedRecipient: Sendable, Equatable {
  public var address: String
  public var position: Int
  public var state: RecipientState
  public var outcome: OutcomeClass?
  /// The server's reply as received (untrusted text), or what we concluded when there was none.
  public var reply: String?
  public var updated: Double?
}

/// A row of `messages` with its recipients.
public struct QueuedMessage: Sendable, Equatable {
  public var id: Int64
  /// With the angle brackets.
  public var messageID: String
  public var channel: String
  public var sender: String
  /// nil once the bytes are gone (dropped, or sent and the segment removed).
  public var spool: SpoolLocation?
  public var size: Int
  public var eightBit: Bool
  public var smtpUTF8: Bool
  public var state: MessageState
  public var leaseHolder: ProcessIdentity?
  public var leaseUntil: Double?
  /// Attempts that reached the channel (waits for a slot are not attempts).
  public var attempts: Int
  public var nextAttempt: Double
  public var created: Double
  public var updated: Double
  public var lastError: String?
  public var lastClass: OutcomeClass?
  public var campaign: String?
  public var template: String?
  public var idempotencyKey: String?
  /// Retries made after an uncertain outcome (RFC 1047): each may have duplicated the message.
  public var uncertainRetries: Int
  public var recipients: [QueuedRecipient]

  /// The message may have reached a recipient twice: an attempt's outcome was unknown and it was
  /// tried again, or the outcome stays unknown.
  public var possiblyDuplicated: Bool {
    uncertainRetries > 0 || recipients.contains { $0.state == .uncertain }
  }

  public var pendingRecipients: [String] { recipients.filter { $0.state == .pending }.map(\.address) }
}

/// What to put into the queue: the envelope, where the bytes were spooled, and for a batch row its
/// campaign, template and idempotency key.
public struct NewMessage: Sendable, Equatable {
  public var messageID: String
  public var channel: String
  public var sender: String
  public var recipients: [String]
  public var spool: SpoolLocation
  public var eightBit: Bool
  public var smtpUTF8: Bool
  public var campaign: String?
  public var template: String?
  public var idempotencyKey: String?

  public init(
    messageID: String, channel: String, sender: String, recipients: [String], spool: SpoolLocation,
    eightBit: Bool = false, smtpUTF8: Bool = false, campaign: String? = nil, template: String? = nil,
    idempotencyKey: String? = nil
  ) {
    self.messageID = messageID
    self.channel = channel
    self.sender = sender
    self.recipients = recipients
    self.spool = spool
    self.eightBit = eightBit
    self.smtpUTF8 = smtpUTF8
    self.campaign = campaign
    self.template = template
    self.idempotencyKey = idempotencyKey
  }
}

/// What one attempt made of a claimed message: the recipients' new states and the message's.
/// Built by `QueueOutcome`, written by `MessageQueue.complete` (grouped with others).
public struct Completion: Sendable, Equatable {
  public struct Recipient: Sendable, Equatable {
    public var address: String
    public var state: RecipientState
    public var outcome: OutcomeClass
    public var reply: String?
  }

  public var id: Int64
  public var state: MessageState
  public var nextAttempt: Double
  /// 1 when the attempt reached the channel, 0 when it only waited for a slot.
  public var attemptsMade: Int
  public var uncertainRetriesAdded: Int
  public var recipients: [Recipient]
  public var lastError: String?
  public var lastClass: OutcomeClass?
  public var at: Double
  /// The message was older than `max_age`: its waiting recipients failed.
  public var expired = false
}
