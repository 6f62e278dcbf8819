import Foundation
import Testing

@testable import MSCSend

/// `msc-send sink` flags, in-process (nothing here listens for long).
@Suite struct SinkCommandTests {
  private func run(_ arguments: [String]) -> (code: ExitCode, console: CapturingConsole) {
    let console = CapturingConsole()
    let code = CommandLineInterface.run(
      arguments: ["msc-send", "sink"] + arguments, environment: [:], console: console)
    return (code, console)
  }

  @Test func listenAddresses() throws {
    func parse(_ text: String) -> String? { try? SinkCommand.parseListen(text).description }
    #expect(parse("127.0.0.1:2525") == "127.0.0.1:2525")
    #expect(parse("127.0.0.1") == "127.0.0.1:2525")
    #expect(parse("[::1]:0") == "[::1]:0")
    #expect(parse("[::1]") == "[::1]:2525")
    #expect(parse("2600") == "127.0.0.1:2600")
    #expect(parse("localhost:26") == "127.0.0.1:26")
    #expect(parse("0.0.0.0:25") == "0.0.0.0:25")
    for bad in ["", "mail.example:25", "127.0.0.1:65536", "127.0.0.1:x", "[::1", "[::1]x", "[::1]:", "[]:25", ":25"] {
      #expect(parse(bad) == nil, "\(bad)")
    }
  }

  @Test func refusesNonLoopbackAddressesUnlessAllowed() throws {
    let (code, console) = run(["--listen", "0.0.0.0:0"])
    #expect(code == .usage)
    #expect(console.stderr.contains("msc-send: error: refusing to listen on 0.0.0.0:0: not a loopback address\n"))
    #expect(console.stderr.contains("--allow-remote"))
    let parsed = try ArgumentParser.parse(["--listen", "0.0.0.0:0", "--allow-remote"], options: SinkCommand.options)
    #expect(try SinkCommand.makeConfiguration(parsed).listenAddress.description == "0.0.0.0:0")
  }

  @Test func usageErrors() {
    let cases: [([String], String)] = [
      (["--tls-cert", "c.pem"], "--tls-cert needs --tls-key"),
      (["--tls-key", "k.pem"], "--tls-key needs --tls-cert"),
      (["--max-messages", "0"], "invalid --max-messages \"0\""),
      (["--idle-timeout", "0.5"], "invalid --idle-timeout \"0.5\""),
      (["--hostname", "bad name"], "invalid --hostname \"bad name\""),
      (["--maildir", ""], "--maildir needs a directory"),
      (["--listen", "mail.example:25"], "invalid --listen \"mail.example:25\""),
      (["--maildri", "x"], "unknown option --maildri"),
      (["extra"], "unexpected argument \"extra\""),
    ]
    for (arguments, message) in cases {
      let (code, console) = run(arguments)
      #expect(code == .usage, "\(arguments)")
      #expect(console.stderr.contains(message), "\(arguments): \(console.stderr)")
      #expect(console.stdout.isEmpty)
    }
  }

  @Test func helpListsTheOptions() {
    let (code, console) = run(["--help"])
    #expect(code == .ok)
    #expect(console.stdout.hasPrefix(SinkCommand.usage + "\n"))
    for option in SinkCommand.options { #expect(console.stdout.contains(option.names.last ?? "?")) }
    // Every option and its help on one line, the help texts in one column.
    #expect(console.stdout.contains("\n  --idle-timeout SECONDS  close a silent connection after SECONDS"))
    #expect(console.stdout.contains("\n  --json                  print each message"))
    #expect(CommandLineInterface.help.contains("  sink "))
  }

  @Test func setupFailuresHaveTheirExitCodes() throws {
    let directory = try makeTemporaryDirectory("sink-cli")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let pki = try TestPKI.shared()

    let missing = run(["--listen", "127.0.0.1:0", "--tls-cert", directory + "/none.pem", "--tls-key", pki.good.key])
    #expect(missing.code == .config)
    #expect(missing.console.stderr.contains("cannot use the TLS certificate: \(directory)/none.pem: No such file"))
    let mismatch = run(["--listen", "127.0.0.1:0", "--tls-cert", pki.good.certificate, "--tls-key", pki.selfSigned.key])
    #expect(mismatch.code == .config)
    #expect(mismatch.console.stderr.contains("does not match"))

    #expect(FileManager.default.createFile(atPath: directory + "/file", contents: Data()))
    let maildir = run(["--listen", "127.0.0.1:0", "--maildir", directory + "/file/box"])
    #expect(maildir.code == .ioError)
    #expect(maildir.console.stderr.contains("cannot create Maildir \(directory)/file/box"))

    let listener = try LoopbackListener()
    defer { listener.close() }
    let taken = run(["--listen", "127.0.0.1:\(listener.port)"])
    #expect(taken.code == .unavailable)
    #expect(taken.console.stderr.contains("cannot listen on 127.0.0.1:\(listener.port): Address already in use"))
  }
}
