import Foundation

/// What a run (flush, batch) is to deliver and how.
public struct RunOptions: Sendable {
  /// Only these channels (`flush --channel`); nil: every channel with due messages.
  public var channels: Set<String>?
  /// Only this campaign's messages (`batch`).
  public var campaign: String?
  /// No message is taken after this moment (`flush --max-time`); waits for a slot end by it.
  public var deadline: Double
  /// The longest single wait for a slot or a cooldown; a longer one defers the message.
  public var maxWait: Double
  /// Take waiting messages whatever their `next_attempt` (`flush --now`, a batch's own run).
  public var ignoreBackoff: Bool
  /// Sessions per channel (`--connections`), within the channel's `connections` limit.
  public var connections: Int
  /// Take a per-channel lock, so that concurrent flushes share the channels instead of
  /// interleaving on each (`flush`).
  public var lockChannels: Bool
  /// Messages claimed per transaction.
  public var claimSize: Int

  public init(
    channels: Set<String>? = nil, campaign: String? = nil, deadline: Double = .infinity,
    maxWait: Double = .infinity, ignoreBackoff: Bool = false, connections: Int = 1, lockChannels: Bool = false,
    claimSize: Int = 100
  ) {
    self.channels = channels
    self.campaign = campaign
    self.deadline = deadline
    self.maxWait = maxWait
    self.ignoreBackoff = ignoreBackoff
    self.connections = connections
    self.lockChannels = lockChannels
    self.claimSize = claimSize
  }
}

/// The tally of a run, shared by its worker threads (every access under a lock): counts by
/// outcome and reason, the worst exit code, lines to report, and what the run waits for.
public final class RunProgress: @unchecked Sendable {
  public struct Snapshot: Sendable, Equatable {
    public var total = 0
    public var sent = 0
    public var possiblyDuplicated = 0
    public var deferred = 0
    public var failed = 0
    public var uncertain = 0
    /// By outcome class (`expired` for max_age).
    public var deferredReasons: [String: Int] = [:]
    public var failedReasons: [String: Int] = [:]
    public var worst: ExitCode = .ok
    /// Lines for stderr: failures, expirations, channels that could not be used; with the exit
    /// code each stands for (a caller may keep temporary trouble, 75, to itself).
    public var reports: [(line: String, code: ExitCode)] = []
    /// A wait in progress: the channel and when it ends.
    public var waiting: (channel: String, until: Double)?
    public var started: Double = 0

    public var done: Int { sent + deferred + failed + uncertain }

    public static func == (lhs: Snapshot, rhs: Snapshot) -> Bool {
      lhs.total == rhs.total && lhs.sent == rhs.sent && lhs.deferred == rhs.deferred && lhs.failed == rhs.failed
        && lhs.uncertain == rhs.uncertain && lhs.worst == rhs.worst
        && lhs.reports.map(\.line) == rhs.reports.map(\.line)
    }
  }

  private let lock = NSLock()
  private var state = Snapshot()

  public init(started: Double) {
    state.started = started
  }

  public var snapshot: Snapshot { lock.withLock { state } }

  func addTotal(_ count: Int) { lock.withLock { state.total += count } }

  func waiting(_ wait: (channel: String, until: Double)?) { lock.withLock { state.waiting = wait } }

  /// Counts one message's completion and, for a failure, reports it.
  func record(_ completion: Completion, message: QueuedMessage) {
    let code = QueueOutcome.exitCode(completion)
    let reason = completion.expired ? "expired" : completion.lastClass?.rawValue ?? "unknown"
    lock.withLock {
      state.worst = ExitCode.worst([state.worst, code])
      state.waiting = nil
      switch completion.state {
      case .sent:
        state.sent += 1
        if message.uncertainRetries + completion.uncertainRetriesAdded > 0 { state.possiblyDuplicated += 1 }
      case .deferred:
        state.deferred += 1
        state.deferredReasons[reason, default: 0] += 1
      case .failed:
        state.failed += 1
        state.failedReasons[reason, default: 0] += 1
        state.reports.append((Self.describeFailure(completion, message: message), code))
      case .uncertain:
        state.uncertain += 1
        state.reports.append(
          (
            "message \(message.id) \(message.messageID): delivery uncertain (RFC 1047), not retried again: "
              + (completion.lastError ?? "connection lost after the final dot"), code
          ))
      default:
        break
      }
    }
  }

  /// A problem that concerns the run rather than one message (a channel that cannot be used).
  func report(_ line: String, code: ExitCode) {
    lock.withLock {
      state.worst = ExitCode.worst([state.worst, code])
      state.reports.append((line, code))
    }
  }

  static func describeFailure(_ completion: Completion, message: QueuedMessage) -> String {
    let failed = completion.recipients.filter { $0.state == .failed }.map(\.address)
    let who = failed.isEmpty ? "" : " to " + failed.joined(separator: ", ")
    let what = completion.expired ? "expired" : "failed"
    return "message \(message.id) \(message.messageID)\(who): \(what): \(completion.lastError ?? "refused")"
  }
}
