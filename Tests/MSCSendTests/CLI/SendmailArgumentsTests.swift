import Testing

@testable import MSCSend

@Suite struct SendmailArgumentsTests {
  @Test func cronStyleArgumentsAreUnderstood() throws {
    // Debian cron: sendmail -FCronDaemon -i -B8BITMIME -oem ADDRESS
    let parsed = try SendmailArguments(["-FCronDaemon", "-i", "-B8BITMIME", "-oem", "ops@example.com"])
    #expect(parsed.fullName == "CronDaemon")
    #expect(parsed.ignoreDots)
    #expect(!parsed.extractRecipients)
    #expect(parsed.recipients == ["ops@example.com"])
  }

  @Test func valuesMayBeAttachedOrFollow() throws {
    let parsed = try SendmailArguments(
      ["-t", "-f", "a@acme.test", "-F", "Alice A", "-oi", "-C", "/etc/x.toml", "b@x.test"])
    #expect(parsed.extractRecipients && parsed.ignoreDots)
    #expect(parsed.envelopeSender == "a@acme.test")
    #expect(parsed.fullName == "Alice A")
    #expect(parsed.configFile == "/etc/x.toml")
    #expect(try SendmailArguments(["-fa@acme.test"]).envelopeSender == "a@acme.test")
    #expect(try SendmailArguments(["-r", "r@acme.test"]).envelopeSender == "r@acme.test")
    #expect(try SendmailArguments(["-ti"]) == SendmailArguments(["-t", "-i"]))
    #expect(try SendmailArguments(["-t", "--", "-odd@x.test"]).recipients == ["-odd@x.test"])
    #expect(try SendmailArguments(["-bm", "-odi", "-oee", "-om", "-t"]).extractRecipients)
  }

  @Test(arguments: [
    (["-x"], "unknown sendmail option -x"),
    (["-bs"], "sendmail mode -bs is not supported: msc-send only delivers a message (-bm)"),
    (["-bp"], "sendmail mode -bp is not supported: msc-send only delivers a message (-bm)"),
    (["-f"], "-f needs a value"),
    (["-oQ/var/spool"], "unknown sendmail option -oQ/var/spool"),
  ])
  func unknownOrUnsupportedOptionsAreUsageErrors(_ arguments: [String], _ message: String) {
    #expect(throws: UsageError.self) { try SendmailArguments(arguments) }
    do {
      _ = try SendmailArguments(arguments)
    } catch {
      #expect(error.message == message)
    }
  }

  @Test(arguments: [
    ("-t", true), ("-i", true), ("-oi", true), ("-f", true), ("-falice@x.test", true), ("-FCronDaemon", true),
    ("-bm", true), ("-oem", true), ("-odi", true), ("-oee", true), ("bob@example.com", true),
    ("send", false), ("--help", false), ("-h", false), ("-V", false), ("route", false), ("config", false),
  ])
  func sendmailModeIsRecognisedByTheFirstArgument(_ argument: String, _ expected: Bool) {
    #expect(SendmailArguments.startsSendmailMode(argument) == expected)
  }
}
