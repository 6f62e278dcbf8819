import Foundation
import Testing

@testable import MSCSend

/// How the aiosmtpd test server offers TLS (`Tests/Servers/aiosmtpd_server.py --mode`).
enum AiosmtpdMode: String, Sendable {
  case starttls, implicit, plain
}

/// The misbehaviours of `Tests/Servers/fault_server.py --scenario`.
enum FaultScenario: String, Sendable, CaseIterable, CustomTestStringConvertible {
  /// EHLO offers STARTTLS; its `220` arrives with `250 injected` in the same write.
  case injectAfterStartTLS = "inject-after-starttls"
  /// EHLO offers AUTH PLAIN LOGIN but not STARTTLS.
  case noStartTLS = "no-starttls"
  /// The greeting is `554`.
  case greeting554 = "greeting-554"
  /// Accepts the connection and never sends a byte.
  case silent
  /// Sends the greeting one byte every 2 seconds.
  case dribble
  /// Sends a 65536-byte reply line without CRLF.
  case longLine = "long-line"
  /// Sends bytes that are not SMTP.
  case garbage
  /// Answers EHLO with `250-a` then `251 b`.
  case badContinuation = "bad-continuation"
  /// Accepts 2 RCPTs per transaction, then `452 4.5.3 Too many recipients`.
  case tooManyRecipientsAfter2 = "452-after-2"
  /// Reads the message up to the final `.` and closes without a reply.
  case closeAfterDot = "close-after-dot"
  /// A plain server that accepts everything and logs each transaction's arrival time.
  case accept
  /// Answers the final dot with Exchange Online's `554 5.2.0 ...SubmissionQuotaExceededException`.
  case quota554 = "quota-554"
  /// Answers the first connection's MAIL with `421 4.7.0 Try again later` and closes; serves the rest.
  case throttleFirst = "421-first"
  /// Answers every MAIL with `421 4.7.0 Try again later` and closes.
  case throttleAlways = "421-always"

  var testDescription: String { rawValue }
}

/// One message the aiosmtpd server accepted: the exact DATA bytes (after dot-unstuffing) and the
/// envelope.
struct DeliveredMessage: Sendable {
  struct Envelope: Decodable, Sendable {
    let mailFrom: String
    let rcptTos: [String]
    let mailOptions: [String]
    let authUser: String?
    let helo: String?
    let tls: Bool

    enum CodingKeys: String, CodingKey {
      case mailFrom = "mail_from", rcptTos = "rcpt_tos", mailOptions = "mail_options", authUser = "auth_user"
      case helo, tls
    }
  }

  let number: Int
  let bytes: [UInt8]
  let envelope: Envelope

  var text: String { String(decoding: bytes, as: UTF8.self) }
  var sha256: String { Crypto.hex(Crypto.digest(.sha256, bytes)) }
}

/// One transaction the fault server accepted (`S: transaction N from=A to=B,C size=S at=T` in its log).
struct FaultTransaction: Sendable, Equatable {
  let number: Int
  let from: String
  let recipients: [String]
  let size: Int
}

/// When a transaction arrived (the server's clock, seconds since 1970) and for whom.
struct FaultArrival: Sendable {
  let time: Double
  let recipients: [String]
}

/// A test SMTP server running as a child process on loopback, on a port the kernel chose.
///
/// Started by `aiosmtpd(...)` or `fault(...)`, which return once the server printed `READY <port>`
/// (bounded wait). Always `defer { server.stop() }`: it signals the server by its own pid (SIGTERM,
/// then SIGKILL) and removes its folder (kept when `MSC_SEND_TEST_KEEP=1`, for debugging). The
/// servers also exit by themselves when the test process dies.
final class ServerProcess: @unchecked Sendable {
  let host: String
  let port: Int
  /// The server's own folder: `maildir/`, `log`, `stderr`.
  let directory: URL
  private let process: Process
  private let stdoutPipe: Pipe
  private let stderrHandle: FileHandle
  private let lock = NSLock()
  private var stopped = false

