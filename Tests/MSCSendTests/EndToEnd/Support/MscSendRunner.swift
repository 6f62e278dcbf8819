import Foundation

/// The `msc-send` under test: `$MSC_SEND_TEST_BINARY` when set (a release or static build), else
/// the debug build. Under Swift Testing on Linux `Bundle.main.bundleURL` is `<scratch>/<triple>/debug`,
/// where SwiftPM puts the executable (the test target depends on the `msc-send` product, so it is
/// built first).
func mscSendBinary() throws -> URL {
  let chosen = ProcessInfo.processInfo.environment["MSC_SEND_TEST_BINARY"].flatMap { $0.isEmpty ? nil : $0 }
  let binary = chosen.map { URL(fileURLWithPath: $0) } ?? Bundle.main.bundleURL.appendingPathComponent("msc-send")
  guard FileManager.default.isExecutableFile(atPath: binary.path) else {
    throw HarnessError("msc-send binary not found at \(binary.path); build it with swift build first")
  }
  return binary
}

/// Runs the real binary with `args`, killing it after `timeout`.
///
/// The environment is sealed off from the developer's own: `HOME` and the XDG folders point into a
/// fresh empty folder (no personal config, outbox or ledger is read or written), `MSC_SEND_CONFIG`
/// is unset; `PATH` and `LANG` stay so `--password-command` works. `env` is laid on top. stdin is
/// `stdin` or empty (never the test runner's own).
///
/// `executable` replaces the binary, e.g. with a symlink to it named `sendmail`.
func runMscSend(
  args: [String], env: [String: String] = [:], stdin: String? = nil, timeout: Duration = .seconds(30),
  executable: URL? = nil
) async throws -> ProcessResult {
  let home = try TestEnvironment.makeScratchDirectory("home")
  defer {
    if ProcessInfo.processInfo.environment["MSC_SEND_TEST_KEEP"] != "1" {
      try? FileManager.default.removeItem(at: home)
    }
  }
  let inherited = ProcessInfo.processInfo.environment
  var environment: [String: String] = [
    "PATH": inherited["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "HOME": home.path,
    "XDG_CONFIG_HOME": home.appendingPathComponent("config").path,
    "XDG_DATA_HOME": home.appendingPathComponent("data").path,
    "XDG_STATE_HOME": home.appendingPathComponent("state").path,
    "XDG_CACHE_HOME": home.appendingPathComponent("cache").path,
    "TMPDIR": home.path,
  ]
  environment.merge(env) { _, given in given }
  return try await runProcess(
    try executable ?? mscSendBinary(), arguments: args, environment: environment, stdin: stdin.map { Data($0.utf8) },
    timeout: timeout)
}
