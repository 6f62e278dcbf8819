import Foundation

/// Where the CLI writes. Passed around as a value so tests capture output and no code touches
/// global mutable state (Swift 6 strict concurrency).
public protocol Console: AnyObject, Sendable {
  /// Data for scripts (stdout).
  func out(_ text: String)
  /// Diagnostics, warnings, progress (stderr).
  func err(_ text: String)
  /// Whether stderr is a terminal (colour, countdowns).
  var stderrIsTerminal: Bool { get }
}

/// The real process console.
public final class StandardConsole: Console {
  public init() {}
  public func out(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }
  public func err(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
  public var stderrIsTerminal: Bool { isatty(2) == 1 }
}

/// A console that records everything, for in-process CLI tests.
public final class CapturingConsole: Console, @unchecked Sendable {
  private let lock = NSLock()
  private var outText = ""
  private var errText = ""
  public init() {}
  public func out(_ text: String) { lock.withLock { outText += text } }
  public func err(_ text: String) { lock.withLock { errText += text } }
  public var stderrIsTerminal: Bool { false }
  public var stdout: String { lock.withLock { outText } }
  public var stderr: String { lock.withLock { errText } }
}
