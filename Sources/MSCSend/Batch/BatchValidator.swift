import Dispatch
import Foundation

/// Checks every row of a batch against its template before anything is sent, and reports every
/// problem of every row, never just the first, so one run of `batch --dry-run` shows all that must
/// be fixed. The command then stops, or with `--skip-invalid` sends the valid rows only.
///
/// A row is bad when it cannot be read (`CSVReader`, `JSONLinesReader`), when the template cannot
/// be filled from it (`MessageTemplate.problems(for:)`), or when its idempotency key repeats an
/// earlier row's: the later row would be taken as already sent.
///
/// Batch/ owns the pure half of `msc-send batch`: reading rows from CSV (RFC 4180) or JSON Lines,
/// the `{{name}}` message template, checking every row before anything is sent, and the
/// idempotency key that lets a re-run skip rows already sent. It sends nothing and stores nothing.
public struct BatchValidator: Sendable {
  public let template: MessageTemplate
  public let campaign: String
  public let keyColumn: String

  public init(
    template: MessageTemplate, campaign: String, keyColumn: String = IdempotencyKey.defaultKeyColumn
  ) throws(BatchInputError) {
    try IdempotencyKey.validateCampaign(campaign)
    self.template = template
    self.campaign = campaign
    self.keyColumn = keyColumn
  }

  /// Reads `source` to its end and checks each row. Throws only what stops reading (see
  /// `BatchRowSource`) or a template variable missing from the CSV header row, which would
  /// otherwise be reported once for every row.
  ///
  /// `accept` sees each good row with its rendered message as it goes (the caller spools it in
  /// the same pass instead of rendering every row twice) and may still refuse it with a problem
  /// of its own (no channel for its sender).
  public func validate(
    _ source: inout some BatchRowSource,
    accept: ((BatchValidation.KeyedRow, RenderedMessage) -> BatchRowError?)? = nil
  ) throws(BatchInputError) -> BatchValidation {
    try validate(&source, workers: 1, prepare: { _, _ in () }) { keyed, message, _ in accept?(keyed, message) }
  }

  /// The same, with the rows rendered by `workers` threads at once, a window of rows at a time:
  /// rendering is most of a batch's work before its first message goes out. `prepare` runs on
  /// those threads too, for each good row (the caller's per-row work that needs no order: the
  /// message's bytes); `accept` runs in row order on the calling thread, as does everything that
  /// compares rows (duplicate keys), so the result is the same whatever `workers` is.
  public func validate<Prepared: Sendable>(
    _ source: inout some BatchRowSource, workers: Int,
    prepare: @escaping @Sendable (BatchRow, RenderedMessage) -> Prepared,
    accept: (BatchValidation.KeyedRow, RenderedMessage, Prepared) -> BatchRowError?
  ) throws(BatchInputError) -> BatchValidation {
    if let columns = source.columns { try checkColumns(columns) }
    var validation = BatchValidation()
    var firstRowByKey: [String: Int] = [:]
    var window: [Result<BatchRow, BatchRowError>] = []
    let windowSize = workers > 1 ? 512 : 1
    func drain() {
      let staged = stage(window, workers: workers, prepare: prepare)
      for (record, rendered) in zip(window, staged) {
        validation.rowCount += 1
        guard case .success(let row) = record, let rendered else {
          if case .failure(let error) = record { validation.errors.append(error) }
          continue
        }
        var problems = rendered.problems
        if let first = firstRowByKey[rendered.key] {
          problems.append(duplicateKeyProblem(row, firstRow: first))
        } else {
          firstRowByKey[rendered.key] = row.number
        }
        let keyed = BatchValidation.KeyedRow(row: row, key: rendered.key)
        if problems.isEmpty, let message = rendered.message, let prepared = rendered.prepared,
          let refusal = accept(keyed, message, prepared)
        {
          problems.append(refusal)
        }
        if problems.isEmpty {
          validation.rows.append(keyed)
        } else {
          validation.errors += problems
        }
      }
      window.removeAll(keepingCapacity: true)
    }
    while let record = try source.next() {
      window.append(record)
      if window.count >= windowSize { drain() }
    }
    drain()
    return validation
  }