  var maildir: URL { directory.appendingPathComponent("maildir", isDirectory: true) }
  var logFile: URL { directory.appendingPathComponent("log") }
  var stderrFile: URL { directory.appendingPathComponent("stderr") }

  /// `host:port` as `--server` takes it: `127.0.0.1:2525` or `[::1]:2525`.
  var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

  // MARK: Starting

  /// The aiosmtpd server, certificate `leaf` (signed by the test CA) unless told otherwise.
  /// `auth` entries are `user:password`. It offers 8BITMIME (refusing 8-bit data when not) and,
  /// when asked, SMTPUTF8.
  static func aiosmtpd(
    mode: AiosmtpdMode = .starttls, auth: [String] = [], authRequireTLS: Bool = true,
    advertiseStartTLS: Bool = true, certificate: TestCertificates.Pair? = nil, host: String = "127.0.0.1",
    eightBitMIME: Bool = true, smtpUTF8: Bool = false
  ) throws -> ServerProcess {
    let python = try TestEnvironment.pythonWithAiosmtpd()
    let directory = try TestEnvironment.makeScratchDirectory("aiosmtpd")
    var arguments = [
      "--host", host, "--port", "0", "--maildir", directory.appendingPathComponent("maildir").path,
      "--mode", mode.rawValue, authRequireTLS ? "--auth-require-tls" : "--no-auth-require-tls",
    ]
    if mode != .plain || certificate != nil {
      let pair = try certificate ?? TestCertificates.shared().leaf
      arguments += ["--cert", pair.certificate.path, "--key", pair.key.path]
    }
    if !advertiseStartTLS { arguments.append("--no-starttls") }
    if !eightBitMIME { arguments.append("--no-8bitmime") }
    if smtpUTF8 { arguments.append("--smtputf8") }
    for credential in auth { arguments += ["--auth", credential] }
    return try start(script: "aiosmtpd_server.py", arguments: arguments, host: host, python: python, in: directory)
  }

  /// Postfix's `smtp-sink` (started through `smtp_sink.py`), each transaction dumped to
  /// `directory/dump`: see `sinkDumps()`.
  static func smtpSink(host: String = "127.0.0.1") throws -> ServerProcess {
    let directory = try TestEnvironment.makeScratchDirectory("smtp-sink")
    return try start(
      script: "smtp_sink.py", arguments: ["--host", host, "--dump", directory.appendingPathComponent("dump").path],
      host: host, python: TestEnvironment.python, in: directory)
  }

  /// The transactions `smtp-sink` dumped: its `X-*-Args` lines, a Received line, then the message.
  func sinkDumps() throws -> [String] {
    let dump = directory.appendingPathComponent("dump")
    let names = try FileManager.default.contentsOfDirectory(atPath: dump.path).sorted()
    return try names.map { try String(contentsOf: dump.appendingPathComponent($0), encoding: .utf8) }
  }

  /// The fault server playing `scenario`; it logs every client line to `logFile`.
  static func fault(_ scenario: FaultScenario, host: String = "127.0.0.1") throws -> ServerProcess {
    let directory = try TestEnvironment.makeScratchDirectory("fault")
    let arguments = [
      "--host", host, "--port", "0", "--scenario", scenario.rawValue,
      "--log", directory.appendingPathComponent("log").path,
    ]
    return try start(
      script: "fault_server.py", arguments: arguments, host: host, python: TestEnvironment.python, in: directory)
  }

