import Testing
@testable import MSCSend

/// `send` argument handling in-process: every usage error exits 64 with one precise line, before
/// anything touches the network or the message.
@Suite struct SendArgumentsTests {
  private func run(_ arguments: [String]) -> (ExitCode, CapturingConsole) {
    let console = CapturingConsole()
    let context = CLIContext(
      environment: ["HOME": "/nonexistent"], console: console, readStandardInput: { [] }, standardInputIsTerminal: false,
      connector: { _ throws(TransportError) in throw .connect(host: "test", port: 1, attempts: ["no network in unit tests"]) })
    return (CommandLineInterface.run(arguments: ["msc-send"] + arguments, context: context), console)
  }

  struct UsageCase: Sendable, CustomTestStringConvertible {
    let arguments: [String]
    let message: String
    var testDescription: String { arguments.joined(separator: " ") }
  }

  static let usageCases: [UsageCase] = [
    UsageCase(arguments: ["send", "--from", "a@b.test"], message: "at least one recipient is required (--to, --cc or --bcc)"),
    UsageCase(arguments: ["send", "--to", "x@y.test", "--tos", "z@y.test"], message: "unknown option --tos"),
    UsageCase(arguments: ["send", "--to", "x@y.test", "--body", "a", "--body-file", "f"],
      message: "--body and --body-file exclude each other"),
    UsageCase(arguments: ["send", "--to", "x@y.test", "--server", "h", "--tls", "ssl"],
      message: "invalid --tls \"ssl\": expected starttls, implicit or none"),
    UsageCase(arguments: ["send", "--to", "x@y.test", "--server", "h:99999"],
      message: "invalid port \"99999\" in --server \"h:99999\": expected 1-65535"),
    UsageCase(arguments: ["send", "--to", "x@y.test", "--server", "[::1"], message: "invalid --server \"[::1\": missing ]"),
    UsageCase(arguments: ["send", "--to", "x@y.test", "--server", "h", "--fingerprint", "sha256:abc"],
      message: "invalid --fingerprint \"sha256:abc\": expected sha256: and 64 hex digits"),
    UsageCase(arguments: ["send", "--to", "x@y.test", "--server", "h", "--user", "u"], message: "--user needs a secret"),
    UsageCase(arguments: ["send", "--to", "x@y.test", "--server", "h", "--password-env", "P"],
      message: "--password-env needs --user"),
    UsageCase(arguments: ["send", "--to", "x@y.test", "--server", "h", "--user", "u", "--password-env", "P",
      "--token-env", "T"], message: "--password-env and --token-env exclude each other: give one"),
    UsageCase(arguments: ["send", "--to", "x@y.test", "--server", "h", "--user", "u", "--password-env", "P",
      "--auth", "XOAUTH2"], message: "--auth XOAUTH2 needs a token (--token-env or --token-command)"),
    UsageCase(arguments: ["send", "--to", "x@y.test", "--server", "h", "--auth", "KERBEROS"],
      message: "unknown --auth \"KERBEROS\": expected one of PLAIN, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER"),
    UsageCase(arguments: ["send", "--to", "x@y.test", "--server", "h", "--channel", "work"],
      message: "--server and --channel exclude each other (work has its own server)"),
    UsageCase(arguments: ["send", "--to", "x@y.test", "--ca-file", "ca.pem"],
      message: "--ca-file needs --server (a configured channel has its own settings)"),
    UsageCase(arguments: ["send", "--to", "x@y.test", "--server", "h", "--tls", "none", "--no-verify"],
      message: "--ca-file, --fingerprint and --no-verify need TLS, but --tls none was given"),
    UsageCase(arguments: ["send", "--to", "x@y.test", "--server", "h", "--timeout", "0"],
      message: "invalid --timeout \"0\": expected seconds between 1 and 3600"),
    UsageCase(arguments: ["send", "--to"], message: "--to needs a value (ADDRESS)"),
    UsageCase(arguments: ["send", "--to", "x@y.test", "stray"], message: "unexpected argument \"stray\""),
  ]

  @Test(arguments: usageCases)
  func usageErrorsExit64WithOneLine(_ testCase: UsageCase) {
    let (code, console) = run(testCase.arguments)
    #expect(code == .usage)
    let first = console.stderr.split(separator: "\n").first.map(String.init)
    #expect(first == "msc-send: error: \(testCase.message)")
  }

  @Test func unknownOptionSuggestsTheNearest() {
    let (_, console) = run(["send", "--to", "x@y.test", "--subjet", "hi"])
    #expect(console.stderr.contains("hint: did you mean --subject?"))
  }

  @Test func unknownCommandSuggestsTheNearest() {
    let (code, console) = run(["sned"])
    #expect(code == .usage)
    #expect(console.stderr == "msc-send: error: unknown command \"sned\"\nhint: did you mean `msc-send send`?\n")
  }

  @Test func helpAndVersionExitZero() {
    let (helpCode, help) = run(["send", "--help"])
    #expect(helpCode == .ok)
    #expect(help.stdout.hasPrefix("usage: msc-send send"))
    #expect(help.stdout.contains("--password-command CMD"))
    let (versionCode, version) = run(["--version"])
    #expect(versionCode == .ok)
    #expect(version.stdout == "msc-send \(CommandLineInterface.version)\n")
    let (noneCode, none) = run([])
    #expect(noneCode == .usage)
    #expect(none.stderr.contains("Commands:"))
  }

  @Test func badAddressIsADataErrorBeforeAnyNetwork() {
    let (code, console) = run(["send", "--server", "h", "--from", "a@b.test", "--to", "not an address", "--body", "x"])
    #expect(code == .dataError)
    #expect(console.stderr.hasPrefix("msc-send: error: invalid address"))
  }

  @Test func headerInjectionThroughTheSubjectIsRefused() {
    let (code, console) = run([
      "send", "--server", "h", "--from", "a@b.test", "--to", "c@d.test", "--subject", "hi\r\nBcc: evil@x.test",
      "--body", "x",
    ])
    #expect(code == .dataError)
    #expect(console.stderr.contains("Subject"))
  }

  @Test func connectionFailureIsTemporary() {
    let (code, console) = run(["send", "--server", "h", "--from", "a@b.test", "--to", "c@d.test", "--body", "x"])
    #expect(code == .tempFail)
    #expect(console.stderr.hasPrefix("msc-send: error: cannot connect to test port 1: no network in unit tests\nhint:"))
  }

  @Test(arguments: [
    ("mx.example.com", "mx.example.com", nil), ("mx.example.com:2525", "mx.example.com", 2525),
    ("[::1]:587", "::1", 587), ("[::1]", "::1", nil), ("::1", "::1", nil), ("127.0.0.1:25", "127.0.0.1", 25),
  ] as [(String, String, UInt16?)])
  func serverAddressForms(_ text: String, _ host: String, _ port: UInt16?) throws {
    #expect(try ServerAddress.parse(text) == ServerAddress(host: host, port: port))
  }
}
