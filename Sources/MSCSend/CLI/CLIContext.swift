import Foundation

/// Everything a command needs from the outside world, injectable so that commands run
/// in-process in tests.
public struct CLIContext {
  public var environment: [String: String]
  public var console: Console
  /// Reads all of standard input.
  public var readStandardInput: () -> [UInt8]
  public var standardInputIsTerminal: Bool
  public var connector: SMTPConnector
  public var composeEnvironment: ComposeEnvironment

  public init(
    environment: [String: String], console: Console,
    readStandardInput: @escaping () -> [UInt8] = { Array(FileHandle.standardInput.readDataToEndOfFile()) },
    standardInputIsTerminal: Bool = isatty(0) == 1,
    connector: @escaping SMTPConnector = SMTPSubmission.socketConnector,
    composeEnvironment: ComposeEnvironment = .live
  ) {
    self.environment = environment
    self.console = console
    self.readStandardInput = readStandardInput
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
