import Foundation

/// Delivers everything due (`flush`; a batch's own messages): first it takes back the leases of
/// dead processes and fails what is older than `max_age`, then it starts workers, one thread per
/// session: per channel `--connections` of them (never more than the channel's `connections`
/// limit), all channels at once, so that a slow, throttled channel does not hold up the others.
/// `tick` is called about five times a second while they work (progress lines).
public struct FlushRunner {
  public let configuration: Configuration
  public let options: RunOptions
  public let environment: [String: String]
  public let connector: SMTPConnector
  public let clock: ThrottleClock
  public var transcript: (@Sendable (TranscriptEvent) -> Void)?
  public var warn: @Sendable (String) -> Void = { _ in }

  public init(
    configuration: Configuration, options: RunOptions, environment: [String: String],
    connector: @escaping SMTPConnector = SMTPSubmission.socketConnector, clock: ThrottleClock = SystemThrottleClock()
  ) {
    self.configuration = configuration
    self.options = options
    self.environment = environment
    self.connector = connector
    self.clock = clock
  }

  /// Runs to the end; the returned progress holds the tally. Throws only when the queue cannot be
  /// opened or prepared (74).
  public func run(tick: (RunProgress) -> Void = { _ in }) throws -> RunProgress {
    let spool = configuration.spool(environment: environment)
    try spool.prepare()
    let ledger = try ThrottleLedger(path: configuration.ledgerPath(environment: environment))
    let queue = MessageQueue(ledger: ledger, clock: clock)
    let progress = RunProgress(started: clock.now())
    let policy = configuration.retryPolicy
    let reclaimed = try queue.reclaimAbandoned(spool: spool, policy: policy)
    for completion in reclaimed.completed where completion.recipients.contains(where: { $0.outcome == .uncertain }) {
      warn(
        "message \(completion.id): its process ended during delivery; "
          + (completion.state == .uncertain
            ? "delivery uncertain (RFC 1047)"
            : "it will be tried once more, "
              + "which may duplicate it (RFC 1047)"))
    }
    for (message, completion) in try queue.expire(policy: policy) { progress.record(completion, message: message) }
    try queue.collectSpoolGarbage(spool: spool, policy: policy)

    let runStart = clock.now()
    let due = try queue.dueChannels(
      dueBefore: options.ignoreBackoff ? .infinity : runStart, untouchedSince: runStart, campaign: options.campaign)
    var setups: [WorkerSetup] = []
    var locks: [ChannelLock] = []
    for (name, count) in due.sorted(by: { $0.key < $1.key }) where options.channels?.contains(name) ?? true {
      guard let channel = configuration.channel(named: name) else {
        progress.report(
          "channel \(name) is no longer configured: \(count) message(s) wait for it (msc-send queue list)",
          code: .config)
        continue
      }
      if options.lockChannels {
        guard let lock = ChannelLock(spool: spool, channel: name) else { continue }
        locks.append(lock)
      }
      progress.addTotal(count)
      let sessions = max(1, min(options.connections, channel.limits.connections ?? options.connections, count))
      for _ in 0..<sessions {
        // The index names the worker's journal: unique in the run, across channels.
        setups.append(
          WorkerSetup(
            configuration: configuration, channel: channel, index: setups.count, options: options, runStart: runStart,
            environment: environment, connector: connector, clock: clock, transcript: transcript, warn: warn))
      }
    }
    Self.runWorkers(setups, progress: progress, tick: tick)
    withExtendedLifetime(locks) {}
    return progress
  }

  /// One thread per worker (with a roomy stack); waits for all, ticking.
  static func runWorkers(_ setups: [WorkerSetup], progress: RunProgress, tick: (RunProgress) -> Void) {
    let group = DispatchGroup()
    for (number, setup) in setups.enumerated() {
      group.enter()
      let thread = Thread {
        FlushWorker(setup: setup, progress: progress).run()
        group.leave()
      }
      thread.name = "msc-send worker \(number)"
      thread.stackSize = 4 << 20
      thread.start()
    }
    while group.wait(timeout: .now() + .milliseconds(200)) == .timedOut { tick(progress) }
    tick(progress)
  }
}

/// An advisory lock per channel (`flock` on `spool/locks/CHANNEL.lock`) held by one flush at a
/// time, so that two flushes started together share out the channels instead of both working on
/// each. The leases, not this lock, are what keep a message from being sent twice; the lock goes
/// with the process, however it ends.
final class ChannelLock {
  private let descriptor: Int32

  /// nil when another process holds it.
  init?(spool: Spool, channel: String) {
    let folder = spool.directory + "/locks"
    mkdir(folder, 0o700)
    let safe = channel.unicodeScalars.map {
      $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-"
        ? String($0) : String(format: "_%02x", $0.value)
    }.joined()
    descriptor = open(folder + "/" + safe + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { return nil }
    guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
      close(descriptor)
      return nil
    }
  }

  deinit { close(descriptor) }
}
