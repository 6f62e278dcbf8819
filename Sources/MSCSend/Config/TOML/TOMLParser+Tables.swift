/// Where values go, and TOML's rules on defining tables (spec, "Table", "Inline Table",
/// "Array of Tables"):
/// - a key may be defined once; a table may be defined once, by a `[header]` or by dotted keys;
/// - a table that only exists because a longer header or dotted key passed through it (implicit)
///   may later be defined by its own `[header]`;
/// - `[header]`s may add sub-tables to tables made by dotted keys, but dotted keys may not reach
///   into a table defined by a `[header]` other than the current one;
/// - inline tables and static arrays are complete when written: no header or dotted key may extend
///   them, and `[[name]]` only appends to arrays made by `[[name]]`.

/// A table under construction. A reference type because a header can reopen any table in the tree;
/// `build()` turns the finished tree into `TOMLTable` values.
final class TableBuilder {
  enum Definition {
    /// Exists only because a longer `[a.b.c]` header passed through it.
    case implicit
    /// Defined by its own `[header]` or `[[header]]` (and the root).
    case header
    /// Created or extended by dotted keys (`a.b = 1`), or part of an inline table.
    case dotted
  }

  /// Elements of an array made by `[[name]]`; shared so that appending stays O(1).
  final class TableArray {
    let position: SourcePosition
    var elements: [TableBuilder] = []

    init(position: SourcePosition) { self.position = position }
  }

  enum Slot {
    /// Scalars, static arrays and inline tables: complete as written.
    case value(TOMLNode)
    case table(TableBuilder)
    case tableArray(TableArray)
  }

  struct Entry {
    var key: String
    var keyPosition: SourcePosition
    var slot: Slot
  }

  var position: SourcePosition
  var definition: Definition
  /// Keys from the document root (or from the enclosing inline table), for messages.
  let path: [String]
  /// Number of tables, arrays and inline tables around this one; at most `TOMLParser.maximumNesting`.
  let depth: Int
  private(set) var entries: [Entry] = []
  private var indexByKey: [String: Int] = [:]

  init(position: SourcePosition, definition: Definition, path: [String], depth: Int) {
    self.position = position
    self.definition = definition
    self.path = path
    self.depth = depth
  }

  /// A table one level below `parent`; the caller adds it to `parent` (or to an array of tables).
  convenience init(position: SourcePosition, definition: Definition, key: String, under parent: TableBuilder) {
    self.init(position: position, definition: definition, path: parent.path + [key], depth: parent.depth + 1)
  }

  func entry(_ key: String) -> Entry? { indexByKey[key].map { entries[$0] } }

  func add(_ key: String, at keyPosition: SourcePosition, _ slot: Slot) {
    indexByKey[key] = entries.count
    entries.append(Entry(key: key, keyPosition: keyPosition, slot: slot))
  }

  func build() -> TOMLTable {
    let built = entries.map { entry in
      let node: TOMLNode
      switch entry.slot {
      case .value(let value):
        node = value
      case .table(let table):
        node = TOMLNode(value: .table(table.build()), position: table.position)
      case .tableArray(let array):
        let elements = array.elements.map { TOMLNode(value: .table($0.build()), position: $0.position) }
        node = TOMLNode(value: .array(elements), position: array.position)
      }
      return TOMLTable.Entry(key: entry.key, keyPosition: entry.keyPosition, node: node)
    }
    return TOMLTable(entries: built, position: position)
  }
}

extension DocumentParser {
  /// `a.b.c = value` in `table`: `a` and `a.b` are found or created as dotted tables, then `c` must
  /// be new.
  mutating func insert(_ node: TOMLNode, at keys: [TOMLScanner.KeyPart], into table: TableBuilder) throws(TOMLError) {
    var parent = table
    for (offset, key) in keys.dropLast().enumerated() {
      let path = keys[...offset].map(\.name)
      guard let existing = parent.entry(key.name) else {
        parent = try addTable(key, to: parent, definition: .dotted)
        continue
      }
      switch existing.slot {
      case .table(let child) where child.definition == .header:
        throw scanner.error("cannot add to table [\(TOMLScanner.display(child.path))] with a dotted key: it was "
          + "defined by its header at \(child.position)", at: key.position)
      case .table(let child):
        child.definition = .dotted
        parent = child
      case .tableArray(let array):
        throw scanner.error("cannot add to array of tables [[\(TOMLScanner.display(path))]] (defined at "
          + "\(array.position)) with a dotted key", at: key.position)
      case .value(let value):
        throw notATable(path, value, at: key.position)
      }
    }
    let last = keys[keys.count - 1]
    if let existing = parent.entry(last.name) {
      throw scanner.error("duplicate key \(TOMLScanner.quoted(keys.map(\.name))) (first defined at "
        + "\(existing.keyPosition))", at: last.position)
    }
    parent.add(last.name, at: last.position, .value(node))
  }

