import Foundation
import Testing

@testable import MSCSend

/// `msc-send check` in-process where no server is needed: argument mistakes, a file channel, the
/// kinds' rules, the ledger's view, the sender domains chosen, and how verdicts make exit codes.
@Suite struct CheckCommandTests {
  private func run(_ arguments: [String], environment: [String: String] = [:]) -> (
    code: ExitCode, out: String, err: String
  ) {
    let console = CapturingConsole()
    let code = CommandLineInterface.run(
      arguments: ["msc-send", "check"] + arguments, environment: environment, console: console)
    return (code, console.stdout, console.stderr)
  }

  /// Scratch folders of this suite, removed when each test ends (`defer { cleanUp() }`).
  private final class Scratch {
    var directories: [URL] = []
    func make(_ label: String) throws -> URL {
      let directory = try TestEnvironment.makeScratchDirectory(label)
      directories.append(directory)
      return directory
    }
    deinit { for directory in directories { try? FileManager.default.removeItem(at: directory) } }
  }

  private let scratch = Scratch()

  private func config(_ text: String) throws -> String {
    let file = try scratch.make("check-config").appendingPathComponent("config.toml")
    try Data(text.utf8).write(to: file)
    return file.path
  }

  @Test func argumentMistakesAreUsageErrors() throws {
    let path = try config("[channels.out]\nkind = \"file\"\npath = \"/tmp\"\n")
    #expect(run(["out", "--all", "--config", path]).code == .usage)
    #expect(run(["a", "b", "--config", path]).code == .usage)
    #expect(run(["--resolver", "dns.example", "--config", path]).code == .usage)
    #expect(run(["--timeout", "0", "--config", path]).code == .usage)
    #expect(run(["--send-test", "not an address", "--config", path]).code == .usage)
    let unknown = run(["otu", "--config", path])
    #expect(unknown.code == .usage)
    #expect(unknown.err.contains("did you mean out?"))
  }

