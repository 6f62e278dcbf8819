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

  private static func runCommand(_ command: String, environment: [String: String], timeoutSeconds: Double)
    throws(SecretError) -> String
  {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    process.standardInput = FileHandle.nullDevice
    do {
      try process.run()
    } catch {
      throw SecretError("cannot run `\(command)`: \(error.localizedDescription)")
    }
    // Read before waiting so that a large output cannot fill the pipe and block the child.
    let reader = output.fileHandleForReading
    let deadline = Deadline.after(seconds: timeoutSeconds)
    var data = Data()
    while true {
      let chunk = reader.availableData
      if chunk.isEmpty { break }
      if data.count < 1_048_576 { data.append(chunk) }
      if deadline.hasPassed { break }
    }
    while process.isRunning && !deadline.hasPassed { usleep(10_000) }
    if process.isRunning {
      process.terminate()
      throw SecretError("`\(command)` did not finish within \(Int(timeoutSeconds)) s")
    }
    guard process.terminationStatus == 0 else {
      throw SecretError("`\(command)` failed with exit status \(process.terminationStatus)")
    }
    let text = String(decoding: data, as: UTF8.self)
    let firstLine = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map {
      $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
    } ?? ""
    guard !firstLine.isEmpty else { throw SecretError("`\(command)` printed nothing") }
    return firstLine
  }
}

public struct SecretError: Error, Sendable, Equatable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
