/// A small, strict command-line parser: `--name value`, `--name=value`, short flags (`-v`),
/// repeatable options, `--` to end options. Unknown options are usage errors with the nearest
/// known option suggested.
struct OptionSpec: Sendable {
  let names: [String]
  let takesValue: Bool
  let repeatable: Bool
  let valueName: String
  let help: String

  static func flag(_ names: String..., help: String) -> OptionSpec {
    OptionSpec(names: names, takesValue: false, repeatable: false, valueName: "", help: help)
  }

  static func value(_ names: String..., valueName: String, repeatable: Bool = false, help: String) -> OptionSpec {
    OptionSpec(names: names, takesValue: true, repeatable: repeatable, valueName: valueName, help: help)
  }

  /// The long name when there is one: lookups use it whatever spelling was typed.
  var key: String { names.first { $0.hasPrefix("--") } ?? names[0] }
}

struct ParsedArguments: Sendable {
  var values: [String: [String]] = [:]
  var flags: Set<String> = []
  var positionals: [String] = []

  func value(_ name: String) -> String? { values[name]?.last }
  func all(_ name: String) -> [String] { values[name] ?? [] }
  func has(_ name: String) -> Bool { flags.contains(name) || values[name] != nil }
}

/// A usage error: exit 64 with the command's usage line.
struct UsageError: Error, Sendable, Equatable {
  let message: String
  let hint: String?
  init(_ message: String, hint: String? = nil) {
    self.message = message
    self.hint = hint
  }
}

enum ArgumentParser {
  static func parse(_ arguments: [String], options: [OptionSpec], allowsPositionals: Bool = true) throws(UsageError)
    -> ParsedArguments
  {
    var byName: [String: OptionSpec] = [:]
    for spec in options { for name in spec.names { byName[name] = spec } }
    var result = ParsedArguments()
    var index = 0
    var optionsEnded = false
    while index < arguments.count {
      let argument = arguments[index]
      index += 1
      if optionsEnded || !argument.hasPrefix("-") || argument == "-" {
        guard allowsPositionals else { throw UsageError("unexpected argument \"\(argument)\"") }
        result.positionals.append(argument)
        continue
      }
      if argument == "--" {
        optionsEnded = true
        continue
      }
      var name = argument
      var inlineValue: String?
      if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
        name = String(argument[..<equals])
        inlineValue = String(argument[argument.index(after: equals)...])
      }
      guard let spec = byName[name] else {
        let suggestion = Suggestion.nearest(to: name, in: Array(byName.keys)).map { "did you mean \($0)?" }
        throw UsageError("unknown option \(name)", hint: suggestion)
      }
      if spec.takesValue {
        let value: String
        if let inlineValue {
          value = inlineValue
        } else {
          guard index < arguments.count else { throw UsageError("\(name) needs a value (\(spec.valueName))") }
          value = arguments[index]
          index += 1
        }
        if !spec.repeatable, result.values[spec.key] != nil {
          throw UsageError("\(spec.key) given more than once")
        }
        result.values[spec.key, default: []].append(value)
      } else {
        guard inlineValue == nil else { throw UsageError("\(name) takes no value") }
        result.flags.insert(spec.key)
      }
    }
    return result
  }

  /// Help text lines for a list of options, aligned.
  static func helpText(for options: [OptionSpec]) -> String {
    let rows = options.map { spec -> (String, String) in
      let names = spec.names.joined(separator: ", ") + (spec.takesValue ? " \(spec.valueName)" : "")
      return (names, spec.help)
    }
    let width = min(34, rows.map(\.0.count).max() ?? 0)
    return rows.map { names, help in
      // Names longer than the column (capped at 34) put their help on the next line, aligned.
      let padding =
        names.count <= width
        ? String(repeating: " ", count: width - names.count) : "\n" + String(repeating: " ", count: width + 2)
      return "  \(names)\(padding)  \(help)"
    }.joined(separator: "\n")
  }
}

/// "Did you mean" suggestions by edit distance.
enum Suggestion {
  static func nearest(to word: String, in candidates: [String]) -> String? {
    let scored = candidates.map { ($0, distance(word.lowercased(), $0.lowercased())) }
    guard let best = scored.min(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }) else { return nil }
    return best.1 <= max(2, word.count / 3) ? best.0 : nil
  }

  /// Levenshtein distance.
  static func distance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
      current[0] = i
      for j in 1...b.count {
        current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
      }
      swap(&previous, &current)
    }
    return previous[b.count]
  }
}
