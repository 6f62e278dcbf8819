import Foundation
import Testing

@testable import MSCSend

/// `send --queue`, `flush`, `queue` and `batch` in-process, through a `file` channel (no server):
/// the queue's life from the command line, its JSON, and its errors.
@Suite struct QueueCommandTests {
  struct Setup {
    let directory: URL
    let config: String
    var outbox: URL { directory.appendingPathComponent("outbox") }
    var environment: [String: String] { ["HOME": directory.path, "MSC_SEND_CONFIG": config] }

    func run(_ arguments: [String], stdin: String = "") -> (code: ExitCode, out: String, err: String) {
      let console = CapturingConsole()
      let context = CLIContext(
        environment: environment, console: console, readStandardInput: { Array(stdin.utf8) },
        standardInputIsTerminal: false)
      let code = CommandLineInterface.run(arguments: ["msc-send"] + arguments, context: context)
      return (code, console.stdout, console.stderr)
    }

    func write(_ name: String, _ text: String) throws -> String {
      let url = directory.appendingPathComponent(name)
      try Data(text.utf8).write(to: url)
      return url.path
    }

    var outboxFiles: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: outbox.path)) ?? []).sorted() }

    func json(_ text: String) throws -> [String: Any] {
      try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }
  }

  private func setUp(extra: String = "") throws -> Setup {
    let directory = try TestEnvironment.makeScratchDirectory("queue-cli")
    let config = directory.appendingPathComponent("config.toml").path
    let text = """
      [defaults]
      from = "news@acme.test"
      ledger = "\(directory.path)/state/ledger.sqlite3"
      \(extra)
      [channels.out]
      kind = "file"
      identities = ["*@acme.test"]
      path = "\(directory.path)/outbox"
      """
    try Data(text.utf8).write(to: URL(fileURLWithPath: config))
    return Setup(directory: directory, config: config)
  }

  private static let template =
    "From: News <news@acme.test>\nTo: {{name}} <{{email}}>\nSubject: Hi {{name}}\n\nDear {{name}}.\n"

  @Test func sendQueueOnlyQueuesAndFlushDelivers() throws {
    let setup = try setUp(extra: "log = \"\(FileManager.default.temporaryDirectory.path)/\(UUID().uuidString).log\"")
    let queued = setup.run(["send", "--to", "bob@example.test", "--subject", "s", "--body", "b", "--queue", "--json"])
    #expect(queued.code == .ok, "\(queued.err)")
    let object = try setup.json(queued.out)
    #expect((object["queue"] as? [String: Any])?["state"] as? String == "queued")
    #expect(setup.outboxFiles.isEmpty, "nothing delivered yet")
    let listed = setup.run(["queue", "list", "--json"])
    let messages = try #require(try setup.json(listed.out)["messages"] as? [[String: Any]])
    #expect(messages.map { $0["state"] as? String } == ["queued"])

    let flushed = setup.run(["flush"])
    #expect(flushed.code == .ok)
    #expect(flushed.out.isEmpty && flushed.err.isEmpty, "quiet on success: \(flushed.err)")
    #expect(setup.outboxFiles.count == 1)
    #expect(setup.run(["queue"]).out == "the queue is empty\n")
    let shown = setup.run(["queue", "show", "1"])
    #expect(shown.out.contains("state:        sent"), "\(shown.out)")
    #expect(shown.out.contains("  bob@example.test  sent (accepted)"), "\(shown.out)")
    #expect(setup.run(["flush", "--json"]).out.contains(#""sent":0"#), "nothing due the second time")
  }

  @Test func aBatchSendsEachRowOnceAcrossRuns() throws {
    let setup = try setUp()
    let template = try setup.write("invite.eml", Self.template)
    let rows = try setup.write("people.csv", "key,name,email\n1,Ann,ann@x.test\n2,Bo,bo@x.test\n3,Cy,cy@x.test\n")
    let first = setup.run(["batch", rows, "--template", template, "--campaign", "spring", "--json"])
    #expect(first.code == .ok, "\(first.err)")
    let summary = try setup.json(first.out)
    #expect(summary["sent"] as? Int == 3)
    #expect(summary["queued"] as? Int == 3)
    #expect(setup.outboxFiles.count == 3)
    #expect(first.err.contains("batch spring: 3 sent, 0 deferred, 0 failed"), "\(first.err)")

    let again = setup.run(["batch", rows, "--template", template, "--campaign", "spring", "--json"])
    #expect(again.code == .ok)
    #expect(try setup.json(again.out)["already_queued"] as? Int == 3)
    #expect(setup.outboxFiles.count == 3, "a re-run sends only what was not sent")

    let listed = try setup.json(setup.run(["queue", "list", "--all", "--campaign", "spring", "--json"]).out)
    let messages = try #require(listed["messages"] as? [[String: Any]])
    #expect(messages.count == 3)
    #expect(messages.allSatisfy { $0["template"] as? String == "invite.eml" && $0["state"] as? String == "sent" })
    #expect(Set(messages.compactMap { $0["idempotency_key"] as? String }) == ["spring:1", "spring:2", "spring:3"])
  }

  @Test func everyBadRowIsReportedAndNothingIsSent() throws {
    let setup = try setUp()
    let template = try setup.write("t.eml", Self.template)
    let rows = try setup.write("people.csv", "key,name,email\n1,Ann,ann@x.test\n2,Bo,bad@\n3,Cy\n4,Di,di@x.test\n")
    let refused = setup.run(["batch", rows, "--template", template])
    #expect(refused.code == .dataError)
    #expect(refused.err.contains("people.csv: row 2 (line 3): header To: invalid address"), "\(refused.err)")
    #expect(refused.err.contains("people.csv: row 3 (line 4): has 2 fields, the header row has 3"))
    #expect(refused.err.contains("2 of 4 rows are invalid; nothing was sent"))
    #expect(setup.outboxFiles.isEmpty)
    #expect(setup.run(["queue", "--all"]).out == "the queue is empty\n")

    let planned = setup.run(["batch", rows, "--template", template, "--dry-run", "--skip-invalid"])
    #expect(planned.code == .ok)
    #expect(planned.err.contains("would queue 2 message(s) for channel out"), "\(planned.err)")
    #expect(setup.outboxFiles.isEmpty)

    let skipped = setup.run(["batch", rows, "--template", template, "--skip-invalid"])
    #expect(skipped.code == .ok)
    #expect(skipped.err.contains("2 invalid row(s) left out"), "\(skipped.err)")
    #expect(setup.outboxFiles.count == 2)
  }

  @Test func jsonLinesRowsAndTheDefaultCampaign() throws {
    let setup = try setUp()
    let template = try setup.write("t.eml", Self.template)
    let rows = try setup.write("spring-news.jsonl", #"{"name":"Ann","email":"ann@x.test"}"# + "\n")
    let sent = setup.run(["batch", rows, "--template", template, "--json"])
    #expect(sent.code == .ok, "\(sent.err)")
    #expect(try setup.json(sent.out)["campaign"] as? String == "spring-news")
    #expect(setup.outboxFiles.count == 1)
  }

  @Test func sendmailModeQueuesFirstToo() throws {
    let setup = try setUp()
    let sent = setup.run(["-t"], stdin: "From: cron@acme.test\nTo: ops@example.test\nSubject: job\n\ndone\n")
    #expect(sent.code == .ok, "\(sent.err)")
    #expect(setup.outboxFiles.count == 1)
    let listed = try setup.json(setup.run(["queue", "list", "--all", "--json"]).out)
    let messages = try #require(listed["messages"] as? [[String: Any]])
    #expect(messages.map { $0["state"] as? String } == ["sent"])
    #expect(messages.first?["sender"] as? String == "cron@acme.test")
  }

  @Test func handChangesAndTheirRefusals() throws {
    let setup = try setUp()
    _ = setup.run(["send", "--to", "bob@example.test", "--body", "b", "--queue"])
    #expect(setup.run(["queue", "drop", "1"]).code == .ok)
    #expect(setup.run(["queue", "--all"]).out.contains("dropped"))
    let again = setup.run(["queue", "retry", "1"])
    #expect(again.code == .unavailable)
    #expect(again.err.contains("message 1 was dropped"))
    #expect(setup.run(["queue", "show", "42"]).code == .dataError)
    #expect(setup.run(["queue", "frob"]).code == .usage)
    #expect(setup.run(["queue", "retry"]).code == .usage)
    #expect(setup.run(["flush", "--max-time", "forever"]).code == .usage)
    #expect(setup.run(["send", "--to", "b@x.test", "--body", "b", "--queue", "--server", "h:25"]).code == .usage)
  }
}