  static func start(
    script: String, arguments: [String], host: String, python: URL, in directory: URL,
    readyTimeout: Duration = .seconds(30)
  ) throws -> ServerProcess {
    let process = Process()
    process.executableURL = python
    process.arguments = [TestEnvironment.serversDirectory.appendingPathComponent(script).path] + arguments
    process.environment = TestEnvironment.pythonEnvironment
    let stdoutPipe = Pipe()
    let stderrURL = directory.appendingPathComponent("stderr")
    try Data().write(to: stderrURL)
    let stderrHandle = try FileHandle(forWritingTo: stderrURL)
    process.standardOutput = stdoutPipe
    process.standardError = stderrHandle
    process.standardInput = FileHandle.nullDevice
    do {
      try launchWithCleanSignalMask(process)
    } catch {
      try? stderrHandle.close()
      try? stdoutPipe.fileHandleForReading.close()
      try? stdoutPipe.fileHandleForWriting.close()
      throw HarnessError("cannot start \(python.path) \(script): \(error)")
    }
    // Our copy of the write end must go, or we would never see EOF when the server dies.
    try? stdoutPipe.fileHandleForWriting.close()
    let port: Int
    do {
      port = try readReadyLine(stdoutPipe.fileHandleForReading.fileDescriptor, timeout: readyTimeout)
    } catch {
      let server = ServerProcess(
        host: host, port: 0, directory: directory, process: process, stdoutPipe: stdoutPipe,
        stderrHandle: stderrHandle)
      let stderr = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
      server.stop()
      throw HarnessError("\(script) \(arguments.joined(separator: " ")) did not start: \(error)\n\(stderr)")
    }
    return ServerProcess(
      host: host, port: port, directory: directory, process: process, stdoutPipe: stdoutPipe,
      stderrHandle: stderrHandle)
  }

  private init(
    host: String, port: Int, directory: URL, process: Process, stdoutPipe: Pipe, stderrHandle: FileHandle
  ) {
    self.host = host
    self.port = port
    self.directory = directory
    self.process = process
    self.stdoutPipe = stdoutPipe
    self.stderrHandle = stderrHandle
  }

