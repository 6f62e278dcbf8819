import Foundation
import Testing

@testable import MSCSend

/// The durable queue with the built binary and real loopback servers: a server down during `send`
/// (exit 75, queued, delivered by `flush`), concurrent flushes and a batch re-run racing for the
/// same messages (nobody delivers one twice), an uncertain delivery (RFC 1047) retried once and
/// reported, sessions renewed after `messages_per_connection`, and the delivery log.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct QueueEndToEndTests {
  /// A config in its own folder pointing channel `work` at `port`; rewritten in place by `point`.
  struct Setup {
    let directory: URL
    var config: URL { directory.appendingPathComponent("config.toml") }
    var logFile: URL { directory.appendingPathComponent("delivery.log") }

    init(port: Int, limits: String = "") throws {
      directory = try TestEnvironment.makeScratchDirectory("queue-e2e")
      try point(at: port, limits: limits)
    }

    func point(at port: Int, limits: String = "") throws {
      let text = """
        [defaults]
        ledger = "\(directory.path)/state/ledger.sqlite3"
        log = "\(logFile.path)"

        [channels.work]
        kind = "smtp"
        host = "127.0.0.1"
        port = \(port)
        tls = "none"
        identities = ["*@acme.test"]
        \(limits)
        """
      try Data(text.utf8).write(to: config)
      _ = chmod(config.path, 0o600)
    }

    func run(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> ProcessResult {
      try await runMscSend(args: arguments, env: ["MSC_SEND_CONFIG": config.path], timeout: timeout)
    }

    func send(_ recipient: String, _ more: [String] = []) async throws -> ProcessResult {
      try await run(["send", "--from", "alice@acme.test", "--to", recipient, "--subject", "q", "--body", "x"] + more)
    }

    func messages(_ extra: [String] = []) async throws -> [[String: Any]] {
      let listed = try await run(["queue", "list", "--all", "--json"] + extra)
      let object = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any]
      return try #require(object?["messages"] as? [[String: Any]], "\(listed.transcript)")
    }

    /// `count` rows and a template, as files in the setup's folder.
    func batchFiles(count: Int) throws -> (rows: String, template: String) {
      let rows = directory.appendingPathComponent("people.csv")
      var text = "key,name,email\n"
      for number in 0..<count { text += "\(number),Person \(number),p\(number)@example.test\n" }
      try Data(text.utf8).write(to: rows)
      let template = directory.appendingPathComponent("invite.eml")
      try Data("From: Alice <alice@acme.test>\nTo: {{name}} <{{email}}>\nSubject: For {{name}}\n\nHello.\n".utf8)
        .write(to: template)
      return (rows.path, template.path)
    }
  }

  /// A port nobody listens on: a server's, once stopped.
  private func closedPort() throws -> Int {
    let server = try ServerProcess.fault(.accept)
    server.stop()
    return server.port
  }

  @Test func aMessageSentWhileTheServerIsDownIsQueuedAndFlushedLater() async throws {
    let setup = try Setup(port: try closedPort())
    let down = try await setup.send("bob@example.test")
    #expect(down.exit == ExitCode.tempFail.rawValue, "\(down.transcript)")
    #expect(down.stderr.contains("queued as message 1: `msc-send flush` retries it"), "\(down.stderr)")
    let waiting = try await setup.messages()
    #expect(waiting.map { $0["state"] as? String } == ["deferred"])
    #expect((waiting.first?["last_error"] as? String)?.contains("cannot connect") == true)

    let server = try ServerProcess.fault(.accept)
    defer { server.stop() }
    try setup.point(at: server.port)
    let early = try await setup.run(["flush"])
    #expect(early.exit == 0, "\(early.transcript)")
    #expect(early.stdout.isEmpty && early.stderr.isEmpty, "quiet: nothing was due yet")
    #expect(server.arrivals().isEmpty, "the backoff holds")
    let flushed = try await setup.run(["flush", "--now"])
    #expect(flushed.exit == 0, "\(flushed.transcript)")
    #expect(server.arrivals().map(\.recipients) == [["bob@example.test"]])
    #expect(try await setup.messages().map { $0["state"] as? String } == ["sent"])

    let log = try String(contentsOf: setup.logFile, encoding: .utf8).split(separator: "\n")
    #expect(log.count == 2, "one line per recipient per attempt: \(log)")
    #expect(log.first?.contains("channel=work") == true)
    #expect(
      log.first?.contains("recipient=bob@example.test outcome=transient reply='cannot connect to 127.0.0.1") == true)
    #expect(log.last?.contains("outcome=accepted reply='250 2.0.0 queued as 1'") == true, "\(log)")
  }

  @Test func concurrentFlushesAndABatchReRunNeverDeliverAMessageTwice() async throws {
    let setup = try Setup(port: try closedPort())
    let (rows, template) = try setup.batchFiles(count: 150)
    let queued = try await setup.run(["batch", rows, "--template", template, "--campaign", "race", "-q"])
    #expect(queued.exit == ExitCode.tempFail.rawValue, "\(queued.transcript)")
    #expect(try await setup.messages().count == 150)

    let server = try ServerProcess.fault(.accept)
    defer { server.stop() }
    try setup.point(at: server.port)
    let results = try await withThrowingTaskGroup(of: ProcessResult.self) { group in
      group.addTask { try await setup.run(["flush", "--now"]) }
      group.addTask { try await setup.run(["flush", "--now", "--connections", "2"]) }
      group.addTask { try await setup.run(["batch", rows, "--template", template, "--campaign", "race", "-q"]) }
      group.addTask { try await setup.run(["batch", rows, "--template", template, "--campaign", "race", "-q"]) }
      return try await group.reduce(into: []) { $0.append($1) }
    }
    for result in results { #expect(result.exit == 0, "\(result.transcript)") }
    let delivered = server.arrivals().flatMap(\.recipients)
    #expect(delivered.count == 150, "each message exactly once")
    #expect(Set(delivered) == Set((0..<150).map { "p\($0)@example.test" }))
    #expect(try await setup.messages().allSatisfy { $0["state"] as? String == "sent" })
  }

  @Test func anUncertainDeliveryIsRetriedOnceAndReportedAsPossiblyDuplicated() async throws {
    let dropper = try ServerProcess.fault(.closeAfterDot)
    defer { dropper.stop() }
    let setup = try Setup(port: dropper.port, limits: "timeout = 5")
    let lost = try await setup.send("bob@example.test")
    #expect(lost.exit == ExitCode.tempFail.rawValue, "\(lost.transcript)")
    #expect(lost.stderr.contains("delivery uncertain: the connection was lost after the message was sent"))
    #expect(lost.stderr.contains("the retry may deliver it twice"), "\(lost.stderr)")
    let waiting = try #require(try await setup.messages().first)
    #expect(waiting["state"] as? String == "deferred")
    #expect(waiting["uncertain_retries"] as? Int == 1)

    let server = try ServerProcess.fault(.accept)
    defer { server.stop() }
    try setup.point(at: server.port, limits: "timeout = 5")
    let retried = try await setup.run(["flush", "--now", "-v"])
    #expect(retried.exit == 0, "\(retried.transcript)")
    #expect(retried.stderr.contains("1 sent, 1 of them possibly duplicated"), "\(retried.stderr)")
    let sent = try #require(try await setup.messages().first)
    #expect(sent["state"] as? String == "sent")
    #expect(sent["possibly_duplicated"] as? Bool == true)
    let shown = try await setup.run(["queue", "show", "1"])
    #expect(shown.stdout.contains("state:        sent (possibly duplicated)"), "\(shown.stdout)")
  }

  @Test func aSessionCarriesManyMessagesAndIsRenewedAfterItsShare() async throws {
    let server = try ServerProcess.fault(.accept)
    defer { server.stop() }
    let setup = try Setup(port: server.port, limits: "limits = { messages_per_connection = 2 }")
    let (rows, template) = try setup.batchFiles(count: 5)
    let sent = try await setup.run(["batch", rows, "--template", template, "--json"])
    #expect(sent.exit == 0, "\(sent.transcript)")
    #expect(sent.stdout.contains(#""sent":5"#))
    #expect(server.arrivals().count == 5)
    #expect(try await server.waitForAllConnectionsClosed())
    #expect(server.logLines().filter { $0 == "S: connected" }.count == 3, "2 + 2 + 1 messages")
    #expect(server.clientLines().filter { $0 == "QUIT" }.count == 3, "each session ends politely")
  }
}
