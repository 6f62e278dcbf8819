import Dispatch
import Foundation
import Glibc

@testable import MSCSend

/// A value shared with server threads.
final class Locked<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: Value
  init(_ value: Value) { stored = value }
  var value: Value { lock.withLock { stored } }
  func update(_ body: (inout Value) -> Void) { lock.withLock { body(&stored) } }
}

/// A `SinkServer` on a loopback address with a kernel-chosen port, run in-process on a background
/// thread. Tests call `stop()` in a `defer`; it waits (bounded) for the accept loop to end.
final class InProcessSink {
  let server: SinkServer
  let records = Locked<[SinkRecord]>([])
  let diagnostics = Locked<[String]>([])
  private let finished = DispatchSemaphore(value: 0)
  private var stopped = false

  init(
    host: String = "127.0.0.1", maildir: String? = nil, tls: TLSServerContext? = nil, maxMessages: Int? = nil,
    idleTimeout: Double = 10, maxConnections: Int = 16
  ) throws {
    guard let address = SocketAddress(numericHost: host, port: 0) else { throw ToolError(description: "bad host") }
    var configuration = SinkServer.Configuration(listenAddress: address)
    configuration.maildir = maildir
    configuration.tls = tls
    configuration.maxMessages = maxMessages
    configuration.idleTimeout = idleTimeout
    configuration.maxConnections = maxConnections
    configuration.stopGrace = 0.5
    let records = records
    let diagnostics = diagnostics
    server = try SinkServer(
      configuration: configuration, report: { record in records.update { $0.append(record) } },
      diagnostic: { text in diagnostics.update { $0.append(text) } })
    let server = server
    let finished = finished
    let thread = Thread {
      server.run()
      finished.signal()
    }
    thread.start()
  }

  deinit { stop() }

  var port: UInt16 { server.address.port }

  /// Whether `run()` returned within `timeout` seconds (after `stop()` or `maxMessages`).
  func waitUntilFinished(timeout: Double) -> Bool {
    guard !stopped else { return true }
    stopped = finished.wait(timeout: .now() + timeout) == .success
    return stopped
  }

  func stop() {
    guard !stopped else { return }
    server.stop()
    _ = waitUntilFinished(timeout: 5)
  }
}

/// The built `msc-send sink` as a child process listening on a loopback port 0. Output goes to
/// files in `directory`, read by polling: every wait is bounded.
final class SinkProcess {
  let process: Process
  let port: UInt16
  let directory: String
  private var stdoutPath: String { directory + "/sink.out" }
  private var stderrPath: String { directory + "/sink.err" }

  init(_ arguments: [String], listen: String = "127.0.0.1:0", directory: String) throws {
    self.directory = directory
    let executable = Bundle.main.bundleURL.appendingPathComponent("msc-send")
    let process = Process()
    process.executableURL = executable
    process.arguments = ["sink", "--listen", listen] + arguments
    guard FileManager.default.createFile(atPath: directory + "/sink.out", contents: nil),
      FileManager.default.createFile(atPath: directory + "/sink.err", contents: nil),
      let out = FileHandle(forWritingAtPath: directory + "/sink.out"),
      let err = FileHandle(forWritingAtPath: directory + "/sink.err")
    else { throw ToolError(description: "cannot create output files in \(directory)") }
    defer {
      try? out.close()
      try? err.close()
    }
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    do { try process.run() } catch { throw ToolError(description: "cannot start \(executable.path): \(error)") }
    self.process = process
    let deadline = Deadline.after(seconds: 10)
    var port: UInt16?
    while port == nil && process.isRunning && !deadline.hasPassed {
      let text = (try? String(contentsOfFile: directory + "/sink.err", encoding: .utf8)) ?? ""
      if let line = text.split(separator: "\n").first(where: { $0.contains("listening on") }),
        let colon = line.lastIndex(of: ":")
      {
        port = UInt16(line[line.index(after: colon)...])
      } else {
        usleep(10_000)
      }
    }
    guard let port else {
      Self.terminate(process)
      let text = (try? String(contentsOfFile: directory + "/sink.err", encoding: .utf8)) ?? ""
      throw ToolError(description: "the sink did not announce its port: \(text)")
    }
    self.port = port
  }

  deinit { stop() }

  var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
  var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

  /// The exit status once the process has ended within `timeout` seconds, else nil.
  func waitForExit(timeout: Double) -> Int32? {
    let deadline = Deadline.after(seconds: timeout)
    while process.isRunning && !deadline.hasPassed { usleep(5_000) }
    return process.isRunning ? nil : process.terminationStatus
  }

  func stop() { Self.terminate(process) }

  /// SIGTERM to its own pid, then SIGKILL after 2 s (a test runner's child may have SIGTERM blocked).
  private static func terminate(_ process: Process) {
    guard process.isRunning else { return }
    kill(process.processIdentifier, SIGTERM)
    let deadline = Deadline.after(seconds: 2)
    while process.isRunning && !deadline.hasPassed { usleep(5_000) }
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      let last = Deadline.after(seconds: 2)
      while process.isRunning && !last.hasPassed { usleep(5_000) }
    }
  }
}

/// A fresh temporary directory; the caller removes it.
func makeTemporaryDirectory(_ label: String) throws -> String {
  let path = NSTemporaryDirectory() + "msc-send-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// Reads from `transport` until the text read ends with `suffix` or `timeout` passes.
func readUntil(_ transport: SocketTransport, suffix: String, timeout: Double) throws -> String {
  var received: [UInt8] = []
  let deadline = Deadline.after(seconds: timeout)
  while !String(decoding: received, as: UTF8.self).hasSuffix(suffix) {
    let chunk = try transport.read(maxCount: 4096, deadline: deadline)
    if chunk.isEmpty { break }
    received += chunk
  }
  return String(decoding: received, as: UTF8.self)
}
