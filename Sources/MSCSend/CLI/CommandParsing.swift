import Foundation

/// The steps every command's entry shares: parse, answer `--help`, report usage errors (exit 64
/// with the usage line).
enum CommandParsing {
  enum Outcome {
    case parsed(ParsedArguments)
    case exit(ExitCode)
  }

  static func parse(
    _ arguments: [String], options: [OptionSpec], usage: String, summary: String, allowsPositionals: Bool = false,
    context: CLIContext
  ) -> Outcome {
    do throws(UsageError) {
      let parsed = try ArgumentParser.parse(arguments, options: options, allowsPositionals: allowsPositionals)
      if parsed.has("--help") {
        context.console.out("\(usage)\n\n\(summary)\n\nOptions:\n\(ArgumentParser.helpText(for: options))\n")
        return .exit(.ok)
      }
      return .parsed(parsed)
    } catch {
      context.error(error.message, hint: error.hint ?? usage)
      return .exit(.usage)
    }
  }
}

/// JSON with sorted keys, for stable script output.
enum JSONOutput {
  static func render(_ object: Any) -> String {
    guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    else { return "{}" }
    return String(decoding: data, as: UTF8.self)
  }
}

extension CLIContext {
  /// One JSON object on stdout.
  func printJSON(_ object: Any) {
    console.out(JSONOutput.render(object) + "\n")
  }
}
