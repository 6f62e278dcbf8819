import Foundation

/// Where a password or token comes from. Literals are allowed only from a config file that is
/// not group- or world-readable (the config loader checks that); the CLI never takes one.
public enum SecretSource: Sendable, Equatable, CustomStringConvertible {
  case environment(String)
  /// Run with `sh -c`; the first line of its output is the secret.
  case command(String)
  case literal(String)

  /// Where the secret comes from, never the secret itself (for `channels`, errors, logs).
  public var description: String {
    switch self {
    case .environment(let name): "environment variable \(name)"
    case .command(let command): "command `\(command)`"
    case .literal: "literal in the config file"
    }
  }

  /// Reads the secret. Failures are configuration errors (exit 78).
  public func resolve(environment: [String: String], timeoutSeconds: Double = 120) throws(SecretError) -> String {
    switch self {
    case .literal(let value):
      return value
    case .environment(let name):
      guard let value = environment[name], !value.isEmpty else {
        throw SecretError("environment variable \(name) is not set or empty")
      }
      return value
    case .command(let command):
      return try Self.runCommand(command, environment: environment, timeoutSeconds: timeoutSeconds)
    }
  }

  /// Runs `sh -c command` and returns the first line of its output, within `timeoutSeconds`.
  ///
  /// posix_spawn rather than Foundation's Process: the child stays in our process group, so a
  /// command that prompts on the terminal (gpg's pinentry-tty, `read -s </dev/tty`) can read it
  /// instead of being stopped by SIGTTIN, and Ctrl-C reaches it; SIGPIPE gets its default action
  /// back (we ignore it). stdin is /dev/null (ours may carry the message), stderr is ours (the
  /// command's prompts and errors reach the user). The output is read with poll until the first
  /// line, end of output or the deadline, so neither silence nor a background child that keeps the
  /// pipe open can hold us.
  private static func runCommand(_ command: String, environment: [String: String], timeoutSeconds: Double)
    throws(SecretError) -> String
  {
    let deadline = Deadline.after(seconds: timeoutSeconds)
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { throw SecretError("cannot run `\(command)`: no pipe") }
    // Neither end may leak into other children; the child gets the write end through dup2.
    _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    let readEnd = fds[0]
    defer { close(readEnd) }
    let pid: pid_t
    do {
      pid = try spawnShell(command, stdout: fds[1], environment: environment)
    } catch {
      close(fds[1])
      throw error
    }
    close(fds[1])

    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    reading: while !output.contains(0x0a) && output.count < 65_536 {
      var pollFD = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
      let ready = poll(&pollFD, 1, deadline.remainingMilliseconds)
      if ready < 0 && errno == EINTR { continue }
      guard ready > 0 else { break reading }  // deadline
      let count = read(readEnd, &buffer, buffer.count)
      if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
      guard count > 0 else { break reading }  // end of output
      output += buffer[0..<count]
    }
    guard let status = waitForExit(pid, deadline: deadline) else {
      kill(pid, SIGKILL)
      var ignored: Int32 = 0
      _ = waitpid(pid, &ignored, 0)
      throw SecretError("`\(command)` did not finish within \(Int(timeoutSeconds)) s")
    }
    let exited = status & 0x7f == 0
    let exitStatus = (status >> 8) & 0xff
    guard exited && exitStatus == 0 else {
      throw SecretError(
        exited ? "`\(command)` failed with exit status \(exitStatus)" : "`\(command)` was killed by signal \(status & 0x7f)")
    }
    let firstLine = output.split(separator: 0x0a, maxSplits: 1, omittingEmptySubsequences: false).first.map {
      String(decoding: $0.last == 0x0d ? $0.dropLast() : $0, as: UTF8.self)
    } ?? ""
    guard !firstLine.isEmpty else { throw SecretError("`\(command)` printed nothing") }
    return firstLine
  }

  private static func spawnShell(_ command: String, stdout: Int32, environment: [String: String])
    throws(SecretError) -> pid_t
  {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, stdout, 1)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGPIPE)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    var mask = sigset_t()
    sigemptyset(&mask)
    posix_spawnattr_setsigmask(&attributes, &mask)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

    let words: [String] = ["/bin/sh", "-c", command]
    let arguments: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) }
    let variables: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") }
    defer { (arguments + variables).forEach { free($0) } }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, "/bin/sh", &actions, &attributes, arguments + [nil], variables + [nil])
    guard result == 0 else {
      throw SecretError("cannot run `\(command)`: \(String(cString: strerror(result)))")
    }
    return pid
  }

  /// The wait status once the child has exited, or nil at the deadline.
  private static func waitForExit(_ pid: pid_t, deadline: Deadline) -> Int32? {
    var status: Int32 = 0
    while true {
      let result = waitpid(pid, &status, WNOHANG)
      if result == pid { return status }
      if result < 0 && errno != EINTR { return 0x7f00 }  // not our child any more: treat as failed
      if deadline.hasPassed { return nil }
      usleep(5_000)
    }
  }
}

public struct SecretError: Error, Sendable, Equatable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
