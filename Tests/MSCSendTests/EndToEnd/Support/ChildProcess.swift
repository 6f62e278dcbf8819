import Foundation

/// What a finished child process left behind.
struct ProcessResult: Sendable {
  /// The exit status, or 128 + the signal number when a signal ended it (as a shell reports it).
  let exit: Int32
  let stdout: String
  let stderr: String
  /// Wall time from launch to exit.
  let elapsed: Duration
  /// The process outlived its timeout and was killed (SIGKILL).
  let timedOut: Bool

  var elapsedSeconds: Double { elapsed.inSeconds }

  /// Everything the process printed, for failure messages.
  var transcript: String {
    let ending = timedOut ? "killed after its timeout" : "exit \(exit)"
    return "\(ending) after \(elapsed)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)"
  }
}

/// Runs a program to completion with a hard timeout: stdout and stderr go to files (a chatty child can
/// never block on a full pipe), stdin comes from `stdin` or is empty (never the test runner's own).
/// Waits by polling every few milliseconds, so a suspended test gives its thread back.
func runProcess(
  _ executable: URL, arguments: [String], environment: [String: String]? = nil,
  stdin: Data? = nil, workingDirectory: URL? = nil, timeout: Duration
) async throws -> ProcessResult {
  let child = try LaunchedChild(
    executable, arguments: arguments, environment: environment, stdin: stdin, workingDirectory: workingDirectory)
  defer { child.cleanUp() }
  while child.process.isRunning, child.clock.now < child.deadline(timeout) {
    try await Task.sleep(for: .milliseconds(5))
  }
  return child.finish(timeout: timeout)
}

/// The same as `runProcess`, blocking the calling thread: for one-time set-up (certificates, the
/// Python check) that runs inside lazily initialised `static let`s.
func runProcessBlocking(
  _ executable: URL, arguments: [String], environment: [String: String]? = nil,
  stdin: Data? = nil, workingDirectory: URL? = nil, timeout: Duration
) throws -> ProcessResult {
  let child = try LaunchedChild(
    executable, arguments: arguments, environment: environment, stdin: stdin, workingDirectory: workingDirectory)
  defer { child.cleanUp() }
  while child.process.isRunning, child.clock.now < child.deadline(timeout) {
    usleep(5_000)
  }
  return child.finish(timeout: timeout)
}

/// One launched child and the files it writes to.
private final class LaunchedChild {
  let process = Process()
  let clock = ContinuousClock()
  let started: ContinuousClock.Instant
  private let directory: URL
  private let outputHandle: FileHandle
  private let errorHandle: FileHandle
  private let inputHandle: FileHandle

  init(
    _ executable: URL, arguments: [String], environment: [String: String]?, stdin: Data?, workingDirectory: URL?
  ) throws {
    directory = try TestEnvironment.makeScratchDirectory("child")
    let outputURL = directory.appendingPathComponent("stdout")
    let errorURL = directory.appendingPathComponent("stderr")
    let inputURL = directory.appendingPathComponent("stdin")
    try Data().write(to: outputURL)
    try Data().write(to: errorURL)
    try (stdin ?? Data()).write(to: inputURL)
    outputHandle = try FileHandle(forWritingTo: outputURL)
    errorHandle = try FileHandle(forWritingTo: errorURL)
    inputHandle = try FileHandle(forReadingFrom: inputURL)
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let workingDirectory { process.currentDirectoryURL = workingDirectory }
    process.standardOutput = outputHandle
    process.standardError = errorHandle
    process.standardInput = inputHandle
    started = clock.now
    do {
      try launchWithCleanSignalMask(process)
    } catch {
      cleanUp()
      throw HarnessError("cannot start \(executable.path): \(error)")
    }
  }

  func deadline(_ timeout: Duration) -> ContinuousClock.Instant { started.advanced(by: timeout) }

  /// Kills the child if it is still running (timeout), waits for it to be reaped, collects output.
  func finish(timeout: Duration) -> ProcessResult {
    let timedOut = process.isRunning
    if timedOut {
      signalChild(process, SIGKILL)
    }
    // After SIGKILL the child is gone at once; bound the wait for Foundation to reap it anyway.
    let reapDeadline = clock.now.advanced(by: .seconds(5))
    while process.isRunning, clock.now < reapDeadline {
      usleep(2_000)
    }
    let elapsed = clock.now - started
    let exit: Int32
    if process.isRunning {
      exit = -1
    } else if process.terminationReason == .uncaughtSignal {
      exit = 128 + process.terminationStatus
    } else {
      exit = process.terminationStatus
    }
    let stdout = (try? Data(contentsOf: directory.appendingPathComponent("stdout"))) ?? Data()
    let stderr = (try? Data(contentsOf: directory.appendingPathComponent("stderr"))) ?? Data()
    return ProcessResult(
      exit: exit, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self),
      elapsed: elapsed, timedOut: timedOut)
  }

  /// Closes every handle and removes the output files; a child still running (the waiting task was
  /// cancelled) is killed first.
  func cleanUp() {
    signalChild(process, SIGKILL)
    try? outputHandle.close()
    try? errorHandle.close()
    try? inputHandle.close()
    try? FileManager.default.removeItem(at: directory)
  }
}

/// `process.run()` with this thread's signal mask emptied for the moment of the launch.
///
/// Foundation's `Process` on Linux hands the calling thread's signal mask to the child
/// (swift-corelibs-foundation issue 4772), and Dispatch worker threads, where async tests run,
/// block nearly every signal: the child would start with SIGTERM blocked, so a server could not be
/// stopped gracefully, and msc-send would run in a signal state no user's shell ever gives it.
func launchWithCleanSignalMask(_ process: Process) throws {
  var empty = sigset_t()
  var saved = sigset_t()
  sigemptyset(&empty)
  pthread_sigmask(SIG_SETMASK, &empty, &saved)
  defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
  try process.run()
}

/// Sends `signal` to the child by its own pid, only while it runs: pid 0 or -1 (a process never
/// launched) would signal our whole process group, or everything we may signal.
func signalChild(_ process: Process, _ signal: Int32) {
  let pid = process.processIdentifier
  if pid > 0, process.isRunning {
    kill(pid, signal)
  }
}

extension Duration {
  var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
  var inMilliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
