//! The one state: libSQL, a local file by default (`$NXR_HOME/hermes_tracking.db`) or a libSQL server
//! (`NXR_DB_URL` + `NXR_DB_TOKEN`). Opening the store applies pending migrations.

pub mod heartbeat;
pub mod hosts;
pub mod memo;
pub mod secrets;

use crate::domain::base::env::Env;
use libsql::{Builder, Connection, Database, params};
use std::path::Path;
use std::time::Duration;

mod conn;
mod holders;
mod migrations;
mod ownership;
mod read_only;
pub use holders::lock_holders;
pub use migrations::{MIGRATIONS, Migration};

pub use conn::{Conn, REMOTE_CALL_TIMEOUT};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot create the nxr data directory {path}: {reason}; set NXR_HOME to a writable directory"
    )]
    CreateDir {
        path: String,
        reason: std::io::Error,
    },
    #[error(
        "cannot open the database at {location}: {reason}; check NXR_HOME (local file) or NXR_DB_URL and NXR_DB_TOKEN (server)"
    )]
    Open {
        location: String,
        reason: libsql::Error,
    },
    #[error(
        "the database at {location} was written by a newer nxr (schema version {found}, this nxr knows up to {known}); upgrade nxr, or point NXR_HOME / NXR_DB_URL elsewhere"
    )]
    TooNew {
        location: String,
        found: i64,
        known: i64,
    },
    #[error(
        "migration {name} failed: {reason}; the database was left as it was before this migration"
    )]
    Migration {
        name: &'static str,
        reason: libsql::Error,
    },
    #[error(
        "{path} is not a usable nxr database ({reason}); move it aside (nxr then creates a new one) or restore a backup, or point NXR_HOME elsewhere"
    )]
    NotADatabase { path: String, reason: libsql::Error },
    #[error(
        "{location} is not an nxr database (it holds {tables} and no nxr migration history), so nxr left it untouched; point NXR_HOME or NXR_DB_URL at an nxr database or an empty one"
    )]
    Foreign { location: String, tables: String },
    #[error(
        "the database at {location} is read-only and misses migrations this nxr needs ({pending}); make it writable (or run nxr as its owner) once so they can be applied"
    )]
    ReadOnlyNeedsMigration { location: String, pending: String },
    #[error("{}", sql_message(.0))]
    Sql(#[from] libsql::Error),
}

/// A database error in words: a lock held past the busy timeout says what happened and what to do.
fn sql_message(e: &libsql::Error) -> String {
    if is_locked(e) {
        format!(
            "the database is locked: another process has held it for longer than the {} s busy timeout; let that process finish (or stop it) and run this again",
            BUSY_TIMEOUT.as_secs()
        )
    } else {
        format!("database error: {e}")
    }
}

/// True for SQLite's "database is locked" / "database table is locked" (SQLITE_BUSY, SQLITE_LOCKED
/// and their extended codes).
pub fn is_locked(e: &libsql::Error) -> bool {
    matches!(e, libsql::Error::SqliteFailure(code, _) if matches!(code & 0xff, SQLITE_BUSY | SQLITE_LOCKED))
}

/// How long a statement waits for another connection's lock before failing.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

// SQLite primary result codes nxr tells apart.
const SQLITE_BUSY: std::ffi::c_int = 5;
const SQLITE_LOCKED: std::ffi::c_int = 6;
const SQLITE_CORRUPT: std::ffi::c_int = 11;
const SQLITE_NOTADB: std::ffi::c_int = 26;

/// Puts a local database in WAL mode (the first read of the file, so a file that is not a database
/// fails here).
async fn set_wal(conn: &Conn) -> std::result::Result<(), libsql::Error> {
    let mut rows = conn.query("PRAGMA journal_mode=WAL", ()).await?;
    while rows.next().await?.is_some() {}
    Ok(())
}

/// A migration as recorded in `schema_migrations`.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: i64,
    pub name: String,
    pub applied_at: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct DbStatus {
    /// `file:/path/to/hermes_tracking.db` or the server URL (never with its token).
    pub location: String,
    pub kind: &'static str,
    pub applied: Vec<AppliedMigration>,
    pub pending: Vec<String>,
    pub latest_known: i64,
    /// True when the database carries migrations this nxr does not know (written by a newer nxr).
    pub newer_than_known: bool,
}

