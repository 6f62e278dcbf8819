import Foundation
import Testing

@testable import MSCSend

/// Nothing lost and nothing sent twice, proven by the server's log: a batch of 500 rows is killed
/// with SIGKILL at random points (during reading, spooling and queueing, or delivery) five times,
/// then run again until it completes. Every row's recipient must have arrived, and any recipient
/// that arrived twice must belong to a message the queue reports as possibly duplicated: its
/// transaction was in flight when the process died (RFC 1047), the only case that may duplicate.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct QueueCrashEndToEndTests {
  static let rows = 500

  @Test func aBatchKilledAtRandomPointsDeliversEveryRowAndDuplicatesOnlyTheUncertain() async throws {
    let server = try ServerProcess.fault(.accept)
    defer { server.stop() }
    let directory = try TestEnvironment.makeScratchDirectory("crash")
    let config = directory.appendingPathComponent("config.toml")
    try Data(
      """
      [defaults]
      ledger = "\(directory.path)/state/ledger.sqlite3"
      [channels.work]
      kind = "smtp"
      host = "127.0.0.1"
      port = \(server.port)
      tls = "none"
      identities = ["*@acme.test"]
      """.utf8
    ).write(to: config)
    _ = chmod(config.path, 0o600)
    var csv = "key,name,email\n"
    for number in 0..<Self.rows { csv += "\(number),Person \(number),p\(number)@example.test\n" }
    let rows = directory.appendingPathComponent("rows.csv")
    try Data(csv.utf8).write(to: rows)
    let template = directory.appendingPathComponent("t.eml")
    try Data("From: Alice <alice@acme.test>\nTo: {{name}} <{{email}}>\nSubject: Row {{key}}\n\nHello.\n".utf8)
      .write(to: template)
    let arguments = ["batch", rows.path, "--template", template.path, "--campaign", "crash", "-q"]
    let environment = ["MSC_SEND_CONFIG": config.path]

    // Kill points over a whole run: two by time (start-up, reading and spooling), three by how
    // far delivery got (the server's own count), so that a busy machine cannot shift them all
    // past the end. Each is watched from a thread of its own, not the tests' task pool.
    var killed = 0
    var notes: [String] = []
    let seed = UInt64.random(in: 0...UInt64.max)
    var random = SplitMix64(seed: seed)
    let points: [KillableChild.Trigger] = [
      .after(Double.random(in: 0.01...0.08, using: &random)), .after(Double.random(in: 0.1...0.25, using: &random)),
      .arrivals(Int.random(in: 10...120, using: &random), server),
      .arrivals(Int.random(in: 150...280, using: &random), server),
      .arrivals(Int.random(in: 300...460, using: &random), server),
    ]
    notes.append("seed \(seed): \(points)")
    for point in points {
      let child = try KillableChild(arguments: arguments, environment: environment)
      if await child.kill(at: point) {
        killed += 1
      } else {
        notes.append("run ended before its kill (\(point)): exit \(child.process.terminationStatus) \(child.stderr)")
      }
      #expect(try await child.waitForExit(), "the killed process is gone")
    }
    #expect(killed >= 4, "the runs were killed before they finished: \(notes)")
    #expect(server.arrivals().count > 0, "some were killed in the middle of delivery")

    var finished: ProcessResult?
    for _ in 0..<4 {
      let run = try await runMscSend(args: arguments, env: environment, timeout: .seconds(60))
      finished = run
      if run.exit == 0 { break }
    }
    #expect(finished?.exit == 0, "\(finished?.transcript ?? "")")

    let counts = Dictionary(server.arrivals().flatMap(\.recipients).map { ($0, 1) }, uniquingKeysWith: +)
    let expected = (0..<Self.rows).map { "p\($0)@example.test" }
    #expect(expected.allSatisfy { counts[$0] != nil }, "every row arrived: \(expected.filter { counts[$0] == nil })")
    let listed = try await runMscSend(
      args: ["queue", "list", "--all", "--campaign", "crash", "--json"], env: environment)
    let object = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any]
    let messages = try #require(object?["messages"] as? [[String: Any]])
    #expect(messages.count == Self.rows)
    #expect(messages.allSatisfy { $0["state"] as? String == "sent" })
    let flagged = Set(
      messages.filter { $0["possibly_duplicated"] as? Bool == true }.flatMap { message in
        (message["recipients"] as? [[String: Any]] ?? []).compactMap { $0["address"] as? String }
      })
    let duplicated = Set(counts.filter { $0.value > 1 }.map(\.key))
    #expect(
      duplicated.isSubset(of: flagged),
      "duplicates not reported as uncertain: \(duplicated.subtracting(flagged)) \(notes)")
    #expect(flagged.count <= killed, "at most the transaction in flight of each killed process is uncertain")
  }
}

/// `msc-send` started without waiting for it, so that it can be killed (by its own pid).
private final class KillableChild {
  let process = Process()
  private let home: URL

  init(arguments: [String], environment: [String: String]) throws {
    home = try TestEnvironment.makeScratchDirectory("killable")
    let inherited = ProcessInfo.processInfo.environment
    var variables = [
      "PATH": inherited["PATH"] ?? "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": home.path,
      "XDG_STATE_HOME": home.appendingPathComponent("state").path, "TMPDIR": home.path,
    ]
    variables.merge(environment) { _, given in given }
    process.executableURL = try mscSendBinary()
    process.arguments = arguments
    process.environment = variables
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    let errors = home.appendingPathComponent("stderr")
    try Data().write(to: errors)
    process.standardError = try FileHandle(forWritingTo: errors)
    try launchWithCleanSignalMask(process)
  }

  /// What it printed on stderr, for failure messages.
  var stderr: String {
    (try? String(contentsOf: home.appendingPathComponent("stderr"), encoding: .utf8)) ?? ""
  }

  deinit { try? FileManager.default.removeItem(at: home) }

  enum Trigger: CustomStringConvertible, @unchecked Sendable {
    /// Seconds after the start.
    case after(Double)
    /// Once the server has logged this many arrivals in all.
    case arrivals(Int, ServerProcess)

    var description: String {
      switch self {
      case .after(let seconds): "after \(seconds) s"
      case .arrivals(let count, _): "at \(count) arrivals"
      }
    }
  }

  /// SIGKILL when `trigger` fires (watched on a thread of its own, every 2 ms, for at most 20 s);
  /// false when the process had finished first.
  func kill(at trigger: Trigger) async -> Bool {
    let process = self.process
    return await withCheckedContinuation { continuation in
      Thread {
        let start = Date()
        while process.isRunning && Date().timeIntervalSince(start) < 20 {
          let fired: Bool
          switch trigger {
          case .after(let seconds): fired = Date().timeIntervalSince(start) >= seconds
          case .arrivals(let count, let server): fired = server.arrivals().count >= count
          }
          if fired { break }
          usleep(2_000)
        }
        guard process.isRunning else { return continuation.resume(returning: false) }
        signalChild(process, SIGKILL)
        continuation.resume(returning: true)
      }.start()
    }
  }

  func waitForExit() async throws -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .seconds(10))
    while process.isRunning, clock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
    return !process.isRunning
  }
}
