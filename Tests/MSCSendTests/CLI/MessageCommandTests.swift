import Foundation
import Testing

@testable import MSCSend

/// `send` and sendmail mode in-process, delivering to a `file` channel in a scratch folder:
/// exit codes for bad input (DESIGN.md section 5) and what lands in the outbox.
@Suite struct MessageCommandTests {
  struct Run {
    let code: ExitCode
    let console: CapturingConsole
    /// The messages the outbox got.
    let files: [String]
  }

  /// Runs `arguments` (argv[0] included) with a config whose only channel is a file outbox.
  private func run(_ arguments: [String], stdin: String = "", defaultFrom: String? = "cron@acme.test") throws -> Run {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("msc-send-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let outbox = folder.appendingPathComponent("outbox").path
    let config = folder.appendingPathComponent("config.toml")
    let defaults = defaultFrom.map { "[defaults]\nfrom = \"\($0)\"\n\n" } ?? ""
    try Data((defaults + "[channels.box]\nkind = \"file\"\npath = \"\(outbox)\"\nidentities = [\"*\"]\n").utf8)
      .write(to: config)
    let console = CapturingConsole()
    let context = CLIContext(
      environment: ["HOME": folder.path, "MSC_SEND_CONFIG": config.path], console: console,
      readStandardInput: { Array(stdin.utf8) }, standardInputIsTerminal: false, composeEnvironment: goldenEnvironment())
    let code = CommandLineInterface.run(arguments: arguments, context: context)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: outbox))?.sorted() ?? []
    let files = names.compactMap { FileManager.default.contents(atPath: outbox + "/" + $0) }
      .map { String(decoding: $0, as: UTF8.self) }
    return Run(code: code, console: console, files: files)
  }

  // MARK: send

  @Test func bccIsInTheEnvelopeOnly() throws {
    let result = try run([
      "msc-send", "send", "--from", "alice@acme.test", "--to", "bob@example.com", "--bcc", "secret@example.com",
      "--cc", "carol@example.com, dave@example.com", "--subject", "Hi", "--body", "x", "--json",
    ])
    #expect(result.code == .ok, "\(result.console.stderr)")
    let message = try #require(result.files.first)
    #expect(!message.contains("secret"))
    #expect(message.contains("Cc: carol@example.com, dave@example.com\r\n"))
    #expect(result.console.stdout.contains("\"address\":\"secret@example.com\""), "but it is a recipient")
  }

  @Test(arguments: [
    ["--subject", "Hi\r\nBcc: eve@evil.test"],
    ["--header", "X-Note: a\nBcc: eve@evil.test"],
    ["--from-name", "Alice\r\nBcc: eve@evil.test"],
    ["--cc", "carol@example.com\r\nBcc: eve@evil.test"],
    ["--reply-to", "x@example.com\nBcc: eve@evil.test"],
    ["--attach", "/etc/hostname;type=text/plain\r\nBcc: eve@evil.test"],
    ["--header", "Bcc: eve@evil.test"],
    ["--header", "Content-Type: text/html"],
    ["--header", "no colon here"],
    ["--to", "bob@"],
  ])
  func headerInjectionAndBadAddressesExit65(_ extra: [String]) throws {
    let result = try run(
      ["msc-send", "send", "--from", "alice@acme.test", "--to", "bob@example.com", "--body", "x"] + extra)
    #expect(result.code == .dataError, "\(result.console.stderr)")
    #expect(result.console.stderr.hasPrefix("msc-send: error: "))
    #expect(result.files.isEmpty)
  }

  @Test func missingAttachmentIsAnIOError() throws {
    let result = try run([
      "msc-send", "send", "--to", "bob@example.com", "--body", "x", "--attach", "/nonexistent/q3.pdf",
    ])
    #expect(result.code == .ioError)
    #expect(result.console.stderr.contains("--attach: cannot read /nonexistent/q3.pdf: No such file or directory"))
  }

  @Test func noRecipientIsAUsageError() throws {
    #expect(try run(["msc-send", "send", "--body", "x"]).code == .usage)
  }

  @Test func helpNamesTheNewOptions() throws {
    let help = try run(["msc-send", "send", "--help"]).console.stdout
    for option in ["--cc", "--bcc", "--reply-to", "--from-name", "--html-file", "--attach", "--header"] {
      #expect(help.contains(option), "\(option)")
    }
  }

  // MARK: sendmail mode

  @Test func invokedAsSendmailDeliversCronMail() throws {
    let stdin =
      "From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@host> backup\n\n"
      + "backup done\n.\nnot cut with -i\n"
    let result = try run(
      ["/usr/sbin/sendmail", "-FCronDaemon", "-i", "-B8BITMIME", "-oem", "ops@example.com"], stdin: stdin)
    #expect(result.code == .ok, "\(result.console.stderr)")
    #expect(result.console.stderr.isEmpty, "silent on success")
    let message = try #require(result.files.first)
    #expect(message.hasPrefix("From: Cron Daemon <cron@acme.test>\r\nTo: root\r\n"))
    #expect(message.hasSuffix("\r\n\r\nbackup done\r\n.\r\nnot cut with -i\r\n"))
  }

  @Test func dashTTakesRecipientsAndDropsBcc() throws {
    let stdin = "From: alice@acme.test\nTo: bob@example.com\nBcc: secret@example.com\nSubject: s\n\nhi\n.\ncut here\n"
    let result = try run(["msc-send", "-t"], stdin: stdin)
    #expect(result.code == .ok, "\(result.console.stderr)")
    let message = try #require(result.files.first)
    #expect(!message.contains("secret"))
    #expect(message.hasSuffix("\r\n\r\nhi\r\n"), "without -i a lone dot ends the message")
  }

  @Test(arguments: [
    (["msc-send", "-i"], "", ExitCode.usage),
    (["msc-send", "-t", "-X"], "", .usage),
    (["sendmail", "-bp"], "", .usage),
    (["msc-send", "-t"], "From: a@acme.test\nTo: root\n\nx\n", .dataError),
    (["msc-send", "-t"], "From: a@acme.test\n\nx\n", .dataError),
    (["msc-send", "-f", "bad@", "b@example.com"], "Subject: s\n\nx\n", .dataError),
  ])
  func sendmailModeErrors(_ arguments: [String], _ stdin: String, _ expected: ExitCode) throws {
    let result = try run(arguments, stdin: stdin)
    #expect(result.code == expected, "\(result.console.stderr)")
    #expect(result.files.isEmpty)
  }

  @Test func sendmailHelp() throws {
    let result = try run(["msc-send", "-t", "--help"])
    #expect(result.code == .ok)
    #expect(result.console.stdout.contains(SendmailCommand.usage))
    #expect(SendmailCommand.usage.contains("msc-send -t [-f SENDER] [-F NAME] [-i | -oi] [RECIPIENT ...] < message"))
  }
}
