import Foundation
import Testing

@testable import MSCSend

/// Channels end to end: a config file with an `smtp` channel and an `exchange` channel, each
/// pointed at its own real aiosmtpd on loopback; the router must put each sender on its channel.
/// Also the embedded default (no config at all) that the README's first command relies on.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ChannelsEndToEndTests {
  private func writeConfig(_ text: String) throws -> URL {
    let directory = try TestEnvironment.makeScratchDirectory("config")
    let file = directory.appendingPathComponent("config.toml")
    try Data(text.utf8).write(to: file)
    _ = chmod(file.path, 0o600)
    return file
  }

  @Test func eachIdentityLandsOnItsOwnServer() async throws {
    let certificates = try TestCertificates.shared()
    let relay = try ServerProcess.aiosmtpd(mode: .starttls, auth: ["apikey:relay-secret"])
    defer { relay.stop() }
    let mailbox = try ServerProcess.aiosmtpd(mode: .starttls, auth: ["alice@acme.test:mailbox-secret"])
    defer { mailbox.stop() }
    let config = try writeConfig("""
      [defaults]
      from = "bob@acme.test"

      [channels.relay]
      kind = "smtp"
      host = "127.0.0.1"
      port = \(relay.port)
      tls = "starttls"
      ca_file = "\(certificates.ca.certificate.path)"
      username = "apikey"
      password_env = "RELAY_KEY"
      identities = ["*@acme.test"]

      [channels.work]
      kind = "exchange"
      host = "localhost"
      port = \(mailbox.port)
      ca_file = "\(certificates.ca.certificate.path)"
      auth = "login"
      username = "alice@acme.test"
      password_env = "MAILBOX_PASSWORD"
      identities = ["alice@acme.test"]
      """)
    let env = ["MSC_SEND_CONFIG": config.path, "RELAY_KEY": "relay-secret", "MAILBOX_PASSWORD": "mailbox-secret"]

    let fromAlice = try await runMscSend(
      args: ["send", "--from", "Alice <alice@acme.test>", "--to", "carol@example.test", "--subject", "via exchange",
        "--body", "one", "--json"], env: env)
    #expect(fromAlice.exit == 0, "\(fromAlice.stderr)")
    let fromBob = try await runMscSend(
      args: ["send", "--to", "carol@example.test", "--subject", "via relay", "--body", "two", "--json"], env: env)
    #expect(fromBob.exit == 0, "\(fromBob.stderr)")

    let atMailbox = try mailbox.deliveredMessages()
    let atRelay = try relay.deliveredMessages()
    try #require(atMailbox.count == 1 && atRelay.count == 1)
    #expect(atMailbox[0].envelope.mailFrom == "alice@acme.test")
    #expect(atMailbox[0].envelope.authUser == "alice@acme.test")
    #expect(atMailbox[0].text.contains("Subject: via exchange"))
    #expect(atRelay[0].envelope.mailFrom == "bob@acme.test", "[defaults] from is the sender")
    #expect(atRelay[0].envelope.authUser == "apikey")
    #expect(atRelay[0].text.contains("Subject: via relay"))
    #expect(fromAlice.stdout.contains("\"channel\":\"work\""))
    #expect(fromBob.stdout.contains("\"channel\":\"relay\""))

    // The router explains itself, and refuses to let the mailbox's credentials serve bob.
    let route = try await runMscSend(args: ["route", "--from", "alice@acme.test"], env: env)
    #expect(route.exit == 0)
    #expect(route.stdout.contains("channel:     work"))
    #expect(route.stdout.contains("relay  matches *@acme.test, less specific than alice@acme.test"))
    let refused = try await runMscSend(
      args: ["send", "--channel", "work", "--from", "bob@acme.test", "--to", "x@example.test", "--body", "no"], env: env)
    #expect(refused.exit == ExitCode.unavailable.rawValue)
    #expect(refused.stderr.contains("never shared"))
    #expect(try mailbox.deliveredMessages().count == 1, "nothing more reached the mailbox")
  }

  @Test func channelsListsSourcesButNeverSecrets() async throws {
    let config = try writeConfig("""
      [channels.relay]
      kind = "smtp"
      preset = "sparkpost"
      password = "literal-secret-value"
      identities = ["*@news.acme.test"]
      """)
    let result = try await runMscSend(args: ["channels", "--config", config.path])
    #expect(result.exit == 0, "\(result.stderr)")
    #expect(result.stdout.contains("smtp.sparkpostmail.com:587"))
    #expect(result.stdout.contains("SMTP_Injection"))
    #expect(result.stdout.contains("literal in the config file"))
    #expect(!result.stdout.contains("literal-secret-value"))
    let json = try await runMscSend(args: ["channels", "--config", config.path, "--json"])
    #expect(json.exit == 0)
    #expect(!json.stdout.contains("literal-secret-value"))
  }

  @Test func brokenConfigIsAConfigErrorWithPosition() async throws {
    let config = try writeConfig("[channels.work]\nkind = \"exchange\"\nidentitys = [\"a@b.test\"]\n")
    let check = try await runMscSend(args: ["config", "check", config.path])
    #expect(check.exit == ExitCode.config.rawValue)
    #expect(check.stderr.contains("\(config.path):3:1"), "\(check.stderr)")
    #expect(check.stderr.contains("identities"))
    let send = try await runMscSend(args: ["send", "--config", config.path, "--to", "x@y.test", "--from", "a@b.test", "--body", "x"])
    #expect(send.exit == ExitCode.config.rawValue)
  }

  @Test func embeddedDefaultWritesToTheOutboxInACleanHome() async throws {
    let data = try TestEnvironment.makeScratchDirectory("data")
    let result = try await runMscSend(
      args: ["send", "--from", "you@example.com", "--to", "friend@example.com", "--subject", "Hello from msc-send",
        "--body", "It works."],
      env: ["XDG_DATA_HOME": data.path])
    #expect(result.exit == 0, "\(result.stderr)")
    let outbox = data.appendingPathComponent("msc-send/outbox")
    let files = try FileManager.default.contentsOfDirectory(atPath: outbox.path).filter { $0.hasSuffix(".eml") }
    try #require(files.count == 1)
    let message = try String(contentsOf: outbox.appendingPathComponent(files[0]), encoding: .utf8)
    #expect(message.contains("Subject: Hello from msc-send\r\n"))
    #expect(message.contains("\r\n\r\nIt works.\r\n"))
    #expect(result.stderr.contains(outbox.path), "says where the message went")
    #expect(result.stderr.contains("hint:"), "and how to add a real channel")
  }
}
