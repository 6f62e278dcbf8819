import Foundation

/// Where the end-to-end harness finds its tools: the project's folders, the Python interpreter
/// that runs the test servers, and fresh scratch folders. Everything here fails loudly: a missing
/// tool is a failed test with a fix in its message, never a skipped one.
enum TestEnvironment {
  /// The package root, found from this file's place in `Tests/MSCSendTests/EndToEnd/Support/`.
  static let projectRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // Support
    .deletingLastPathComponent()  // EndToEnd
    .deletingLastPathComponent()  // MSCSendTests
    .deletingLastPathComponent()  // Tests
    .deletingLastPathComponent()

  /// `Tests/Servers/`: the Python servers and the reference client.
  static let serversDirectory = projectRoot.appendingPathComponent("Tests/Servers")

  static let setupHint =
    "run .ci/run, or: python3 -m venv .build/testenv && .build/testenv/bin/pip install aiosmtpd"

  /// `MSC_SEND_TEST_PYTHON`, else `<root>/.build/testenv/bin/python3` when it exists, else `python3`
  /// from `PATH`.
  static let python: URL = {
    let environment = ProcessInfo.processInfo.environment
    if let chosen = environment["MSC_SEND_TEST_PYTHON"], !chosen.isEmpty {
      let found = chosen.contains("/") ? nil : findInPath(chosen)
      return found ?? URL(fileURLWithPath: chosen)
    }
    let venv = projectRoot.appendingPathComponent(".build/testenv/bin/python3")
    if FileManager.default.isExecutableFile(atPath: venv.path) {
      return venv
    }
    return findInPath("python3") ?? URL(fileURLWithPath: "/usr/bin/python3")
  }()

  /// Checked once per test run: the interpreter starts and imports aiosmtpd.
  private static let aiosmtpdCheck: Result<URL, HarnessError> = {
    let result: ProcessResult
    do {
      result = try runProcessBlocking(
        python, arguments: ["-c", "import aiosmtpd; print(aiosmtpd.__version__)"], timeout: .seconds(30))
    } catch {
      return .failure(HarnessError("cannot start the test Python \(python.path) (\(error)); \(setupHint)"))
    }
    guard result.exit == 0 else {
      let why = result.stderr.split(separator: "\n").last.map(String.init) ?? "exit \(result.exit)"
      return .failure(HarnessError("aiosmtpd cannot be imported by \(python.path): \(why); \(setupHint)"))
    }
    return .success(python)
  }()

  /// The Python interpreter, after checking that it can import aiosmtpd.
  static func pythonWithAiosmtpd() throws -> URL {
    try aiosmtpdCheck.get()
  }

  /// Environment for the Python servers: no bytecode files in the source tree, unbuffered output.
  static var pythonEnvironment: [String: String] {
    var environment = ProcessInfo.processInfo.environment
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    environment["PYTHONUNBUFFERED"] = "1"
    return environment
  }

  /// A new empty folder under the system temporary folder, for one test or one server.
  static func makeScratchDirectory(_ label: String) throws -> URL {
    let name = "msc-send-\(label)-\(getpid())-\(UUID().uuidString.prefix(8))"
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(name, isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  static func findInPath(_ name: String) -> URL? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for directory in path.split(separator: ":") {
      let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
      if FileManager.default.isExecutableFile(atPath: candidate.path) {
        return candidate
      }
    }
    return nil
  }
}

/// A harness failure with a message meant for the person reading the test log.
struct HarnessError: Error, CustomStringConvertible, Sendable {
  let description: String
  init(_ description: String) { self.description = description }
}
