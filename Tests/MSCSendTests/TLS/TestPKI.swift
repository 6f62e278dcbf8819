import Foundation
import Glibc
@testable import MSCSend

/// Test certificates made with the `openssl` CLI once per test run, in a temporary directory:
/// a CA, and server certificates that are good, self-signed, expired, or for the wrong name.
/// EC P-256 keys keep generation fast (well under a second for all of them).
struct TestPKI: Sendable {
  struct Identity: Sendable {
    let certificate: String
    let key: String
  }

  let directory: String
  let caFile: String
  /// CA-signed, `DNS:localhost, IP:127.0.0.1, IP:::1`.
  let good: Identity
  let selfSigned: Identity
  /// CA-signed, valid January 2020 only.
  let expired: Identity
  /// CA-signed, `DNS:wrong.example` only.
  let wrongName: Identity
  /// sha256 of `good`'s DER as the CLI prints it ("AB:CD:...").
  let goodFingerprintCLI: String
  let selfSignedFingerprintCLI: String

  static func shared() throws -> TestPKI { try generated.get() }

  private static let generated: Result<TestPKI, ToolError> = {
    do throws(ToolError) { return .success(try generate()) } catch { return .failure(error) }
  }()

  private static let temporaryDirectory =
    NSTemporaryDirectory() + "msc-send-pki-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

  private static func generate() throws(ToolError) -> TestPKI {
    let directory = temporaryDirectory
    // Swift Testing has no whole-run teardown; exit handlers still run.
    atexit { try? FileManager.default.removeItem(atPath: TestPKI.temporaryDirectory) }
    do {
      try FileManager.default.createDirectory(atPath: directory + "/db", withIntermediateDirectories: true)
      try "".write(toFile: directory + "/db/index.txt", atomically: true, encoding: .utf8)
      try "01\n".write(toFile: directory + "/db/serial", atomically: true, encoding: .utf8)
      try caConfig.write(toFile: directory + "/ca.cnf", atomically: true, encoding: .utf8)
    } catch {
      throw ToolError(description: "cannot prepare \(directory): \(error)")
    }
    let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    let both = "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
    try openssl(
      ["req", "-x509"] + key + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
        "-subj", "/CN=msc-send test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign"], in: directory)
    try openssl(
      ["req", "-x509"] + key + ["-keyout", "self.key", "-out", "self.pem", "-days", "30",
        "-subj", "/CN=localhost", "-addext", both], in: directory)

    func signed(_ name: String, extensions: String, dates: [String]) throws(ToolError) -> Identity {
      try openssl(["req", "-new"] + key + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=localhost"],
        in: directory)
      try openssl(
        ["ca", "-batch", "-notext", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
          "-in", "\(name).csr", "-out", "\(name).pem", "-extensions", extensions] + dates, in: directory)
      return Identity(certificate: "\(directory)/\(name).pem", key: "\(directory)/\(name).key")
    }
    let good = try signed("good", extensions: "good", dates: ["-days", "30"])
    let expired = try signed(
      "expired", extensions: "good", dates: ["-startdate", "20200101000000Z", "-enddate", "20200201000000Z"])
    let wrongName = try signed("wrong", extensions: "wrong", dates: ["-days", "30"])
    let selfSigned = Identity(certificate: "\(directory)/self.pem", key: "\(directory)/self.key")

    func fingerprint(_ path: String) throws(ToolError) -> String {
      let output = try openssl(["x509", "-in", path, "-noout", "-fingerprint", "-sha256"], in: directory)
      guard let equals = output.firstIndex(of: "=") else { throw ToolError(description: "fingerprint: \(output)") }
      return output[output.index(after: equals)...].trimmingCharacters(in: .whitespacesAndNewlines)
    }
    return TestPKI(
      directory: directory, caFile: "\(directory)/ca.pem", good: good, selfSigned: selfSigned, expired: expired,
      wrongName: wrongName, goodFingerprintCLI: try fingerprint(good.certificate),
      selfSignedFingerprintCLI: try fingerprint(selfSigned.certificate))
  }

  private static let caConfig = """
    [ca]
    default_ca = test
    [test]
    database = db/index.txt
    new_certs_dir = db
    serial = db/serial
    default_md = sha256
    policy = anything
    unique_subject = no
    [anything]
    commonName = supplied
    [good]
    subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
    basicConstraints = CA:FALSE
    extendedKeyUsage = serverAuth
    [wrong]
    subjectAltName = DNS:wrong.example
    basicConstraints = CA:FALSE
    extendedKeyUsage = serverAuth

    """

  @discardableResult
  private static func openssl(_ arguments: [String], in directory: String) throws(ToolError) -> String {
    try runTool("openssl", arguments, in: directory, timeout: 20)
  }
}

struct ToolError: Error, CustomStringConvertible {
  let description: String
}

/// Finds `name` on PATH (or takes it as a path).
func toolPath(_ name: String) -> String? {
  if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
  let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
  for directory in path.split(separator: ":") {
    let candidate = "\(directory)/\(name)"
    if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
  }
  return nil
}

/// Runs a command line tool to completion (at most `timeout` seconds) and returns its stdout.
@discardableResult
func runTool(_ name: String, _ arguments: [String], in directory: String, timeout: Double) throws(ToolError) -> String {
  guard let path = toolPath(name) else { throw ToolError(description: "\(name) not found on PATH") }
  let process = Process()
  process.executableURL = URL(fileURLWithPath: path)
  process.arguments = arguments
  process.currentDirectoryURL = URL(fileURLWithPath: directory)
  let base = NSTemporaryDirectory() + "msc-send-tool-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
  guard FileManager.default.createFile(atPath: base + ".out", contents: nil),
    FileManager.default.createFile(atPath: base + ".err", contents: nil),
    let stdout = FileHandle(forWritingAtPath: base + ".out"),
    let stderr = FileHandle(forWritingAtPath: base + ".err")
  else { throw ToolError(description: "cannot create \(base).out") }
  defer {
    try? stdout.close()
    try? stderr.close()
    try? FileManager.default.removeItem(atPath: base + ".out")
    try? FileManager.default.removeItem(atPath: base + ".err")
  }
  process.standardOutput = stdout
  process.standardError = stderr
  do { try process.run() } catch { throw ToolError(description: "\(name): \(error)") }
  let deadline = Deadline.after(seconds: timeout)
  while process.isRunning && !deadline.hasPassed { usleep(2_000) }
  if process.isRunning {
    kill(process.processIdentifier, SIGKILL)
    throw ToolError(description: "\(name) \(arguments.joined(separator: " ")) timed out")
  }
  let text = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
  guard process.terminationStatus == 0 else {
    let errors = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
    throw ToolError(description: "\(name) \(arguments.joined(separator: " ")) failed: \(errors)")
  }
  return text
}
