import Foundation
import Testing

@testable import MSCSend

/// The SQLite ledger on real temporary files: schema and migrations, WAL, privacy, concurrent
/// reservations from several connections, and the release of dead processes' reservations.
@Suite struct LedgerTests {
  @Test func aNewLedgerIsPrivateInWALModeAtTheLatestSchema() throws {
    let path = try TestEnvironment.makeScratchDirectory("ledger").appendingPathComponent("state/ledger.sqlite3").path
    let ledger = try ThrottleLedger(path: path)
    #expect(try ledger.schemaVersion == LedgerSchema.latestVersion)
    #expect(try ledger.journalMode == "wal")
    let tables = try ledger.database.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    #expect(
      tables.compactMap { $0.first?.text }
        == ["cooldowns", "message_recipients", "messages", "outcomes", "reservations"])
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    #expect((attributes[.posixPermissions] as? Int) == 0o600)
    let folder = try FileManager.default.attributesOfItem(atPath: (path as NSString).deletingLastPathComponent)
    #expect((folder[.posixPermissions] as? Int) == 0o700, "a folder it creates is the user's alone")
  }

  @Test func migrationsRunOnceEachInOrderAndKeepTheData() throws {
    let path = try temporaryLedgerPath()
    let first = "CREATE TABLE a (x INTEGER);"
    do {
      let ledger = try ThrottleLedger(path: path, migrations: [first])
      #expect(try ledger.schemaVersion == 1)
      try ledger.database.query("INSERT INTO a (x) VALUES (?)", [.integer(7)])
    }
    let upgraded = try ThrottleLedger(path: path, migrations: [first, "ALTER TABLE a ADD COLUMN y TEXT;"])
    #expect(try upgraded.schemaVersion == 2)
    #expect(try upgraded.database.query("SELECT x, y FROM a") == [[.integer(7), .null]])
    // Opening again runs nothing twice (a second ALTER would fail on the existing column).
    #expect(try ThrottleLedger(path: path, migrations: [first, "ALTER TABLE a ADD COLUMN y TEXT;"]).schemaVersion == 2)
  }

  @Test func aLedgerFromANewerVersionIsRefusedNotDamaged() throws {
    let path = try temporaryLedgerPath()
    _ = try ThrottleLedger(path: path, migrations: ["CREATE TABLE a (x);", "CREATE TABLE b (y);"])
    #expect {
      _ = try ThrottleLedger(path: path, migrations: ["CREATE TABLE a (x);"])
    } throws: { error in
      (error as? LedgerError)?.message.contains("newer msc-send (schema version 2; this one knows up to 1)") ?? false
    }
  }

  @Test func anUnusablePathIsALedgerErrorNamingIt() {
    #expect(throws: LedgerError.self) { _ = try ThrottleLedger(path: "relative/ledger.sqlite3") }
    #expect {
      _ = try ThrottleLedger(path: "/proc/msc-send-cannot-exist/ledger.sqlite3")
    } throws: { error in
      (error as? LedgerError)?.description.hasPrefix("ledger /proc/msc-send-cannot-exist/ledger.sqlite3: ") ?? false
    }
  }

  /// Eight threads, each with its own connection (as eight processes would have), race for a
  /// window of 10: exactly 10 reservations are granted, never more.
  @Test func concurrentReservationsFromSeveralConnectionsNeverExceedALimit() throws {
    let path = try temporaryLedgerPath()
    _ = try ThrottleLedger(path: path)
    let limits = ChannelLimits(messages: [window("10/1h")], recipients: [window("25/1h")])
    let granted = LockedCounter()
    let failures = LockedCounter()
    DispatchQueue.concurrentPerform(iterations: 8) { worker in
      do {
        let gate = ThrottleGate(
          ledger: try ThrottleLedger(path: path), process: ProcessIdentity(pid: Int32(90_000 + worker), startTime: 1),
          isAlive: { _ in true })
        for _ in 0..<5 {
          if case .granted = try gate.reserve(channel: "shared", limits: limits, recipients: 2) { granted.add() }
        }
      } catch {
        failures.add()
      }
    }
    #expect(failures.value == 0)
    #expect(granted.value == 10)
    let rows = try ThrottleLedger(path: path).database.query(
      "SELECT kind, sum(count) FROM reservations WHERE state = 'reserved' GROUP BY kind ORDER BY kind")
    #expect(rows == [[.text("message"), .integer(10)], [.text("recipients"), .integer(20)]])
  }

  @Test func aDeadProcessLosesItsReservations() throws {
    let path = try temporaryLedgerPath()
    let clock = ManualClock()
    let limits = ChannelLimits(messages: [window("1/1h")], connections: 1)
    let dead = ProcessIdentity(pid: 1111, startTime: 1)
    let first = try makeGate(clock: clock, path: path, process: dead)
    #expect(try first.reserve(channel: "c", limits: limits, recipients: 1).grant != nil)
    // While it lives, its slot and its connection are taken.
    let other = try makeGate(clock: clock, path: path, alive: { _ in true })
    #expect(try other.reserve(channel: "c", limits: limits, recipients: 1).waitUntil != nil)
    // Once it is gone (pid missing, or reused by a process that started at another time), they are free.
    let survivor = try makeGate(clock: clock, path: path, alive: { $0 != dead })
    #expect(try survivor.reserve(channel: "c", limits: limits, recipients: 1).grant != nil)
  }

  @Test func aReservationOpenForHoursIsReleasedEvenIfItsProcessLives() throws {
    let path = try temporaryLedgerPath()
    let clock = ManualClock()
    let limits = ChannelLimits(connections: 1)
    let hung = try makeGate(clock: clock, path: path, process: ProcessIdentity(pid: 2222, startTime: 2))
    #expect(try hung.reserve(channel: "c", limits: limits, recipients: 1).grant != nil)
    let other = try makeGate(clock: clock, path: path)
    #expect(try other.reserve(channel: "c", limits: limits, recipients: 1).grant == nil)
    clock.advance(ThrottleGate.staleAfter + 1)
    #expect(try other.reserve(channel: "c", limits: limits, recipients: 1).grant != nil)
  }

  @Test func processLivenessUsesThePidAndItsStartTime() throws {
    let me = ProcessIdentity.current
    #expect(me.startTime > 0, "/proc gives a start time on Linux")
    #expect(ProcessIdentity.isAlive(me))
    #expect(!ProcessIdentity.isAlive(ProcessIdentity(pid: me.pid, startTime: me.startTime + 1)), "a reused pid")
    let child = Process()
    child.executableURL = URL(fileURLWithPath: "/bin/true")
    try child.run()
    child.waitUntilExit()
    #expect(!ProcessIdentity.isAlive(ProcessIdentity(pid: child.processIdentifier, startTime: 1)))
  }

  @Test func outcomesAreKeptPerRecipient() throws {
    let clock = ManualClock()
    let gate = try makeGate(clock: clock)
    let grant = try #require(try gate.reserve(channel: "c", limits: .none, recipients: 2).grant)
    try gate.settle(
      grant, limits: .none,
      attempts: [
        .init(recipient: "a@x.test", outcome: .accepted, reply: "250 2.0.0 ok"),
        .init(recipient: "b@x.test", outcome: .recipientPermanent, reply: "550 5.1.1 no such user"),
      ], messageID: "<m@x.test>")
    let outcomes = try gate.ledger.transaction { (transaction) throws(LedgerError) in
      try transaction.outcomes(messageID: "<m@x.test>")
    }
    #expect(outcomes.map(\.recipient) == ["a@x.test", "b@x.test"])
    #expect(outcomes.map(\.outcome) == [.accepted, .recipientPermanent])
    #expect(outcomes[1].reply == "550 5.1.1 no such user")
    #expect(outcomes.allSatisfy { $0.channel == "c" && $0.at == clock.now() })
  }
}

final class LockedCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var count = 0
  func add() { lock.withLock { count += 1 } }
  var value: Int { lock.withLock { count } }
}