pub struct Store {
    // Keep the database alive as long as the connection.
    _db: std::sync::Arc<Database>,
    conn: Conn,
    /// The connection every transaction runs on, one at a time (see `in_transaction`).
    writer: tokio::sync::Mutex<Conn>,
    location: String,
    remote: bool,
    read_only: bool,
    /// Where every domain timestamp comes from (the system clock unless a test injects one).
    clock: crate::domain::base::clock::SharedClock,
    /// Results kept between calls while the data is unchanged (`domain::store::memo`).
    memos: crate::domain::store::memo::Memos,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.location)
            .finish()
    }
}

impl Store {
    /// Opens the store `env` points at and applies pending migrations.
    pub async fn open(env: &Env) -> Result<Store> {
        let store = Store::open_unmigrated(env).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens without migrating (`nxr db status` shows what is pending).
    pub async fn open_unmigrated(env: &Env) -> Result<Store> {
        match &env.db_url {
            Some(url) => Store::open_remote(url, env.db_token.as_deref().unwrap_or("")).await,
            None => Store::open_local(&env.db_path()).await,
        }
    }

    pub async fn open_local(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|reason| StoreError::CreateDir {
                path: dir.display().to_string(),
                reason,
            })?;
        }
        let location = format!("file:{}", path.display());
        let (db, conn) = connect(Builder::new_local(path).build().await, &location)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // The first read of the file: a file that is not a database (corrupt, or something else)
        // fails here, before anything is written to it.
        if let Err(reason) = conn.query("SELECT count(*) FROM sqlite_master", ()).await {
            return Err(open_error(path, &location, reason));
        }
        let writer = db.connect()?;
        writer.busy_timeout(BUSY_TIMEOUT)?;
        let store = Store {
            _db: std::sync::Arc::new(db),
            conn: Conn::local(conn),
            writer: tokio::sync::Mutex::new(Conn::local(writer)),
            location: location.clone(),
            remote: false,
            read_only: false,
            clock: crate::domain::base::clock::system(),
            memos: Default::default(),
        };
        // Another application's database is refused before nxr changes even its journal mode.
        store.check_ours().await?;
        // WAL lets the TUI, `nxr serve` and CLI calls work at once. Switching to WAL needs the file
        // to itself for a moment; a concurrent first open (two nxr processes starting at once) may
        // answer "database is locked" without waiting on the busy timeout, so that one case is
        // retried a bounded number of times.
        let mut attempt = 0;
        loop {
            match set_wal(&store.conn).await {
                Ok(()) => break,
                Err(libsql::Error::SqliteFailure(SQLITE_BUSY, _)) if attempt < 50 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(reason) => return Err(open_error(path, &location, reason)),
            }
        }
        store.conn.execute("PRAGMA foreign_keys=ON", ()).await?;
        store
            .writer
            .lock()
            .await
            .execute("PRAGMA foreign_keys=ON", ())
            .await?;
        Ok(store)
    }

    /// True when the store was opened read-only.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    pub async fn open_remote(url: &str, token: &str) -> Result<Store> {
        let location = redact_url(url);
        let built = Builder::new_remote(url.to_string(), token.to_string())
            .build()
            .await;
        let (db, conn) = connect(built, &location)?;
        let db = std::sync::Arc::new(db);
        let conn = Conn::remote(conn, db.clone(), &location);
        // The remote connection is lazy: ask once now, so a wrong URL or token (or a server that
        // never answers) fails here, clearly.
        if let Err(reason) = conn.query("SELECT 1", ()).await {
            return Err(StoreError::Open { location, reason });
        }
        // On a libSQL server everything goes over one stream: with a second stream for writes,
        // sqld was seen to interrupt (SQLITE_INTERRUPT) the first read after another stream's
        // commit. Transactions still run one at a time (the mutex); a read from another task
        // may land inside one, which on a server only means it sees the uncommitted rows.
        let writer = conn.clone();
        Ok(Store {
            _db: db,
            conn,
            writer: tokio::sync::Mutex::new(writer),
            location,
            remote: true,
            read_only: false,
            clock: crate::domain::base::clock::system(),
            memos: Default::default(),
        })
    }

    /// The store with `clock` as the source of every timestamp the domain takes through it.
    pub fn with_clock(mut self, clock: crate::domain::base::clock::SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The current time from the injected clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Results kept between calls while the data is unchanged (`domain::store::memo`).
    pub fn memos(&self) -> &crate::domain::store::memo::Memos {
        &self.memos
    }

    /// The injected clock (for domain calls that take a `&dyn Clock`).
    pub fn clock(&self) -> &dyn crate::domain::base::clock::Clock {
        &*self.clock
    }

    pub fn conn(&self) -> &Conn {
        &self.conn
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    /// Since when the libSQL server has not answered; `None` while it answers (and for a file).
    pub fn unreachable_since(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.conn.unreachable_since()
    }

    pub fn is_remote(&self) -> bool {
        self.remote
    }

    /// Runs `work` inside `BEGIN IMMEDIATE … COMMIT`; any error rolls everything back. Use it for
    /// every multi-row write that must not tear.
    ///
    /// Transactions run on a connection kept for them alone (on a local file; a server uses its one
    /// stream, see `open_remote`, and no other call of this process runs on it meanwhile), one at a
    /// time within this process (a mutex), while plain reads use the main connection: a concurrent caller (the web server's
    /// threads, the TUI's tasks) can never run its statements inside someone else's transaction, nor
    /// hit "cannot start a transaction within a transaction". Other processes are kept out by
    /// SQLite's own write lock (IMMEDIATE takes it first; the busy timeout waits for it).
    ///
    /// Not used: libsql's own `Transaction` (on a remote database its drop sends a late ROLLBACK on a
    /// second stream, which races the next statements), and a fresh connection per transaction
    /// (closing a remote stream right after COMMIT was seen to interrupt the next query on sqld).
    /// `work` must not call `in_transaction` itself (it would wait for itself).
    pub async fn in_transaction<T, F, Fut>(&self, work: F) -> Result<T, libsql::Error>
    where
        F: FnOnce(Conn) -> Fut,
        Fut: std::future::Future<Output = Result<T, libsql::Error>>,
    {
        let writer = self.writer.lock().await;
        // On a server, no other caller's statement runs on the stream until it ends.
        let _gate = writer.gate().await;
        // On a server, the stream in use now (a lost one replaced): the whole transaction runs on
        // it, and fails rather than go on on another.
        let conn = writer.pin()?;
        // A transaction a cancelled or panicked caller left open would hold the write lock and make
        // every later BEGIN fail: end it first.
        if !conn.is_autocommit() {
            let _ = conn.execute("ROLLBACK", ()).await;
        }
        conn.execute("BEGIN IMMEDIATE", ()).await?;
        let outcome = match work(conn.clone()).await {
            Ok(v) => conn.execute("COMMIT", ()).await.map(|_| v),
            Err(e) => Err(e),
        };
        if outcome.is_err() && !conn.is_autocommit() {
            let _ = conn.execute("ROLLBACK", ()).await;
        }
        outcome
    }

    async fn ensure_migrations_table(&self) -> Result<()> {
        self.conn
            .execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    INTEGER PRIMARY KEY,
                    name       TEXT NOT NULL,
                    applied_at TEXT NOT NULL
                )",
                (),
            )
            .await?;
        Ok(())
    }

    /// The migrations recorded as applied, oldest first. Writes nothing.
    pub async fn applied_migrations(&self) -> Result<Vec<AppliedMigration>> {
        if !self
            .user_tables()
            .await?
            .iter()
            .any(|t| t == "schema_migrations")
        {
            return Ok(Vec::new());
        }
        let mut rows = self
            .conn
            .query(
                "SELECT version, name, applied_at FROM schema_migrations ORDER BY version",
                (),
            )
            .await?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().await? {
            out.push(AppliedMigration {
                version: row.get(0)?,
                name: row.get(1)?,
                applied_at: row.get(2)?,
            });
        }
        Ok(out)
    }

    /// Applies every pending migration, each in its own transaction. Returns the names applied.
    pub async fn migrate(&self) -> Result<Vec<&'static str>> {
        self.check_ours().await?;
        self.ensure_migrations_table().await?;
        let applied = self.applied_migrations().await?;
        let known = MIGRATIONS.last().map(|m| m.version).unwrap_or(0);
        if let Some(found) = applied.iter().map(|m| m.version).max()
            && found > known
        {
            return Err(StoreError::TooNew {
                location: self.location.clone(),
                found,
                known,
            });
        }
        let mut done = Vec::new();
        for m in MIGRATIONS {
            if applied.iter().any(|a| a.version == m.version) {
                continue;
            }
            let at = crate::domain::base::clock::to_db(self.now());
            // IMMEDIATE takes the write lock first, so two nxr processes starting at once
            // cannot both apply the same migration; the loser sees it recorded and skips it.
            let applied_now = self
                .in_transaction(|conn| async move {
                    let mut rows = conn
                        .query(
                            "SELECT 1 FROM schema_migrations WHERE version = ?1",
                            params![m.version],
                        )
                        .await?;
                    if rows.next().await?.is_some() {
                        return Ok(false);
                    }
                    drop(rows);
                    conn.execute_batch(m.sql).await?;
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                        params![m.version, m.name, at],
                    )
                    .await?;
                    Ok(true)
                })
                .await
                .map_err(|reason| StoreError::Migration {
                    name: m.name,
                    reason,
                })?;
            if !applied_now {
                continue;
            }
            tracing::info!(migration = m.name, "applied migration");
            done.push(m.name);
        }
        Ok(done)
    }

    pub async fn status(&self) -> Result<DbStatus> {
        self.check_ours().await?;
        let applied = self.applied_migrations().await?;
        let newer_than_known = applied
            .iter()
            .any(|a| !MIGRATIONS.iter().any(|m| m.version == a.version));
        let pending = MIGRATIONS
            .iter()
            .filter(|m| !applied.iter().any(|a| a.version == m.version))
            .map(|m| m.name.to_string())
            .collect();
        Ok(DbStatus {
            location: self.location.clone(),
            kind: if self.remote { "remote" } else { "local" },
            applied,
            pending,
            latest_known: MIGRATIONS.last().map(|m| m.version).unwrap_or(0),
            newer_than_known,
        })
    }

    /// Reads one setting.
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        let mut rows = self
            .conn
            .query("SELECT value FROM settings WHERE key = ?1", params![key])
            .await?;
        Ok(match rows.next().await? {
            Some(row) => Some(row.get(0)?),
            None => None,
        })
    }

    /// Removes one setting (it reads as unset again); true when it was set.
    pub async fn delete_setting(&self, key: &str) -> Result<bool> {
        let n = self
            .conn
            .execute("DELETE FROM settings WHERE key = ?1", params![key])
            .await?;
        Ok(n > 0)
    }

    /// Writes one setting.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        let at = crate::domain::base::clock::to_db(self.now());
        self.conn
            .execute(
                "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                params![key, value, at],
            )
            .await?;
        Ok(())
    }
}

