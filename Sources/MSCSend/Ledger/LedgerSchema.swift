/// The ledger's schema as a list of migrations: entry `i` takes a database from
/// `PRAGMA user_version` `i` to `i + 1`. Only ever append; a released migration never changes,
/// because ledgers written by it exist. Migration 2 is the queue's.
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
    """,
    // 2: the durable queue. One row per message (its bytes are in a spool segment at
    // `spool_offset`, `size` octets), one per envelope recipient. `sending` rows carry the lease of
    // the process working on them; `idempotency_key` lets a batch re-run skip what it queued before.
    // Few indexes on purpose: every state change of every message maintains them.
    """
    CREATE TABLE messages (
      id INTEGER PRIMARY KEY,
      message_id TEXT NOT NULL,
      channel TEXT NOT NULL,
      sender TEXT NOT NULL,
      spool_path TEXT,
      spool_offset INTEGER NOT NULL DEFAULT 0 CHECK (spool_offset >= 0),
      size INTEGER NOT NULL CHECK (size >= 0),
      eight_bit INTEGER NOT NULL DEFAULT 0,
      smtputf8 INTEGER NOT NULL DEFAULT 0,
      state TEXT NOT NULL
        CHECK (state IN ('queued', 'sending', 'sent', 'deferred', 'failed', 'uncertain', 'dropped')),
      lease_until REAL,
      lease_pid INTEGER,
      lease_start INTEGER,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt REAL NOT NULL,
      created REAL NOT NULL,
      updated REAL NOT NULL,
      last_error TEXT,
      last_class TEXT,
      campaign TEXT,
      template TEXT,
      idempotency_key TEXT UNIQUE,
      uncertain_retries INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX messages_due ON messages (channel, state, next_attempt);
    CREATE INDEX messages_by_campaign ON messages (campaign);
    CREATE INDEX messages_by_spool ON messages (spool_path);
    CREATE TABLE message_recipients (
      message_rowid INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
      recipient TEXT NOT NULL,
      position INTEGER NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'uncertain')),
      class TEXT,
      reply TEXT,
      updated REAL,
      PRIMARY KEY (message_rowid, recipient)
    ) WITHOUT ROWID;
    """,
  ]

  static var latestVersion: Int { migrations.count }
}
