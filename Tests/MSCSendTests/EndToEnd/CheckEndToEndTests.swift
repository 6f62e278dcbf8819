import Foundation
import Testing

@testable import MSCSend

/// `msc-send check` end to end: the built binary against real servers on loopback (aiosmtpd with
/// STARTTLS and AUTH, with good, self-signed and expired certificates and without STARTTLS; the
/// fault server's 554 greeting; a closed port) and a real resolver (dnsmasq) serving the sender
/// domain's SPF (an include chain with `a` and `mx`, and a loop), DMARC and DKIM records. Each
/// scenario is a channel with its exact verdicts and exit code.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct CheckEndToEndTests {
  /// The zone: acme.test passes SPF for 127.0.0.1 through include -> a (no match) -> mx (match).
  static func zone() -> DNSZone {
    let key = DomainRecordTests.rsa2048
    return DNSZone(
      txt: [
        ("acme.test", ["v=spf1 include:_spf.acme.test ~all"]),
        ("_spf.acme.test", ["v=spf1 a:mail.acme.test mx:acme.test -all"]),
        ("_dmarc.acme.test", ["v=DMARC1; p=reject; rua=mailto:dmarc@acme.test"]),
        ("s1._domainkey.acme.test", ["v=DKIM1; k=rsa; p=" + key.prefix(200), String(key.dropFirst(200))]),
        ("loop.test", ["v=spf1 include:loop2.test -all"]),
        ("loop2.test", ["v=spf1 include:loop.test -all"]),
      ],
      hosts: [("mail.acme.test", ["127.0.0.2"]), ("mx.acme.test", ["127.0.0.1"])],
      mx: [("acme.test", "mx.acme.test", 10)])
  }

  /// Servers and a config with one channel per scenario.
  final class Scenario {
    var servers: [ServerProcess] = []
    var closedPort: LoopbackListener?
    var config = ""
    var ledger = ""
    var resolver = ""
    var healthy: ServerProcess?
    var directory: URL?

    func stop() {
      for server in servers { server.stop() }
      closedPort?.close()
      if let directory, ProcessInfo.processInfo.environment["MSC_SEND_TEST_KEEP"] != "1" {
        try? FileManager.default.removeItem(at: directory)
      }
    }
  }

  static func setUp() throws -> Scenario {
    let scenario = Scenario()
    do {
      let certificates = try TestCertificates.shared()
      let dns = try ServerProcess.dnsmasq(zone())
      scenario.servers.append(dns)
      scenario.resolver = dns.address
      let healthy = try ServerProcess.aiosmtpd(auth: ["apikey:relay-secret"])
      scenario.servers.append(healthy)
      scenario.healthy = healthy
      let selfSigned = try ServerProcess.aiosmtpd(auth: ["apikey:relay-secret"], certificate: certificates.selfSigned)
      let expired = try ServerProcess.aiosmtpd(auth: ["apikey:relay-secret"], certificate: certificates.expired)
      let noStartTLS = try ServerProcess.aiosmtpd(auth: ["apikey:relay-secret"], advertiseStartTLS: false)
      let greeting554 = try ServerProcess.fault(.greeting554)
      scenario.servers += [selfSigned, expired, noStartTLS, greeting554]
      let closed = try LoopbackListener(listening: false)
      scenario.closedPort = closed
      let directory = try TestEnvironment.makeScratchDirectory("check")
      scenario.directory = directory
      scenario.ledger = directory.appendingPathComponent("ledger.sqlite3").path
      func channel(_ name: String, port: Int, password: String = "RELAY_KEY", extra: String = "") -> String {
        """

        [channels.\(name)]
        kind = "smtp"
        host = "127.0.0.1"
        port = \(port)
        ca_file = "\(certificates.ca.certificate.path)"
        username = "apikey"
        password_env = "\(password)"
        identities = ["*@acme.test"]
        \(extra)
        """
      }
      let text =
        "[defaults]\nledger = \"\(scenario.ledger)\"\n"
        + channel("healthy", port: healthy.port, extra: "dkim_selector = \"s1\"")
        + channel("wrongpw", port: healthy.port, password: "WRONG_KEY")
        + channel("selfsigned", port: selfSigned.port)
        + channel("expired", port: expired.port)
        + channel("nostarttls", port: noStartTLS.port)
        + channel("closed", port: Int(closed.port))
        + channel("greeting", port: greeting554.port)
        + channel("loop", port: healthy.port).replacingOccurrences(of: "*@acme.test", with: "*@loop.test")
      let file = directory.appendingPathComponent("config.toml")
      try Data(text.utf8).write(to: file)
      _ = chmod(file.path, 0o600)
      scenario.config = file.path
      return scenario
    } catch {
      scenario.stop()
      throw error
    }
  }

  static let environment = ["RELAY_KEY": "relay-secret", "WRONG_KEY": "not-the-secret"]

  private func check(_ scenario: Scenario, _ arguments: [String]) async throws -> ProcessResult {
    try await runMscSend(
      args: ["check"] + arguments + ["--config", scenario.config, "--resolver", scenario.resolver, "--timeout", "5"],
      env: Self.environment)
  }

  /// Every scenario's verdicts, line by line, and its exit code (DESIGN.md section 5).
  static let expected: [String: (exit: Int, verdicts: [String: String])] = {
    let network = ["resolve", "connect", "greeting", "tls", "ehlo", "auth", "login", "size"]
    func verdicts(_ changes: [String: String], skipAfter: String? = nil) -> [String: String] {
      var result = ["rules": "ok", "secret": "ok", "ledger": "ok", "spf": "ok", "dmarc": "ok", "dkim": "skip"]
      for step in network { result[step] = "ok" }
      if let skipAfter, let index = network.firstIndex(of: skipAfter) {
        for step in network[(index + 1)...] { result[step] = "skip" }
      }
      return result.merging(changes) { $1 }
    }
    return [
      "healthy": (0, verdicts(["tls": "warn", "dkim": "ok"])),
      "wrongpw": (77, verdicts(["tls": "warn", "login": "fail"])),
      "selfsigned": (77, verdicts(["tls": "fail"], skipAfter: "tls")),
      "expired": (77, verdicts(["tls": "fail"], skipAfter: "tls")),
      "nostarttls": (69, verdicts(["tls": "fail", "auth": "skip", "login": "skip", "size": "skip"])),
      "closed": (75, verdicts(["connect": "fail"], skipAfter: "connect")),
      "greeting": (69, verdicts(["greeting": "fail"], skipAfter: "greeting")),
      "loop": (69, verdicts(["tls": "warn", "spf": "fail", "dmarc": "warn"])),
    ]
  }()

  @Test func everyScenarioHasItsVerdictsAndExitCode() async throws {
    let scenario = try Self.setUp()
    defer { scenario.stop() }
    let all = try await check(scenario, ["--all", "--json"])
    #expect(all.exit == 77, "the worst: 77 > 69 > 75\n\(all.transcript)")
    let document = try #require(try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [String: Any])
    #expect(document["exit_code"] as? Int == 77)
    #expect(document["verdict"] as? String == "fail")
    #expect(document["strict"] as? Bool == false)
    let channels = try #require(document["channels"] as? [[String: Any]])
    #expect(
      channels.map { $0["name"] as? String } == [
        "healthy", "wrongpw", "selfsigned", "expired", "nostarttls",
        "closed", "greeting", "loop",
      ])
    for channel in channels {
      let name = try #require(channel["name"] as? String)
      let expectation = try #require(Self.expected[name])
      let checks = try #require(channel["checks"] as? [[String: Any]])
      var verdicts: [String: String] = [:]
      for check in checks {
        verdicts[try #require(check["id"] as? String)] = check["verdict"] as? String
        #expect(Set(check.keys) == ["id", "verdict", "detail", "hint", "exit_code", "domain"])
      }
      #expect(verdicts == expectation.verdicts, "\(name): \(checks)")
      #expect(channel["exit_code"] as? Int == expectation.exit, "\(name)")
      #expect(channel["kind"] as? String == "smtp")
      #expect(channel["transcript"] == nil, "only with -v")
    }

    // Each on its own: the process exit code, and what the failing line says.
    let lines: [String: String] = [
      "wrongpw": "  fail  login      as apikey: authentication refused by the server: 535 5.7.8",
      "selfsigned": "  fail  TLS        TLS certificate verification failed: self-signed certificate",
      "expired": "  fail  TLS        TLS certificate verification failed: certificate has expired",
      "nostarttls": "  fail  TLS        STARTTLS is not offered",
      "closed": "  fail  TCP        cannot connect to 127.0.0.1 port \(scenario.closedPort?.port ?? 0): "
        + "127.0.0.1: Connection refused",
      "greeting": "  fail  greeting   greeting refused by the server: 554 5.3.2 fault.test no SMTP service here\n"
        + "        hint: the server refuses this client service",
      "loop":
        "  fail  SPF        loop.test: permerror for 127.0.0.1 (include loop: loop.test -> loop2.test -> loop.test",
    ]
    for (name, expectation) in Self.expected where name != "healthy" {
      let single = try await check(scenario, [name])
      #expect(Int(single.exit) == expectation.exit, "\(name)\n\(single.transcript)")
      if let line = lines[name] { #expect(single.stdout.contains(line), "\(name): \(single.stdout)") }
    }
  }

  @Test func healthyChannelPassesAndExplainsEveryLine() async throws {
    let scenario = try Self.setUp()
    defer { scenario.stop() }
    let result = try await check(scenario, ["healthy", "-v"])
    #expect(result.exit == 0, "\(result.transcript)")
    let out = result.stdout
    #expect(out.hasPrefix("healthy  (smtp, 127.0.0.1:\(scenario.healthy?.port ?? 0))\n"))
    #expect(out.contains("  ok    TCP        connected to 127.0.0.1 port "))
    #expect(out.contains("  warn  TLS        STARTTLS, TLSv1.3 "))
    #expect(
      out.contains("verified (CN=localhost, issuer CN=msc-send test CA, DNS:localhost IP:127.0.0.1 IP:::1, expires "))
    #expect(out.contains("        hint: the certificate expires in "))
    #expect(out.contains("  ok    AUTH       offered LOGIN PLAIN; configured: strongest offered; using PLAIN\n"))
    #expect(out.contains("  ok    login      authenticated as apikey with PLAIN\n"))
    #expect(
      out.contains("  ok    SIZE       the server accepts up to 33554432 octets (32 MiB); no max_message_size set\n"))
    #expect(
      out.contains(
        "  ok    SPF        acme.test: pass for 127.0.0.1 (include:_spf.acme.test in acme.test -> mx:acme.test in "
          + "_spf.acme.test; 3/10 lookups)\n"))
    #expect(
      out.contains("  ok    DMARC      acme.test: p=reject, pct=100, rua=mailto:dmarc@acme.test at _dmarc.acme.test\n"))
    #expect(out.contains("  ok    DKIM       acme.test: k=rsa, 2048-bit key at s1._domainkey.acme.test\n"))
    #expect(out.hasSuffix("result: 1 channel checked, 1 with warnings (not failing without --strict); exit 0\n"))
    // -v: the transcript on stderr, credentials redacted, DNS answers listed.
    #expect(result.stderr.contains("C: AUTH PLAIN <redacted>"))
    #expect(!result.stderr.contains("relay-secret") && !out.contains("relay-secret"))
    #expect(!result.stderr.contains(Data("\u{0}apikey\u{0}relay-secret".utf8).base64EncodedString()))
    #expect(result.stderr.contains("C: QUIT"))
    #expect(result.stderr.contains("-- DNS TXT _spf.acme.test: \"v=spf1 a:mail.acme.test mx:acme.test -all\""))
    #expect(try scenario.healthy?.deliveredMessages().isEmpty == true, "check sends no mail")

    let strict = try await check(scenario, ["healthy", "--strict"])
    #expect(strict.exit == 77, "an expiring certificate fails with --strict")
  }

  @Test func sendTestGoesThroughTheChannelAndReportsTheReply() async throws {
    let scenario = try Self.setUp()
    defer { scenario.stop() }
    let result = try await check(
      scenario, ["healthy", "--send-test", "bob@example.test", "--from", "alice@acme.test", "--json", "-v"])
    #expect(result.exit == 0, "\(result.transcript)")
    let delivered = try #require(try scenario.healthy?.deliveredMessages())
    try #require(delivered.count == 1)
    #expect(delivered[0].envelope.mailFrom == "alice@acme.test")
    #expect(delivered[0].envelope.rcptTos == ["bob@example.test"])
    #expect(delivered[0].text.contains("Subject: msc-send check: test message via healthy"))
    let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    let channel = try #require((document["channels"] as? [[String: Any]])?.first)
    let checks = try #require(channel["checks"] as? [[String: Any]])
    let sendTest = try #require(checks.first { $0["id"] as? String == "send_test" })
    #expect(sendTest["verdict"] as? String == "ok")
    #expect((sendTest["detail"] as? String)?.contains("250 ") == true, "\(sendTest)")
    #expect((channel["transcript"] as? [String])?.contains("C: RCPT TO:<bob@example.test>") == true)
    #expect(FileManager.default.fileExists(atPath: scenario.ledger), "the test message went through the ledger")
  }
}
