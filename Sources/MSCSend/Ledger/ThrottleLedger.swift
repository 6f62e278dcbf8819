import Glibc

/// The Ledger folder owns the SQLite database that every msc-send process of a user shares
/// (`[defaults] ledger`): throttle reservations, channel cooldowns and per-recipient outcomes, and
/// the queue's tables (migration 2; `Queue/` reads and writes them through this connection).
/// It is the only code that imports CSQLite. It stores and fetches; what a row *means* for a
/// limit is decided in `Throttle/`.
///
/// WAL mode lets readers work while one process writes; `synchronous = NORMAL` is durable across
/// a crash of the process (only a power loss may lose the last transactions, which costs at most a
/// few slots of accounting); every read-then-write runs in `BEGIN IMMEDIATE`.
public final class ThrottleLedger {
  public let path: String
  let database: SQLiteDatabase

  /// How long a statement waits for another process's write lock.
  static let busyTimeoutMilliseconds: Int32 = 10_000

  /// Opens the ledger at `path`, creating it (and its folder, private to the user: recipients'
  /// addresses are in it) when missing, and brings its schema up to date.
  public convenience init(path: String) throws(LedgerError) {
    try self.init(path: path, migrations: LedgerSchema.migrations)
  }

  init(path: String, migrations: [String]) throws(LedgerError) {
    self.path = path
    try Self.createPrivately(path)
    database = try SQLiteDatabase(path: path, busyTimeout: Self.busyTimeoutMilliseconds)
    try configure()
    try migrate(migrations)
  }

  /// Whether a ledger file exists at `path` (commands that only read do not create one).
  public static func exists(at path: String) -> Bool {
    var status = stat()
    return stat(path, &status) == 0
  }

  /// Runs `body` in one `BEGIN IMMEDIATE` transaction: everything it reads stays true until it
  /// commits, whatever other processes do meanwhile.
  public func transaction<T>(_ body: (Transaction) throws(LedgerError) -> T) throws(LedgerError) -> T {
    let transaction = Transaction(database: database)
    return try database.immediateTransaction { () throws(LedgerError) -> T in try body(transaction) }
  }

  /// Like `transaction`, but the commit is on disk when it returns: for the rows that promise a
  /// message is kept (it was queued, exit 75 told the user so), which a power loss must not take
  /// back. Other commits stay NORMAL: a crash of the process loses none of them, a power loss at
  /// most the last outcomes, after which a message may be sent again but is never lost.
  public func durableTransaction<T>(_ body: (Transaction) throws(LedgerError) -> T) throws(LedgerError) -> T {
    let transaction = Transaction(database: database)
    return try database.immediateTransaction(durable: true) { () throws(LedgerError) -> T in
      try body(transaction)
    }
  }

  public var schemaVersion: Int {
    get throws(LedgerError) { Int(try database.query("PRAGMA user_version").first?.first?.integer ?? 0) }
  }

  public var journalMode: String {
    get throws(LedgerError) { try database.query("PRAGMA journal_mode").first?.first?.text ?? "" }
  }

  // MARK: - Opening

  private func configure() throws(LedgerError) {
    // Switching to WAL needs a moment of exclusive access; several processes opening a new
    // ledger at once may find it busy beyond the busy handler's patience: retry, bounded.
    var attempts = 0
    while true {
      do throws(LedgerError) {
        try database.query("PRAGMA journal_mode = WAL")
        break
      } catch let error where SQLiteDatabase.isBusy(error.code) && attempts < 50 {
        attempts += 1
        usleep(20_000)
      } catch {
        throw error
      }
    }
    try database.execute("PRAGMA synchronous = NORMAL")
  }

  private func migrate(_ migrations: [String]) throws(LedgerError) {
    if try schemaVersion == migrations.count { return }
    try database.immediateTransaction { () throws(LedgerError) in
      // Read again under the write lock: another process may have migrated meanwhile.
      let version = try schemaVersion
      guard version <= migrations.count else {
        throw LedgerError(
          path: path,
          message: "written by a newer msc-send (schema version \(version); this one knows up to \(migrations.count))")
      }
      for migration in migrations[version...] { try database.execute(migration) }
      try database.execute("PRAGMA user_version = \(migrations.count)")
    }
  }

  /// Creates the folders (mode 0700) and an empty file (mode 0600) before SQLite does, which
  /// would use the umask's usually world-readable mode. SQLite gives the -wal and -shm files the
  /// database file's mode.
  ///
  /// An existing file is never opened here: closing any descriptor of a file drops every POSIX
  /// lock the process holds on it (fcntl semantics), including those of this process's other
  /// SQLite connections (a flush's worker threads each have one), and two processes would then
  /// write the database at once.
  private static func createPrivately(_ path: String) throws(LedgerError) {
    guard path.hasPrefix("/") else {
      throw LedgerError(path: path, message: "not an absolute path")
    }
    var partial = ""
    for component in path.split(separator: "/").dropLast() {
      partial += "/" + component
      if mkdir(partial, 0o700) != 0 && errno != EEXIST {
        throw LedgerError(
          path: path, message: "cannot create the folder \(partial): \(String(cString: strerror(errno)))")
      }
    }
    if exists(at: path) { return }
    let descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard descriptor >= 0 || errno == EEXIST else {
      throw LedgerError(path: path, message: "cannot open: \(String(cString: strerror(errno)))")
    }
    if descriptor >= 0 { close(descriptor) }
  }
}
