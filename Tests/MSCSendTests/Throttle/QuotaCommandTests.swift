import Foundation
import Testing

@testable import MSCSend

/// `msc-send quota` in-process, over a ledger filled through the gate.
@Suite struct QuotaCommandTests {
  private func setUp() throws -> (config: String, ledger: String) {
    let directory = try TestEnvironment.makeScratchDirectory("quota")
    let ledger = directory.appendingPathComponent("state/ledger.sqlite3").path
    let config = directory.appendingPathComponent("config.toml").path
    let text = """
      [defaults]
      ledger = "\(ledger)"
      [channels.work]
      kind = "smtp"
      host = "h.test"
      identities = ["*@acme.test"]
      fallback = "out"
      limits = { messages = "2/1h", recipients = "10/1h", connections = 2 }
      [channels.out]
      kind = "file"
      """
    try Data(text.utf8).write(to: URL(fileURLWithPath: config))
    return (config, ledger)
  }

  private func run(_ arguments: [String]) -> (code: ExitCode, out: String, err: String) {
    let console = CapturingConsole()
    let code = CommandLineInterface.run(
      arguments: ["msc-send", "quota"] + arguments, environment: [:], console: console)
    return (code, console.stdout, console.stderr)
  }

  @Test func beforeAnySendEverythingIsFreeAndNoLedgerIsCreated() throws {
    let (config, ledger) = try setUp()
    let result = run(["--config", config])
    #expect(result.code == .ok, "\(result.err)")
    #expect(result.out.contains("(not created yet: nothing sent)"))
    #expect(result.out.contains("  messages / 1h       0/2           free now\n"), "\(result.out)")
    #expect(result.out.contains("  fallback            out (takes over when out of quota)"))
    #expect(result.out.contains("out  (file, profile none)\n  no counted limits"))
    #expect(!FileManager.default.fileExists(atPath: ledger))
  }

  @Test func showsUseCooldownAndLiftsItOnRequest() throws {
    let (config, ledger) = try setUp()
    let gate = ThrottleGate(ledger: try ThrottleLedger(path: ledger))
    let limits = ChannelLimits(messages: [window("2/1h")], recipients: [window("10/1h")], connections: 2)
    let sent = try #require(try gate.reserve(channel: "work", limits: limits, recipients: 3).grant)
    try gate.settle(
      sent, limits: limits, attempts: ["a", "b", "c"].map { .init(recipient: $0, outcome: .accepted, reply: nil) })
    let refused = try #require(try gate.reserve(channel: "work", limits: limits, recipients: 1).grant)
    let reply = "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException"
    try gate.settle(refused, limits: limits, attempts: [.init(recipient: "d", outcome: .quotaExhausted, reply: reply)])

    let human = run(["work", "--config", config])
    #expect(human.code == .ok, "\(human.err)")
    #expect(human.out.contains("  messages / 1h       1/2           free now; oldest leaves "), "\(human.out)")
    #expect(human.out.contains("  recipients / 1h     3/10          free now; oldest leaves "))
    #expect(human.out.contains("  connections         0/2           free now"))
    #expect(human.out.contains("  cooldown            out of quota until "))
    #expect(human.out.contains(reply))
    #expect(!human.out.contains("\nout  ("), "only the channel asked for")

    let json = run(["work", "--config", config, "--json"])
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
    let channel = try #require((object["channels"] as? [[String: Any]])?.first)
    let first = try #require((channel["limits"] as? [[String: Any]])?.first)
    #expect(first["kind"] as? String == "messages" && first["used"] as? Int == 1 && first["limit"] as? Int == 2)
    #expect(first["window"] as? String == "1h")
    let cooldown = try #require(channel["cooldown"] as? [String: Any])
    #expect(cooldown["reason"] as? String == "quota" && cooldown["reply"] as? String == reply)

    let cleared = run(["work", "--config", config, "--clear-cooldown"])
    #expect(cleared.code == .ok)
    #expect(cleared.out.contains("cooldown of work lifted"))
    #expect(!cleared.out.contains("out of quota until"))
    #expect(try gate.reserve(channel: "work", limits: limits, recipients: 1).grant != nil)
  }

  @Test func usageMistakesAreUsageErrors() throws {
    let (config, _) = try setUp()
    #expect(run(["wrok", "--config", config]).err.contains("did you mean work?"))
    #expect(run(["wrok", "--config", config]).code == .usage)
    #expect(run(["--clear-cooldown", "--config", config]).code == .usage)
    #expect(run(["a", "b", "--config", config]).code == .usage)
  }
}
