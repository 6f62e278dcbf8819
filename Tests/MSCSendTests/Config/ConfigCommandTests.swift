import Foundation
import Testing

@testable import MSCSend

/// Runs `msc-send ARGUMENTS` in-process and returns the exit code and both streams.
private func run(_ arguments: [String], environment: [String: String]) -> (ExitCode, out: String, err: String) {
  let console = CapturingConsole()
  let code = CommandLineInterface.run(
    arguments: ["msc-send"] + arguments, context: CLIContext(environment: environment, console: console))
  return (code, console.stdout, console.stderr)
}

private let twoChannels = """
  [channels.work]
  kind = "exchange"
  identities = ["ann@acme.test"]
  token_env = "TOKEN"

  [channels.old]
  kind = "legacy"
  enabled = true
  host = "msc.test"
  """

@Test func configCheckReportsTheChannelsAndWarnings() throws {
  let directory = try TemporaryDirectory()
  let path = try directory.write("c.toml", twoChannels)
  let (code, out, err) = run(["config", "check", path], environment: ["HOME": directory.path])
  #expect(code == .ok)
  #expect(out == "\(path): ok, 2 channels (work, old)\n")
  #expect(
    err == "msc-send: warning: \(path):7:8: channels.old: legacy channel: the shared servers have no DKIM/SPF "
      + "alignment with your domain, so more of its mail is filtered as spam\n")
}

@Test func configCheckFailsWithFileLineColumnAndExit78() throws {
  let directory = try TemporaryDirectory()
  let path = try directory.write("c.toml", "[channels.a]\nkind = \"smtp\"\nhots = \"h.test\"\n")
  let (code, out, err) = run(["config", "check", "--config", path], environment: ["HOME": directory.path])
  #expect(code == .config)
  #expect(out.isEmpty)
  #expect(err == "msc-send: error: \(path):3:1: unknown key \"hots\" in [channels.a]; did you mean \"host\"?\n")

  let secret = try directory.write(
    "s.toml", "[channels.a]\nkind = \"smtp\"\nhost = \"h.test\"\nusername = \"u\"\npassword = \"x\"\n", mode: 0o644)
  let (secretCode, _, secretErr) = run(["config", "check", secret], environment: [:])
  #expect(secretCode == .config)
  #expect(secretErr.hasSuffix("\nhint: chmod 600 \(secret), or use password_env or password_command\n"))
}

@Test func configCheckFindsTheConfigLikeEveryCommand() throws {
  let directory = try TemporaryDirectory()
  let named = try directory.write("named.toml", "[channels.named]\nkind = \"file\"\n")
  let (code, out, _) = run(["config", "check"], environment: ["HOME": directory.path, "MSC_SEND_CONFIG": named])
  #expect(code == .ok)
  #expect(out == "\(named): ok, 1 channel (named)\n")

  let (missingCode, _, missingErr) = run(
    ["config", "check"], environment: ["HOME": directory.path, "MSC_SEND_CONFIG": "\(directory.path)/gone.toml"])
  #expect(missingCode == .config)
  #expect(missingErr.hasPrefix("msc-send: error: \(directory.path)/gone.toml: cannot open the configuration: "))
}

@Test func configCheckWithoutAnyFileReportsTheEmbeddedDefault() throws {
  let directory = try TemporaryDirectory()
  let (code, out, err) = run(["config", "check"], environment: ["HOME": directory.path])
  #expect(code == .ok)
  #expect(out.contains("the embedded default is in use"))
  #expect(out.contains("\(directory.path)/.local/share/msc-send/outbox"))
  #expect(out.contains("\(directory.path)/.config/msc-send/config.toml"))
  #expect(err.isEmpty)
}

@Test func configCheckJSON() throws {
  let directory = try TemporaryDirectory()
  let path = try directory.write("c.toml", twoChannels)
  let (code, out, _) = run(["config", "check", path, "--json"], environment: [:])
  #expect(code == .ok)
  let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
  #expect(object["ok"] as? Bool == true)
  #expect(object["file"] as? String == path)
  let channels = try #require(object["channels"] as? [[String: Any]])
  #expect(channels.map { $0["name"] as? String } == ["work", "old"])
  #expect(channels.first?["host"] as? String == "smtp.office365.com")
  #expect(channels.first?["secret"] as? String == "environment variable TOKEN")
  #expect((object["warnings"] as? [String])?.count == 1)

  let broken = try directory.write("b.toml", "[channels.a]\nkind = \"marketo\"\n")
  let (brokenCode, brokenOut, _) = run(["config", "check", broken, "--json"], environment: [:])
  #expect(brokenCode == .config)
  let error = try #require(try JSONSerialization.jsonObject(with: Data(brokenOut.utf8)) as? [String: Any])
  #expect(error["ok"] as? Bool == false)
  #expect(error["line"] as? Int == 2)
  #expect(error["column"] as? Int == 8)
  #expect((error["message"] as? String)?.hasPrefix("channels.a.kind: \"marketo\" is refused") == true)
  #expect(
    error["hint"] as? String == "use a gmail or exchange channel for one-to-one mail, or an smtp relay for volume")
}

@Test func configUsageErrors() throws {
  #expect(run(["config"], environment: [:]).0 == .usage)
  let (code, _, err) = run(["config", "chek"], environment: [:])
  #expect(code == .usage)
  #expect(err.contains("did you mean `msc-send config check`?"))
  #expect(run(["config", "check", "a.toml", "b.toml"], environment: [:]).0 == .usage)
  #expect(run(["config", "check", "a.toml", "--config", "b.toml"], environment: [:]).0 == .usage)
  #expect(run(["config", "check", "--jsn"], environment: [:]).0 == .usage)
  let (helpCode, help, _) = run(["config", "check", "--help"], environment: [:])
  #expect(helpCode == .ok)
  #expect(help.hasPrefix("usage: msc-send config check [FILE] [--json]"))
  #expect(run(["config", "--help"], environment: [:]).1.contains("check"))
  #expect(run(["--help"], environment: [:]).1.contains("config"))
}