  @Test func fileChannelChecksItsOutbox() throws {
    let directory = try scratch.make("outbox")
    let path = try config("[channels.out]\nkind = \"file\"\npath = \"\(directory.path)/new\"\n")
    let result = run(["--config", path])
    #expect(result.code == .ok, "\(result.err)")
    #expect(
      result.out == """
        out  (file, \(directory.path)/new)
          ok    rules      writes .eml files; sends nothing
          ok    outbox     \(directory.path)/new does not exist yet; it will be created on the first message
          => ok

        result: 1 channel checked; exit 0

        """)
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/new"), "check creates nothing")
    let file = directory.appendingPathComponent("plain")
    try Data().write(to: file)
    let broken = try config("[channels.out]\nkind = \"file\"\npath = \"\(file.path)\"\n")
    #expect(run(["--config", broken]).code == .ioError)
  }

  @Test func kindRulesBecomeLines() throws {
    let legacy = ChannelRules.items(
      for: ChannelConfig(
        name: "old", kind: .legacy, profile: "legacy",
        endpoint: ChannelEndpoint(host: "h", port: 25, tlsMode: .starttls)))
    #expect(legacy.first?.verdict == .warn)
    #expect(legacy.first?.exitCode == .unavailable)
    #expect(legacy.first?.detail.contains("no DKIM/SPF alignment") == true)
    let onPremises = ChannelRules.items(
      for: ChannelConfig(
        name: "ex", kind: .exchange, identities: [.address("ann@acme.test")], scope: .address,
        onPremises: true, profile: "exchange-onprem",
        endpoint: ChannelEndpoint(host: "h", port: 587, tlsMode: .starttls, username: "bob@acme.test")))
    #expect(onPremises.first?.verdict == .warn)
    #expect(onPremises.first?.detail.contains("bounce tracking is not supported") == true)
    #expect(onPremises.first?.detail.contains("username bob@acme.test is not the identity ann@acme.test") == true)
    let disabled = ChannelRules.items(for: ChannelConfig(name: "x", kind: .smtp, enabled: false, profile: "custom"))
    #expect(disabled.map(\.id) == [.rules, .enabled])
    #expect(disabled.map(\.verdict) == [.ok, .warn])
  }

  @Test func ledgerViewShowsUseCooldownsAndRecentFailures() throws {
    let path = try scratch.make("check-ledger").appendingPathComponent("ledger.sqlite3").path
    let channel = ChannelConfig(
      name: "work", kind: .exchange, profile: "exchange-online",
      limits: ChannelLimits(messages: [window("30/1m")]))
    let now = Date().timeIntervalSince1970
    #expect(LedgerView.item(channel: channel, ledgerPath: path, now: now).detail.hasPrefix("no ledger yet"))
    let gate = ThrottleGate(ledger: try ThrottleLedger(path: path))
    let grant = try #require(try gate.reserve(channel: "work", limits: channel.limits, recipients: 1).grant)
    try gate.settle(
      grant, limits: channel.limits,
      attempts: [.init(recipient: "a@x.test", outcome: .authentication, reply: "535 5.7.8 bad credentials")])
    let failed = LedgerView.item(channel: channel, ledgerPath: path, now: Date().timeIntervalSince1970)
    #expect(failed.verdict == .warn)
    #expect(failed.detail.contains("messages 0/30 per 1m; no cooldown; 1 failure(s) in the last 24h, latest "))
    #expect(failed.detail.hasSuffix("auth: 535 5.7.8 bad credentials"))
    try gate.ledger.transaction { (transaction) throws(LedgerError) in
      try transaction.setCooldown(
        CooldownRecord(
          channel: "work", until: now + 3600, reason: .quota, reply: "554 5.2.0 quota", backoffSeconds: 30,
          setAt: now))
    }
    let paused = LedgerView.item(channel: channel, ledgerPath: path, now: Date().timeIntervalSince1970)
    #expect(paused.verdict == .fail)
    #expect(paused.exitCode == .unavailable)
    #expect(paused.detail.contains("cooldown: out of quota until "))
  }

  @Test func senderDomainsComeFromIdentitiesOrFrom() throws {
    let channel = ChannelConfig(
      name: "relay", kind: .smtp,
      identities: [
        .address("ann@acme.test"), .domain("acme.test"), .domain("news.acme.test"), .subdomains("x.test"), .any,
      ],
      profile: "custom")
    let configuration = Configuration(channels: [channel], file: "c.toml")
    let domains = ChannelCheck.senderDomains(channel, sender: nil, configuration: configuration)
    #expect(domains.map(\.domain) == ["acme.test", "news.acme.test"])
    #expect(domains.map(\.sender) == ["ann@acme.test", "postmaster@news.acme.test"])
    let from = try Mailbox.parse("Bob <bob@other.test>")
    #expect(
      ChannelCheck.senderDomains(channel, sender: from, configuration: configuration).map(\.domain) == ["other.test"])
    let wildcard = ChannelConfig(name: "any", kind: .smtp, identities: [.any], profile: "custom")
    var withDefault = Configuration(channels: [wildcard], file: "c.toml")
    #expect(ChannelCheck.senderDomains(wildcard, sender: nil, configuration: withDefault).isEmpty)
    withDefault.defaults.from = "Carol <carol@acme.test>"
    #expect(
      ChannelCheck.senderDomains(wildcard, sender: nil, configuration: withDefault).map(\.sender) == ["carol@acme.test"]
    )
  }

  @Test func warningsCountOnlyWhenStrict() {
    let report = ChannelCheckReport(
      channel: "c", kind: .smtp, target: "h:587",
      items: [
        .ok(.connect, "fine"), .warn(.tls, "expires soon", code: .noPermission), .skip(.dkim, "no selector"),
      ], transcript: [])
    #expect(report.verdict == .warn)
    #expect(report.exitCode(strict: false) == .ok)
    #expect(report.exitCode(strict: true) == .noPermission)
    var failing = report
    failing.items.append(.fail(.connect, "refused", code: .tempFail))
    failing.items.append(.fail(.login, "535", code: .noPermission))
    #expect(failing.verdict == .fail)
    #expect(failing.exitCode(strict: false) == .noPermission, "the worst: 77 > 75")
    #expect(CheckItem.ok(.tls, "x").exitCode == .ok)
    #expect(CheckItem(.tls, .skip, "x", exitCode: .tempFail).exitCode == .ok, "skip never carries a code")
  }

  @Test func untrustedTextNeverReachesTheTerminalRaw() {
    let hostile = "\"v=spf1 \u{1b}[31mred\r\nX\": unknown mechanism"
    let report = ChannelCheckReport(
      channel: "c", kind: .smtp, target: "h:25",
      items: [.fail(.spf, hostile, hint: "fix\u{7}", code: .unavailable, domain: "acme.test")], transcript: [])
    let text = CheckReportFormat.human(report, strict: false)
    #expect(!text.contains("\u{1b}") && !text.contains("\r") && !text.contains("\u{7}"))
    #expect(
      text.contains("  fail  SPF        acme.test: \"v=spf1 ?[31mred??X\": unknown mechanism\n        hint: fix?\n"))
  }
}