  /// One row rendered: its problems, message, key and the caller's prepared part.
  private struct Staged<Prepared: Sendable>: Sendable {
    var problems: [BatchRowError]
    var message: RenderedMessage?
    var key: String
    var prepared: Prepared?
  }

  /// Renders the window's rows, split among `workers` threads.
  private func stage<Prepared: Sendable>(
    _ window: [Result<BatchRow, BatchRowError>], workers: Int,
    prepare: @escaping @Sendable (BatchRow, RenderedMessage) -> Prepared
  ) -> [Staged<Prepared>?] {
    let render: @Sendable (Result<BatchRow, BatchRowError>) -> Staged<Prepared>? = { record in
      guard case .success(let row) = record else { return nil }
      var problems: [BatchRowError] = []
      let message = template.render(row, problems: &problems)
      let key = IdempotencyKey.make(campaign: campaign, row: row, keyColumn: keyColumn)
      let prepared = problems.isEmpty ? message.map { prepare(row, $0) } : nil
      return Staged(problems: problems, message: message, key: key, prepared: prepared)
    }
    guard workers > 1, window.count > 1 else { return window.map(render) }
    let parts = min(workers, window.count)
    let results = StagedParts<Staged<Prepared>?>(count: parts)
    let rows = window
    DispatchQueue.concurrentPerform(iterations: parts) { part in
      let range = (rows.count * part / parts)..<(rows.count * (part + 1) / parts)
      results.set(part, rows[range].map(render))
    }
    return results.joined()
  }
  /// Every variable the template uses must be a column (RFC 4180 header row).
  public func checkColumns(_ columns: [String]) throws(BatchInputError) {
    let missing = template.variables.filter { !columns.contains($0) }
    guard !missing.isEmpty else { return }
    let placeholders = missing.map { "{{\($0)}}" }.joined(separator: ", ")
    let names = missing.map { "\"\($0)\"" }.joined(separator: ", ")
    var message =
      missing.count == 1
      ? "the template uses \(placeholders) but the header row has no column \(names)"
      : "the template uses \(placeholders) but the header row has no columns \(names)"
    if missing.count == 1, let nearest = Suggestion.nearest(to: missing[0], in: columns) {
      message += "; did you mean \"\(nearest)\"?"
    } else {
      message += " (its columns: " + columns.map { "\"\($0)\"" }.joined(separator: ", ") + ")"
    }
    throw BatchInputError(.missingColumns, line: 1, message)
  }

  private func duplicateKeyProblem(_ row: BatchRow, firstRow: Int) -> BatchRowError {
    if let key = IdempotencyKey.chosenKey(row, keyColumn: keyColumn) {
      return BatchRowError(
        .duplicateKey, row: row.number, line: row.line, variable: keyColumn,
        "the \(keyColumn) \(ComposeError.visible(key)) is also row \(firstRow)'s: a re-run could not tell them apart")
    }
    return BatchRowError(
      .duplicateKey, row: row.number, line: row.line,
      "the same values as row \(firstRow), so the same idempotency key: "
        + "give each row a unique \"\(keyColumn)\" column to send both")
  }
}

/// The outcome of checking a whole batch.
public struct BatchValidation: Sendable, Equatable {
  /// A good row and the key its message is recorded under.
  public struct KeyedRow: Sendable, Equatable {
    public let row: BatchRow
    public let key: String
  }

  /// The rows that can be sent, in file order.
  public internal(set) var rows: [KeyedRow] = []
  /// Every problem found, in file order; a bad row may have several.
  public internal(set) var errors: [BatchRowError] = []
  /// Records read, good and bad.
  public internal(set) var rowCount = 0

  /// True when every row can be sent.
  public var isValid: Bool { errors.isEmpty }

  /// The numbers of the bad rows, each once, ascending.
  public var badRows: [Int] { Array(Set(errors.map(\.row))).sorted() }
}

/// The parts of a window rendered on several threads, each stored under a lock.
private final class StagedParts<Element: Sendable>: @unchecked Sendable {
  private let lock = NSLock()
  private var parts: [[Element]]

  init(count: Int) { parts = Array(repeating: [], count: count) }

  func set(_ index: Int, _ part: [Element]) { lock.withLock { parts[index] = part } }

  func joined() -> [Element] { lock.withLock { parts.flatMap { $0 } } }
}
