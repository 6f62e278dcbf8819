/// A configuration problem, located so that an editor can jump to it (`file:line:col: message`)
/// and explained so that the user can fix it without reading the source (`hint`). Every one of
/// them ends the process with EX_CONFIG (78).
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
  public var file: String
  /// Where the offending key or value was written; nil when the file as a whole is the problem
  /// (it cannot be read).
  public var position: SourcePosition?
  public var message: String
  public var hint: String?

  public init(file: String, position: SourcePosition?, message: String, hint: String? = nil) {
    self.file = file
    self.position = position
    self.message = message
    self.hint = hint
  }

  /// A TOML syntax error passes through unchanged: the parser already says what and where.
  init(_ error: TOMLError, file: String) {
    self.init(file: file, position: error.position, message: error.message)
  }

  /// `file:line:col: message`, the form compilers use; `file: message` without a position.
  public var description: String {
    if let position { "\(file):\(position): \(message)" } else { "\(file): \(message)" }
  }
}
