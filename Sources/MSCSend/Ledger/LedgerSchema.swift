/// The ledger's schema as a list of migrations: entry `i` takes a database from
/// `PRAGMA user_version` `i` to `i + 1`. Only ever append; a released migration never changes,
/// because ledgers written by it exist. The queue issue adds its tables as migration 2.
enum LedgerSchema {
  static let migrations: [String] = [
    // 1: throttle reservations (and the queue of processes waiting for one), channel cooldowns,
    // per-recipient outcomes.
    """
    CREATE TABLE reservations (
      id INTEGER PRIMARY KEY,
      grant_id INTEGER NOT NULL,
      channel TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('message', 'recipients', 'connection')),
      count INTEGER NOT NULL CHECK (count >= 0),
      at REAL NOT NULL,
      batch_start REAL,
      pid INTEGER NOT NULL,
      process_start INTEGER NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('waiting', 'reserved', 'used', 'released')),
      message_id TEXT
    );
    CREATE INDEX reservations_by_channel ON reservations (channel, state, at);
    CREATE INDEX reservations_by_grant ON reservations (grant_id);
    CREATE TABLE cooldowns (
      channel TEXT PRIMARY KEY,
      until REAL NOT NULL,
      reason TEXT NOT NULL CHECK (reason IN ('quota', 'throttle')),
      reply TEXT,
      backoff_seconds REAL NOT NULL DEFAULT 0,
      set_at REAL NOT NULL
    );
    CREATE TABLE outcomes (
      id INTEGER PRIMARY KEY,
      message_id TEXT,
      channel TEXT NOT NULL,
      recipient TEXT NOT NULL,
      class TEXT NOT NULL,
      reply TEXT,
      at REAL NOT NULL
    );
    CREATE INDEX outcomes_by_message ON outcomes (message_id);
    CREATE INDEX outcomes_by_channel ON outcomes (channel, at);
    """
  ]

  static var latestVersion: Int { migrations.count }
}
