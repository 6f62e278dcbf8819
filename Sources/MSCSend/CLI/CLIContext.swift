import Foundation

/// Everything a command needs from the outside world, injectable so that commands run
/// in-process in tests.
public struct CLIContext {
  public var environment: [String: String]
  public var console: Console
  /// Reads all of standard input.
  public var readStandardInput: () -> [UInt8]
  /// Reads the next chunk of standard input, empty at its end: for input that may be too large
  /// to hold (sendmail mode spools the body to disk as it reads).
  public var readStandardInputChunk: () -> [UInt8]
  public var standardInputIsTerminal: Bool
  public var connector: SMTPConnector
  public var composeEnvironment: ComposeEnvironment

  public init(
    environment: [String: String], console: Console,
    readStandardInput: (() -> [UInt8])? = nil,
    standardInputIsTerminal: Bool = isatty(0) == 1,
    connector: @escaping SMTPConnector = SMTPSubmission.socketConnector,
    composeEnvironment: ComposeEnvironment = .live
  ) {
    self.environment = environment
    self.console = console
    if let readStandardInput {
      // Injected input (tests): the chunk reader hands it over in one piece.
      self.readStandardInput = readStandardInput
      let delivered = Delivered()
      self.readStandardInputChunk = { delivered.once(readStandardInput) }
    } else {
      self.readStandardInput = { Array(FileHandle.standardInput.readDataToEndOfFile()) }
      self.readStandardInputChunk = { Array(FileHandle.standardInput.readData(ofLength: 65_536)) }
    }
    self.standardInputIsTerminal = standardInputIsTerminal
    self.connector = connector
    self.composeEnvironment = composeEnvironment
  }

  /// `msc-send: error: what` plus an optional hint line, on stderr.
  func error(_ message: String, hint: String? = nil) {
    console.err("msc-send: error: \(message)\n")
    if let hint { console.err("hint: \(hint)\n") }
  }

  func warning(_ message: String) {
    console.err("msc-send: warning: \(message)\n")
  }
}

/// Gives a value the first time only, then empty input.
private final class Delivered {
  private var done = false

  func once(_ read: () -> [UInt8]) -> [UInt8] {
    if done { return [] }
    done = true
    return read()
  }
}
