/// Entry point of the CLI as a library function, so most CLI tests run in-process.
public enum CommandLineInterface {
  public static let version = "0.1.0"

  public static func run(arguments: [String], environment: [String: String], console: Console) -> ExitCode {
    console.out("msc-send \(version)\n")
    return .ok
  }
}
