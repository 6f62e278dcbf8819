/// One table of the config file seen through its schema: the keys it may hold and the type of
/// each value. Every mismatch becomes a `ConfigError` that names the key by its dotted path
/// (`channels.work.port`) and points at the key (unknown keys) or at the value (wrong values),
/// so that `file:line:col` leads straight to what must change.
struct ConfigTable {
  let table: TOMLTable
  /// Dotted path of the table: "" for the root, "defaults", "channels.work".
  let path: String
  let file: String

  /// A value with the places it was written.
  struct Located<Value> {
    var value: Value
    var position: SourcePosition
    var keyPosition: SourcePosition
  }

  /// The table as the user wrote it, for "unknown key ... in [channels.work]".
  var displayName: String { path.isEmpty ? "at the top level" : "in [\(path)]" }

  func keyPath(_ key: String) -> String {
    let quoted = Self.isBareKey(key) ? key : "\"\(key)\""
    return path.isEmpty ? quoted : "\(path).\(quoted)"
  }

  func error(at position: SourcePosition?, _ message: String, hint: String? = nil) -> ConfigError {
    ConfigError(file: file, position: position, message: message, hint: hint)
  }

  /// Refuses keys outside `known`, suggesting the nearest one: a misspelt key silently ignored
  /// would leave a channel on its defaults (say, the wrong server) without anyone noticing.
  func checkKeys(_ known: [String]) throws(ConfigError) {
    for entry in table.entries where !known.contains(entry.key) {
      let message = "unknown key \"\(entry.key)\" \(displayName)"
      if let nearest = Suggestion.nearest(to: entry.key, in: known) {
        throw error(at: entry.keyPosition, "\(message); did you mean \"\(nearest)\"?")
      }
      throw error(at: entry.keyPosition, message, hint: "known keys: \(known.joined(separator: ", "))")
    }
  }

  func has(_ key: String) -> Bool { table.entry(key) != nil }

  /// The value of `key` when it has the expected type; nil when the key is absent.
  private func value<Value>(
    _ key: String, expected: String, hint: String? = nil, _ extract: (TOMLValue) -> Value?
  ) throws(ConfigError) -> Located<Value>? {
    guard let entry = table.entry(key) else { return nil }
    guard let value = extract(entry.node.value) else {
      let found = entry.node.value.typeNameWithArticle
      throw error(at: entry.node.position, "\(keyPath(key)): expected \(expected), found \(found)", hint: hint)
    }
    return Located(value: value, position: entry.node.position, keyPosition: entry.keyPosition)
  }

  /// A string; empty strings are refused because no key of ours means anything by one.
  func string(_ key: String) throws(ConfigError) -> Located<String>? {
    let located = try value(key, expected: "a string") { if case .string(let text) = $0 { text } else { nil } }
    if let located, located.value.isEmpty { throw error(at: located.position, "\(keyPath(key)): must not be empty") }
    return located
  }

  func integer(_ key: String) throws(ConfigError) -> Located<Int64>? {
    try value(key, expected: "an integer") { if case .integer(let number) = $0 { number } else { nil } }
  }

  /// An integer or a float, for quantities such as seconds.
  func number(_ key: String) throws(ConfigError) -> Located<Double>? {
    try value(key, expected: "a number") {
      switch $0 {
      case .integer(let number): Double(number)
      case .float(let number): number
      default: nil
      }
    }
  }

  func boolean(_ key: String) throws(ConfigError) -> Located<Bool>? {
    try value(key, expected: "a boolean (true or false)") { if case .boolean(let flag) = $0 { flag } else { nil } }
  }

  func table(_ key: String, hint: String? = nil) throws(ConfigError) -> Located<ConfigTable>? {
    let path = keyPath(key)
    return try value(key, expected: "a table", hint: hint) {
      if case .table(let table) = $0 { ConfigTable(table: table, path: path, file: file) } else { nil }
    }
  }

  /// An array of strings, each with its own position so that a bad element can be pointed at.
  func stringArray(_ key: String) throws(ConfigError) -> Located<[TOMLNode]>? {
    guard
      let located = try value(
        key, expected: "an array of strings",
        { value -> [TOMLNode]? in
          if case .array(let nodes) = value { nodes } else { nil }
        })
    else { return nil }
    for node in located.value {
      guard case .string = node.value else {
        throw error(at: node.position, "\(keyPath(key)): expected a string, found \(node.value.typeNameWithArticle)")
      }
    }
    return located
  }

  /// Keys that need no quotes in TOML (A-Z a-z 0-9 - _).
  static func isBareKey(_ key: String) -> Bool {
    !key.isEmpty
      && key.unicodeScalars.allSatisfy {
        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
      }
  }
}
