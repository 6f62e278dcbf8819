/// Loading the configuration for the commands that need it, with errors reported the same way
/// everywhere (exit 78, `file:line:col: message`).
enum ConfigSupport {
  enum Loaded {
    case success(Configuration?)
    case failure(ExitCode)
  }

  /// The explicit file, else the located one, else the embedded default; nil only when not `needed`.
  static func loadIfNeeded(explicit: String?, needed: Bool, context: CLIContext) -> Loaded {
    guard needed || explicit != nil else { return .success(nil) }
    guard let path = ConfigLoader.locate(explicit: explicit, environment: context.environment) else {
      return .success(ConfigLoader.embeddedDefault(environment: context.environment))
    }
    do throws(ConfigError) {
      return .success(try ConfigLoader.load(path: path, environment: context.environment))
    } catch {
      context.error(error.description, hint: error.hint)
      return .failure(.config)
    }
  }

  /// Like `loadIfNeeded(needed: true)`, never nil on success.
  static func load(explicit: String?, context: CLIContext) -> Configuration? {
    if case .success(let configuration?) = loadIfNeeded(explicit: explicit, needed: true, context: context) {
      return configuration
    }
    return nil
  }
}
