import Foundation

@testable import MSCSend

/// A clock that only moves when told to, or when someone sleeps on it (then by exactly the sleep).
final class ManualClock: ThrottleClock, @unchecked Sendable {
  private let lock = NSLock()
  private var current: Double
  private var slept: [Double] = []

  init(_ start: Double = 1_000_000) { current = start }

  func now() -> Double { lock.withLock { current } }

  func sleep(seconds: Double) {
    lock.withLock {
      slept.append(seconds)
      current += max(0, seconds)
    }
  }

  func advance(_ seconds: Double) { lock.withLock { current += seconds } }

  var totalSlept: Double { lock.withLock { slept.reduce(0, +) } }
}

/// A fresh ledger in its own scratch folder.
func temporaryLedgerPath() throws -> String {
  try TestEnvironment.makeScratchDirectory("ledger").appendingPathComponent("ledger.sqlite3").path
}

/// A gate on a fresh ledger with a manual clock; `alive` decides which other processes live.
func makeGate(
  clock: ManualClock, path: String? = nil, process: ProcessIdentity = ProcessIdentity(pid: 4242, startTime: 7),
  alive: @escaping @Sendable (ProcessIdentity) -> Bool = { _ in true }
) throws -> ThrottleGate {
  let ledger = try ThrottleLedger(path: path ?? temporaryLedgerPath())
  return ThrottleGate(ledger: ledger, clock: clock, process: process, isAlive: alive)
}

func window(_ text: String) -> RateWindow {
  guard let parsed = RateWindow(text) else { fatalError("bad test window \(text)") }
  return parsed
}

/// A used or reserved ledger row, for planner tests.
func entry(
  _ kind: LedgerEntryKind, at: Double, count: Int = 1, state: LedgerEntryState = .used, batchStart: Double? = nil
) -> LedgerEntry {
  LedgerEntry(
    grant: 1, channel: "c", kind: kind, count: count, at: at, batchStart: batchStart,
    process: ProcessIdentity(pid: 1, startTime: 1), state: state)
}

extension ThrottleGate.Reservation {
  var grant: ThrottleGate.Grant? { if case .granted(let grant) = self { grant } else { nil } }
  var waitUntil: Double? { if case .wait(let until, _, _) = self { until } else { nil } }
  var ticket: Int64? { if case .wait(_, _, let ticket) = self { ticket } else { nil } }
  var cooldown: CooldownRecord? { if case .cooldown(let record) = self { record } else { nil } }
}