  /// `[a.b.c]`: finds or creates `a` and `a.b`, then defines `c`, which may exist only as an
  /// implicit table.
  mutating func defineTable(_ keys: [TOMLScanner.KeyPart], at start: SourcePosition) throws(TOMLError) -> TableBuilder {
    let parent = try headerParent(keys)
    let last = keys[keys.count - 1]
    let name = TOMLScanner.display(keys.map(\.name))
    guard let existing = parent.entry(last.name) else {
      let table = try addTable(last, to: parent, definition: .header)
      table.position = start
      return table
    }
    switch existing.slot {
    case .table(let table):
      switch table.definition {
      case .implicit:
        table.definition = .header
        table.position = start
        return table
      case .header:
        throw scanner.error("table [\(name)] is defined twice (first defined at \(table.position))", at: start)
      case .dotted:
        throw scanner.error("table [\(name)] was already defined with dotted keys at \(existing.keyPosition)",
          at: start)
      }
    case .tableArray(let array):
      throw scanner.error("table [\(name)] conflicts with the array of tables [[\(name)]] defined at "
        + "\(array.position)", at: start)
    case .value(let value):
      throw scanner.error("table [\(name)] conflicts with the key defined at \(existing.keyPosition) ("
        + "\(Self.describe(value)))", at: start)
    }
  }

  /// `[[a.b.c]]`: finds or creates `a` and `a.b`, then appends a new table to the array `c`, which
  /// must be new or an array made by earlier `[[a.b.c]]` headers.
  mutating func appendArrayTable(_ keys: [TOMLScanner.KeyPart], at start: SourcePosition) throws(TOMLError)
    -> TableBuilder
  {
    let parent = try headerParent(keys)
    let last = keys[keys.count - 1]
    let name = TOMLScanner.display(keys.map(\.name))
    let array: TableBuilder.TableArray
    let existing = parent.entry(last.name)
    switch existing?.slot {
    case nil:
      array = TableBuilder.TableArray(position: start)
      parent.add(last.name, at: last.position, .tableArray(array))
    case .tableArray(let tableArray):
      array = tableArray
    case .table(let table):
      throw scanner.error("array of tables [[\(name)]] conflicts with the table defined at \(table.position)",
        at: start)
    case .value(let value):
      if case .array = value.value {
        throw scanner.error("cannot append to the static array \(TOMLScanner.quoted(keys.map(\.name))) defined "
          + "at \(value.position): [[\(name)]] only extends arrays made by [[\(name)]]", at: start)
      }
      let keyPosition = existing?.keyPosition ?? value.position
      throw scanner.error("array of tables [[\(name)]] conflicts with the key defined at \(keyPosition) ("
        + "\(Self.describe(value)))", at: start)
    }
    try checkNesting(parent.depth + 1)
    let table = TableBuilder(position: start, definition: .header, key: last.name, under: parent)
    array.elements.append(table)
    return table
  }

  /// Walks a header's key path from the root, creating implicit tables. Headers may pass through
  /// tables of any definition and through arrays of tables (into their last element, spec: "any
  /// reference to an array of tables points to the most recently defined table element"), but not
  /// through values.
  private mutating func headerParent(_ keys: [TOMLScanner.KeyPart]) throws(TOMLError) -> TableBuilder {
    var parent = root
    for (offset, key) in keys.dropLast().enumerated() {
      switch parent.entry(key.name)?.slot {
      case nil: parent = try addTable(key, to: parent, definition: .implicit)
      case .table(let child): parent = child
      case .tableArray(let array): parent = array.elements[array.elements.count - 1]
      case .value(let value): throw notATable(keys[...offset].map(\.name), value, at: key.position)
      }
    }
    return parent
  }

  private func addTable(
    _ key: TOMLScanner.KeyPart, to parent: TableBuilder, definition: TableBuilder.Definition
  ) throws(TOMLError) -> TableBuilder {
    guard parent.depth < TOMLParser.maximumNesting else {
      throw scanner.error("tables nested deeper than \(TOMLParser.maximumNesting) levels", at: key.position)
    }
    let table = TableBuilder(position: key.position, definition: definition, key: key.name, under: parent)
    parent.add(key.name, at: key.position, .table(table))
    return table
  }

  /// "an integer", or "an inline table" for a table that is a value.
  private static func describe(_ node: TOMLNode) -> String {
    if case .table = node.value { return "an inline table" }
    return node.value.typeNameWithArticle
  }

  private func notATable(_ path: [String], _ node: TOMLNode, at position: SourcePosition) -> TOMLError {
    let name = TOMLScanner.quoted(path)
    if case .table = node.value {
      return scanner.error("cannot add to inline table \(name) defined at \(node.position): inline tables "
        + "cannot be extended", at: position)
    }
    return scanner.error("cannot use \(name) as a table: it is \(node.value.typeNameWithArticle) (defined at "
      + "\(node.position))", at: position)
  }
}