  /// Reads the server's stdout until a line `READY <port>`, within `timeout`.
  private static func readReadyLine(_ fd: Int32, timeout: Duration) throws -> Int {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1024)
    while true {
      if let newline = output.firstIndex(of: UInt8(ascii: "\n")) {
        let line = String(decoding: output[..<newline], as: UTF8.self)
        let parts = line.split(separator: " ")
        guard parts.count == 2, parts[0] == "READY", let port = Int(parts[1]), port > 0 else {
          throw HarnessError("expected READY <port>, got \(line.debugDescription)")
        }
        return port
      }
      let remaining = clock.now.duration(to: deadline)
      guard remaining > .zero else {
        throw HarnessError("no READY line within \(timeout)")
      }
      var pollDescriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let ready = poll(&pollDescriptor, 1, Int32(clamping: max(1, remaining.inMilliseconds)))
      if ready < 0 && errno == EINTR { continue }
      guard ready > 0 else { continue }
      let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else {
        throw HarnessError("the server exited before READY (stdout: \(String(decoding: output, as: UTF8.self)))")
      }
      output += chunk[..<count]
    }
  }

  // MARK: Stopping

  /// SIGTERM by pid, up to 3 s to exit, then SIGKILL; closes handles and removes the folder.
  /// Safe to call more than once.
  func stop() {
    let alreadyStopped = lock.withLock {
      defer { stopped = true }
      return stopped
    }
    if alreadyStopped { return }
    signalChild(process, SIGTERM)
    if !waitForExit(within: .seconds(3)) {
      signalChild(process, SIGKILL)
      _ = waitForExit(within: .seconds(3))
    }
    try? stdoutPipe.fileHandleForReading.close()
    try? stderrHandle.close()
    if ProcessInfo.processInfo.environment["MSC_SEND_TEST_KEEP"] != "1" {
      try? FileManager.default.removeItem(at: directory)
    }
  }

  /// Whether the server process is still alive.
  var isRunning: Bool { process.isRunning }

  /// How the stopped server ended: `0` when it handled SIGTERM and exited cleanly, 128 + signal
  /// when a signal (SIGKILL after an ignored SIGTERM) ended it, nil while it runs.
  var exitStatus: Int32? {
    guard !process.isRunning else { return nil }
    return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
  }

  private func waitForExit(within timeout: Duration) -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while process.isRunning, clock.now < deadline {
      usleep(5_000)
    }
    return !process.isRunning
  }

  // MARK: What the server saw

  /// The messages aiosmtpd accepted, in order. A message's `.json` is written last (by rename), so
  /// only complete messages are listed; it exists before the server replies `250` to the final dot.
  func deliveredMessages() throws -> [DeliveredMessage] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: maildir.path)) ?? []
    let numbers = names.compactMap { name -> Int? in
      name.hasSuffix(".json") ? Int(name.dropLast(".json".count)) : nil
    }.sorted()
    return try numbers.map { number in
      let json = try Data(contentsOf: maildir.appendingPathComponent("\(number).json"))
      let eml = try Data(contentsOf: maildir.appendingPathComponent("\(number).eml"))
      let envelope = try JSONDecoder().decode(DeliveredMessage.Envelope.self, from: json)
      return DeliveredMessage(number: number, bytes: Array(eml), envelope: envelope)
    }
  }

  /// The fault server's log lines (`C: ...` client lines, `S: ...` events).
  func logLines() -> [String] {
    guard let data = try? Data(contentsOf: logFile) else { return [] }
    return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
      .dropLast().map(String.init)
  }

  /// Every line the client sent, as received (CRLF stripped, other bytes escaped `\xNN`).
  func clientLines() -> [String] {
    logLines().compactMap { $0.hasPrefix("C: ") ? String($0.dropFirst(3)) : nil }
  }

  /// Every transaction the fault server accepted.
  func transactions() -> [FaultTransaction] {
    logLines().compactMap { line -> FaultTransaction? in
      guard line.hasPrefix("S: transaction ") else { return nil }
      var fields: [String: String] = [:]
      let words = line.dropFirst("S: transaction ".count).split(separator: " ")
      for word in words.dropFirst() {
        let pair = word.split(separator: "=", maxSplits: 1)
        if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
      }
      guard let number = words.first.flatMap({ Int($0) }), let from = fields["from"], let to = fields["to"],
        let size = fields["size"].flatMap({ Int($0) })
      else { return nil }
      return FaultTransaction(
        number: number, from: from, recipients: to.split(separator: ",").map(String.init), size: size)
    }
  }

  /// Every accepted transaction's arrival time (taken after the final dot), in log order.
  func arrivals() -> [FaultArrival] {
    logLines().compactMap { line -> FaultArrival? in
      guard line.hasPrefix("S: transaction ") else { return nil }
      var fields: [String: String] = [:]
      for word in line.split(separator: " ") {
        let pair = word.split(separator: "=", maxSplits: 1)
        if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
      }
      guard let time = fields["at"].flatMap(Double.init), let to = fields["to"] else { return nil }
      return FaultArrival(time: time, recipients: to.split(separator: ",").map(String.init))
    }
  }

  /// Waits (bounded, polling) until the log has a line satisfying `predicate`, e.g. `S: closed` after
  /// the client went away, so what the client sent last is surely logged. Returns whether it came.
  @discardableResult
  func waitForLog(timeout: Duration = .seconds(5), _ predicate: (String) -> Bool) async throws -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
      if logLines().contains(where: predicate) { return true }
      try await Task.sleep(for: .milliseconds(20))
    }
    return logLines().contains(where: predicate)
  }

  /// Waits until every connection the server saw has ended (as many `S: closed` as `S: connected`).
  @discardableResult
  func waitForAllConnectionsClosed(timeout: Duration = .seconds(5)) async throws -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    repeat {
      let lines = logLines()
      let opened = lines.filter { $0 == "S: connected" }.count
      if opened > 0, lines.filter({ $0 == "S: closed" }).count == opened { return true }
      try await Task.sleep(for: .milliseconds(20))
    } while clock.now < deadline
    return false
  }
}
