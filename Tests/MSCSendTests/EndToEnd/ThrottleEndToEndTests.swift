import Foundation
import Testing

@testable import MSCSend

/// The throttle across real processes: several `msc-send send` started at once against a loopback
/// server that logs when each message arrived, sharing one ledger; and the server replies that
/// pause a channel (quota) or slow it down (throttle).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ThrottleEndToEndTests {
  /// A config in its own folder (mode 0600), with a ledger next to it that every process shares.
  private func writeConfig(_ body: String, ledger: URL? = nil) throws -> (config: URL, ledger: URL) {
    let directory = try TestEnvironment.makeScratchDirectory("throttle")
    let ledgerFile = ledger ?? directory.appendingPathComponent("state/ledger.sqlite3")
    let file = directory.appendingPathComponent("config.toml")
    try Data("[defaults]\nledger = \"\(ledgerFile.path)\"\n\n\(body)".utf8).write(to: file)
    _ = chmod(file.path, 0o600)
    return (file, ledgerFile)
  }

  private func channel(_ name: String, _ server: ServerProcess, _ extra: String) -> String {
    """
    [channels.\(name)]
    kind = "smtp"
    host = "127.0.0.1"
    port = \(server.port)
    tls = "none"
    \(extra)

    """
  }

  private func send(_ from: String, to: [String], config: URL, _ more: [String] = []) async throws -> ProcessResult {
    try await runMscSend(
      args: ["send", "--from", from, "--subject", "throttle", "--body", "x"] + to.flatMap { ["--to", $0] } + more,
      env: ["MSC_SEND_CONFIG": config.path], timeout: .seconds(60))
  }

  /// Eight processes, five recipients each, two recipients per transaction: 24 transactions and
  /// 40 recipients against `10/3s` messages and `40/30s` recipients. The server's clock must never
  /// see more than 10 arrivals in 3 s or 40 recipients in 30 s, and everything must arrive.
  @Test func eightProcessesStartedTogetherShareTheWindows() async throws {
    let server = try ServerProcess.fault(.accept)
    defer { server.stop() }
    let (config, _) = try writeConfig(
      channel(
        "work", server,
        """
        identities = ["*@acme.test"]
        limits = { messages = "10/3s", recipients = "40/30s", recipients_per_message = 2, connections = 3 }
        """))
    let results = try await withThrowingTaskGroup(of: ProcessResult.self) { group in
      for process in 0..<8 {
        let recipients = (0..<5).map { "r\(process)-\($0)@example.test" }
        group.addTask { try await send("sender\(process)@acme.test", to: recipients, config: config) }
      }
      return try await group.reduce(into: []) { $0.append($1) }
    }
    for result in results { #expect(result.exit == 0, "\(result.transcript)") }

    let arrivals = server.arrivals().sorted { $0.time < $1.time }
    #expect(arrivals.count == 24)
    let expected = Set((0..<8).flatMap { process in (0..<5).map { "r\(process)-\($0)@example.test" } })
    #expect(Set(arrivals.flatMap(\.recipients)) == expected, "every recipient delivered")
    #expect(arrivals.flatMap(\.recipients).count == 40, "and none twice")
    #expect(arrivals.allSatisfy { $0.recipients.count <= 2 }, "recipients_per_message splits the envelope")
    for (index, first) in arrivals.enumerated() {
      let messages = arrivals[index...].prefix { $0.time < first.time + 3 }
      #expect(messages.count <= 10, "\(messages.count) messages in the 3 s from \(first.time)")
      let recipients = arrivals[index...].prefix { $0.time < first.time + 30 }.reduce(0) { $0 + $1.recipients.count }
      #expect(recipients <= 40)
    }
    if let first = arrivals.first, let last = arrivals.last {
      #expect(last.time - first.time >= 6, "24 messages at 10 per 3 s need two full windows")
    }

    // The recipients window is full now: a ninth process that may not wait says when, sends nothing.
    let ninth = try await send("late@acme.test", to: ["r9@example.test"], config: config, ["--no-wait"])
    #expect(ninth.exit == ExitCode.tempFail.rawValue, "\(ninth.transcript)")
    #expect(ninth.stderr.contains("no free slot (40/30s recipients (1 needed)); the next frees at"), "\(ninth.stderr)")
    #expect(server.arrivals().count == 24)
    let quota = try await runMscSend(args: ["quota", "work", "--config", config.path, "--json"])
    #expect(quota.exit == 0, "\(quota.transcript)")
    #expect(quota.stdout.contains(#""kind":"recipients","limit":40,"#), "\(quota.stdout)")
    #expect(quota.stdout.contains(#""used":40"#), "\(quota.stdout)")
  }

  /// Exchange Online's quota reply pauses the channel in the ledger: the next process does not even
  /// connect, and each message waits in the queue (exit 75: cron must not resend it). With
  /// `fallback`, the mail goes through the other channel instead.
  @Test func aQuotaReplyPausesTheChannelForEveryLaterProcess() async throws {
    let exchange = try ServerProcess.fault(.quota554)
    defer { exchange.stop() }
    let relay = try ServerProcess.fault(.accept)
    defer { relay.stop() }
    let work = channel("work", exchange, "identities = [\"alice@acme.test\"]\nprofile = \"exchange-online\"")
    let (config, ledger) = try writeConfig(work)

    let first = try await send("alice@acme.test", to: ["bob@example.test"], config: config)
    #expect(first.exit == ExitCode.tempFail.rawValue, "\(first.transcript)")
    #expect(first.stderr.contains("channel work is out of quota until"), "\(first.stderr)")
    #expect(first.stderr.contains("queued as message 1: `msc-send flush` sends it"), "\(first.stderr)")
    #expect(first.stderr.contains("554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException"))
    #expect(try await exchange.waitForAllConnectionsClosed())

    let second = try await send("alice@acme.test", to: ["carol@example.test"], config: config)
    #expect(second.exit == ExitCode.tempFail.rawValue, "\(second.transcript)")
    #expect(second.stderr.contains("SubmissionQuotaExceededException"), "the reason is kept: \(second.stderr)")
    #expect(exchange.logLines().filter { $0 == "S: connected" }.count == 1, "the second process did not connect")

    let quota = try await runMscSend(args: ["quota", "work", "--config", config.path])
    #expect(quota.stdout.contains("cooldown            out of quota until"), "\(quota.stdout)")

    let (withFallback, _) = try writeConfig(
      work + "fallback = \"relay\"\n\n" + channel("relay", relay, "identities = [\"*@relay.test\"]"), ledger: ledger)
    let route = try await runMscSend(args: ["route", "--from", "alice@acme.test", "--config", withFallback.path])
    #expect(route.stdout.contains("fallback:    relay (takes the mail when work is out of quota)"), "\(route.stdout)")
    let third = try await send("alice@acme.test", to: ["dave@example.test"], config: withFallback, ["--json"])
    #expect(third.exit == 0, "\(third.transcript)")
    #expect(third.stderr.contains("handing 1 recipient(s) to its fallback channel relay"), "\(third.stderr)")
    #expect(third.stdout.contains(#""fallback":"relay""#))
    #expect(relay.arrivals().map(\.recipients) == [["dave@example.test"]])
    #expect(exchange.logLines().filter { $0 == "S: connected" }.count == 1)
  }

  /// `421 4.7.0` is a throttle: back off and try again within `--max-wait`, or exit 75 when the
  /// backoff outlasts it; either way the pause holds for the next process too.
  @Test func a421ThrottleIsABackoffNotAFailure() async throws {
    let passing = try ServerProcess.fault(.throttleFirst)
    defer { passing.stop() }
    let (config, _) = try writeConfig(
      channel("work", passing, "identities = [\"*@acme.test\"]\nlimits = { backoff = \"1s\" }"))
    let retried = try await send("alice@acme.test", to: ["bob@example.test"], config: config)
    #expect(retried.exit == 0, "\(retried.transcript)")
    #expect(retried.elapsedSeconds >= 1, "it waited for the backoff")
    #expect(passing.logLines().filter { $0.hasPrefix("S: refused 421 4.7.0") }.count == 1)
    #expect(passing.arrivals().map(\.recipients) == [["bob@example.test"]])

    let refusing = try ServerProcess.fault(.throttleAlways)
    defer { refusing.stop() }
    let (busy, _) = try writeConfig(
      channel("busy", refusing, "identities = [\"*@acme.test\"]\nlimits = { backoff = \"1s\" }"))
    // Throttled at once and again after 1 s; the next backoff (2 s) ends beyond --max-wait 2.
    let gaveUp = try await send("alice@acme.test", to: ["bob@example.test"], config: busy, ["--max-wait", "2"])
    #expect(gaveUp.exit == ExitCode.tempFail.rawValue, "\(gaveUp.transcript)")
    #expect(gaveUp.stderr.contains("backing off after a throttle reply until"), "\(gaveUp.stderr)")
    #expect(gaveUp.stderr.contains("421 4.7.0 Try again later, closing connection."))
    #expect(refusing.logLines().filter { $0.hasPrefix("S: refused") }.count == 2)
    let next = try await send("alice@acme.test", to: ["carol@example.test"], config: busy, ["--no-wait"])
    #expect(next.exit == ExitCode.tempFail.rawValue, "\(next.transcript)")
    #expect(refusing.logLines().filter { $0 == "S: connected" }.count == 2, "the paused channel was not tried")
  }
}
