import Foundation

/// When to try a message again and when to give up (`[defaults] max_age`), and how often an
/// uncertain outcome is retried.
public struct RetryPolicy: Sendable, Equatable {
  /// The first retry after a temporary failure; it doubles with each attempt.
  public var base: Double = 60
  /// The longest pause between two attempts.
  public var cap: Double = 3600
  /// A message not delivered this long after it was queued fails, with a report.
  public var maxAge: Double = 5 * 86_400
  /// Retries after an uncertain outcome (RFC 1047): each may duplicate the message.
  public var uncertainRetries = 1

  public init(maxAge: Double = 5 * 86_400, uncertainRetries: Int = 1) {
    self.maxAge = maxAge
    self.uncertainRetries = uncertainRetries
  }

  /// Exponential backoff with "equal jitter": between half and all of `base * 2^(attempts - 1)`
  /// (capped), so that messages that failed together do not all come back together.
  public func delay(afterAttempts attempts: Int, random: Double) -> Double {
    let exponent = Double(max(0, min(attempts - 1, 20)))
    let full = min(base * pow(2, exponent), cap)
    return full / 2 + full / 2 * min(max(random, 0), 1)
  }
}

/// What one attempt did to each recipient of a claimed message, as the queue sees it.
public struct AttemptResult: Sendable {
  public var results: [String: (outcome: OutcomeClass, reply: String?)]
  /// Whether the channel was reached (a connection tried), as opposed to only waiting for a slot.
  public var reachedChannel: Bool
  /// The earliest moment a slot frees or a cooldown ends, when the throttle postponed recipients.
  public var retryAt: Double?

  public init(
    results: [String: (outcome: OutcomeClass, reply: String?)], reachedChannel: Bool, retryAt: Double? = nil
  ) {
    self.results = results
    self.reachedChannel = reachedChannel
    self.retryAt = retryAt
  }
}

/// Turns an attempt's results into the claimed message's next state (see `MessageState`):
/// accepted recipients are sent; refusals of the recipient, the message or the sender fail; an
/// uncertain outcome is retried `uncertainRetries` times and then stays uncertain; everything else
/// (4xx, throttles, quota, a channel that cannot be reached or logged into) waits for the next
/// attempt: backoff with jitter, or the throttle's own time. Past `max_age` waiting ends in failure.
public enum QueueOutcome {
  static let permanent: Set<OutcomeClass> = [.recipientPermanent, .messagePermanent, .senderRefused]
  /// Postponements by the throttle, retried when the slot frees rather than after a backoff.
  static let postponed: Set<OutcomeClass> = [.rateThrottle, .quotaExhausted]

  public static func completion(
    for message: QueuedMessage, result: AttemptResult, policy: RetryPolicy, now: Double, random: Double
  ) -> Completion {
    var recipients: [Completion.Recipient] = []
    var uncertainAdded = 0
    var needsBackoff = false
    var pending = false
    for address in message.pendingRecipients {
      guard let (outcome, reply) = result.results[address] else {
        pending = true
        continue
      }
      var state: RecipientState
      switch outcome {
      case .accepted: state = .sent
      case _ where permanent.contains(outcome): state = .failed
      case .uncertain:
        if message.uncertainRetries < policy.uncertainRetries {
          state = .pending
          uncertainAdded = 1
          needsBackoff = true
        } else {
          state = .uncertain
        }
      default:
        state = .pending
        if !postponed.contains(outcome) || result.retryAt == nil { needsBackoff = true }
      }
      if state == .pending { pending = true }
      recipients.append(Completion.Recipient(address: address, state: state, outcome: outcome, reply: reply))
    }
    let failures = recipients.filter { $0.outcome != .accepted }
    let worst = failures.max { $0.outcome.exitCode.severity < $1.outcome.exitCode.severity }
    var completion = Completion(
      id: message.id, state: .deferred, nextAttempt: now, attemptsMade: result.reachedChannel ? 1 : 0,
      uncertainRetriesAdded: uncertainAdded, recipients: recipients,
      lastError: worst.map { describe($0) }, lastClass: worst?.outcome, at: now)
    if pending {
      if now >= message.created + policy.maxAge { return expired(completion, message: message, policy: policy) }
      var next = result.retryAt ?? now
      if needsBackoff {
        next = max(next, now + policy.delay(afterAttempts: message.attempts + completion.attemptsMade, random: random))
      }
      completion.nextAttempt = next
      return completion
    }
    let states = Set(
      message.recipients.map { old in recipients.first { $0.address == old.address }?.state ?? old.state })
    completion.state = states.contains(.sent) ? .sent : states.contains(.uncertain) ? .uncertain : .failed
    return completion
  }

  /// Every recipient still waiting fails: the message is older than `max_age`.
  static func expired(_ completion: Completion, message: QueuedMessage, policy: RetryPolicy) -> Completion {
    var result = completion
    let reason =
      "not delivered within max_age \(DurationText.format(policy.maxAge))"
      + (completion.lastError ?? message.lastError).map { "; last error: \($0)" }.orEmpty
    result.recipients = result.recipients.map { recipient in
      guard recipient.state == .pending else { return recipient }
      var failed = recipient
      failed.state = .failed
      return failed
    }
    for address in message.pendingRecipients where !result.recipients.contains(where: { $0.address == address }) {
      result.recipients.append(
        Completion.Recipient(address: address, state: .failed, outcome: .transient, reply: nil))
    }
    result.state = result.recipients.contains { $0.state == .sent } ? .sent : .failed
    result.lastError = reason
    result.lastClass = result.lastClass ?? .transient
    result.expired = true
    return result
  }

  /// A failed recipient in one line: its class and the reply.
  static func describe(_ recipient: Completion.Recipient) -> String {
    "\(recipient.address): \(SendHints.describe(recipient.outcome))" + (recipient.reply.map { ": \($0)" }.orEmpty)
  }

  /// The exit code one completion stands for: sent is 0 (even when possibly duplicated); a waiting
  /// message is 75 unless a person must act (authentication 77, configuration 78 ...), quota
  /// included, since the message is kept (DESIGN.md section 5); a failure is its class's code; an
  /// expired message 69.
  public static func exitCode(_ completion: Completion) -> ExitCode {
    if completion.expired { return .unavailable }
    let codes = completion.recipients.filter { $0.state != .sent }.map { recipient -> ExitCode in
      if recipient.state == .uncertain { return .tempFail }
      if recipient.state == .pending && recipient.outcome == .quotaExhausted { return .tempFail }
      return recipient.outcome.exitCode
    }
    return ExitCode.worst(codes)
  }
}

extension Optional where Wrapped == String {
  /// The text, or nothing.
  var orEmpty: String { self ?? "" }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small, fast generator for jitter, where the system's
/// cryptographic one (a system call per number) buys nothing.
struct SplitMix64: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var value = state
    value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
    value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
    return value ^ (value >> 31)
  }
}