/// The error for a local file that cannot be opened: not a database, or another reason.
/// The built database and its first connection, or why `location` cannot be opened.
fn connect(
    built: std::result::Result<Database, libsql::Error>,
    location: &str,
) -> Result<(Database, Connection)> {
    let open = |reason| StoreError::Open {
        location: location.to_string(),
        reason,
    };
    let db = built.map_err(open)?;
    let conn = db.connect().map_err(open)?;
    Ok((db, conn))
}

fn open_error(path: &Path, location: &str, reason: libsql::Error) -> StoreError {
    match reason {
        libsql::Error::SqliteFailure(SQLITE_NOTADB | SQLITE_CORRUPT, _) => {
            StoreError::NotADatabase {
                path: path.display().to_string(),
                reason,
            }
        }
        reason => StoreError::Open {
            location: location.to_string(),
            reason,
        },
    }
}

/// A server URL fit to show: without user info or query (which may carry a token).
fn redact_url(url: &str) -> String {
    let no_query = url.split(['?', '#']).next().unwrap_or(url);
    match no_query.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
            format!("{scheme}://{host}{path}")
        }
        None => no_query.to_string(),
    }
}

impl crate::domain::base::hint::Hinted for StoreError {
    fn hints(&self) -> Vec<crate::domain::base::hint::Hint> {
        #[allow(unused_imports)]
        use crate::domain::base::hint::{Hint, Hinted};
        match self {
            StoreError::Migration { .. } => vec![Hint::ShowDatabase],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_secrets_from_server_urls() {
        assert_eq!(
            redact_url("libsql://user:pw@db.example.com/x?authToken=abc"),
            "libsql://db.example.com/x"
        );
        assert_eq!(redact_url("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    }
}
