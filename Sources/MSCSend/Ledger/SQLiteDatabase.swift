import CSQLite
import Glibc

/// A ledger problem: the database cannot be opened, read or written. Always local I/O, so the
/// process ends with EX_IOERR (74), naming the file so that the user knows what to look at.
public struct LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
  public var path: String
  public var message: String
  /// SQLite's extended result code, or 0 when the failure is ours.
  public var code: Int32

  public init(path: String, message: String, code: Int32 = 0) {
    self.path = path
    self.message = message
    self.code = code
  }

  public var description: String { "ledger \(path): \(message)" }
}

/// A value bound to or read from a statement.
enum SQLiteValue: Equatable {
  case integer(Int64)
  case real(Double)
  case text(String)
  case null

  var integer: Int64? {
    switch self {
    case .integer(let value): value
    case .real(let value): Int64(exactly: value.rounded(.towardZero))
    default: nil
    }
  }

  var real: Double? {
    switch self {
    case .integer(let value): Double(value)
    case .real(let value): value
    default: nil
    }
  }

  var text: String? { if case .text(let value) = self { value } else { nil } }
}

/// One SQLite connection, used by one thread at a time (opened FULLMUTEX all the same, so a
/// mistake is serialised rather than undefined). The only type that touches `sqlite3_*`; C
/// pointers never leave it. Statements are prepared once per SQL text and reused.
final class SQLiteDatabase {
  let path: String
  private let handle: OpaquePointer
  private var statements: [String: OpaquePointer] = [:]

  /// Opens (creating when missing) the database at `path`. `busyTimeout` bounds how long any
  /// statement waits for another process's lock before SQLITE_BUSY.
  init(path: String, busyTimeout milliseconds: Int32) throws(LedgerError) {
    self.path = path
    var connection: OpaquePointer?
    let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
    let status = sqlite3_open_v2(path, &connection, flags, nil)
    guard status == SQLITE_OK, let connection else {
      let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot allocate a connection"
      sqlite3_close_v2(connection)
      throw LedgerError(path: path, message: "cannot open: \(message)", code: status)
    }
    handle = connection
    sqlite3_extended_result_codes(handle, 1)
    sqlite3_busy_timeout(handle, milliseconds)
  }

  deinit {
    for statement in statements.values { sqlite3_finalize(statement) }
    sqlite3_close_v2(handle)
  }

  /// Runs `sql` (one or more statements, no parameters): schema changes and pragmas.
  func execute(_ sql: String) throws(LedgerError) {
    var errorMessage: UnsafeMutablePointer<CChar>?
    let status = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
    guard status == SQLITE_OK else {
      let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(status))
      sqlite3_free(errorMessage)
      throw LedgerError(path: path, message: message, code: status)
    }
  }

  /// Runs one statement with `values` bound to its `?` parameters and returns every row.
  @discardableResult
  func query(_ sql: String, _ values: [SQLiteValue] = []) throws(LedgerError) -> [[SQLiteValue]] {
    let statement = try prepared(sql)
    defer {
      sqlite3_reset(statement)
      sqlite3_clear_bindings(statement)
    }
    for (index, value) in values.enumerated() {
      let position = Int32(index + 1)
      let status: Int32
      switch value {
      case .integer(let number): status = sqlite3_bind_int64(statement, position, number)
      case .real(let number): status = sqlite3_bind_double(statement, position, number)
      // A Swift string's C form lives only for this call: SQLITE_TRANSIENT makes SQLite copy it.
      case .text(let text): status = sqlite3_bind_text(statement, position, text, -1, msc_sqlite_transient())
      case .null: status = sqlite3_bind_null(statement, position)
      }
      guard status == SQLITE_OK else { throw failure(status, "cannot bind a value") }
    }
    var rows: [[SQLiteValue]] = []
    while true {
      let status = sqlite3_step(statement)
      if status == SQLITE_DONE { break }
      guard status == SQLITE_ROW else { throw failure(status, "query failed") }
      rows.append((0..<sqlite3_column_count(statement)).map { column(statement, $0) })
    }
    return rows
  }

  /// Rows changed by the last INSERT, UPDATE or DELETE.
  var changes: Int { Int(sqlite3_changes(handle)) }

  /// Runs `body` inside `BEGIN IMMEDIATE ... COMMIT`, rolling back when it throws. IMMEDIATE takes
  /// the write lock at the start, so that a read-then-write (count the window, then reserve)
  /// cannot interleave with another process's. The busy timeout already waits for the lock; a
  /// BUSY that still comes back (a writer holding it longer) is retried a bounded number of times.
  ///
  /// `durable`: this commit reaches the disk before it returns (`synchronous = FULL` for it, which
  /// in WAL mode syncs the log at commit); the connection's NORMAL setting is restored after.
  func immediateTransaction<T>(durable: Bool = false, _ body: () throws(LedgerError) -> T) throws(LedgerError) -> T {
    if durable { try execute("PRAGMA synchronous = FULL") }
    defer { if durable { _ = try? execute("PRAGMA synchronous = NORMAL") } }
    var attempt = 0
    while true {
      do throws(LedgerError) {
        try execute("BEGIN IMMEDIATE")
        break
      } catch let error where Self.isBusy(error.code) && attempt < 3 {
        attempt += 1
        usleep(50_000)
      } catch let error where Self.isBusy(error.code) {
        throw LedgerError(
          path: path, message: "locked by another process for too long (\(error.message))", code: error.code)
      } catch {
        throw error
      }
    }
    do throws(LedgerError) {
      let result = try body()
      try execute("COMMIT")
      return result
    } catch {
      _ = try? execute("ROLLBACK")
      throw error
    }
  }

  static func isBusy(_ code: Int32) -> Bool { code & 0xff == SQLITE_BUSY || code & 0xff == SQLITE_LOCKED }

  private func prepared(_ sql: String) throws(LedgerError) -> OpaquePointer {
    if let statement = statements[sql] { return statement }
    var statement: OpaquePointer?
    let status = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
    guard status == SQLITE_OK, let statement else {
      sqlite3_finalize(statement)
      throw failure(status, "cannot prepare a statement")
    }
    statements[sql] = statement
    return statement
  }

  private func column(_ statement: OpaquePointer, _ index: Int32) -> SQLiteValue {
    switch sqlite3_column_type(statement, index) {
    case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
    case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, index))
    case SQLITE_TEXT:
      guard let text = sqlite3_column_text(statement, index) else { return .null }
      return .text(String(cString: text))
    default: return .null
    }
  }

  private func failure(_ status: Int32, _ what: String) -> LedgerError {
    LedgerError(path: path, message: "\(what): \(String(cString: sqlite3_errmsg(handle)))", code: status)
  }
}
