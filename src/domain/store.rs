//! The one state: libSQL, a local file by default (`$NXR_HOME/hermes_tracking.db`) or a libSQL server
//! (`NXR_DB_URL` + `NXR_DB_TOKEN`). Opening the store applies pending migrations.

use crate::domain::env::Env;
use libsql::{Builder, Connection, Database, params};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How long one call to a libSQL server may take (connecting included) before it fails with an
/// error naming the server.
pub const REMOTE_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A migration compiled into the binary.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order. Add new ones at the end; never edit a released one.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_baseline",
        sql: include_str!("../../migrations/0001_baseline.sql"),
    },
    Migration {
        version: 2,
        name: "0002_agents_v14",
        sql: include_str!("../../migrations/0002_agents_v14.sql"),
    },
    Migration {
        version: 3,
        name: "0003_model_scores",
        sql: include_str!("../../migrations/0003_model_scores.sql"),
    },
    Migration {
        version: 4,
        name: "0004_onboarding",
        sql: include_str!("../../migrations/0004_onboarding.sql"),
    },
    Migration {
        version: 5,
        name: "0005_catalog_cache",
        sql: include_str!("../../migrations/0005_catalog_cache.sql"),
    },
    Migration {
        version: 6,
        name: "0006_agent_user_models",
        sql: include_str!("../../migrations/0006_agent_user_models.sql"),
    },
];

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
        "migration {name} failed: {reason}; the database was left as it was before this migration (see `nxr db status`)"
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
    #[error("database error: {0}")]
    Sql(#[from] libsql::Error),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

// SQLite primary result codes nxr tells apart.
const SQLITE_BUSY: std::ffi::c_int = 5;
const SQLITE_CORRUPT: std::ffi::c_int = 11;
const SQLITE_NOTADB: std::ffi::c_int = 26;

/// Puts a local database in WAL mode (the first read of the file, so a file that is not a database
/// fails here).
async fn set_wal(conn: &Connection) -> std::result::Result<(), libsql::Error> {
    let mut rows = conn.query("PRAGMA journal_mode=WAL", ()).await?;
    while rows.next().await?.is_some() {}
    Ok(())
}

/// A connection to the store. On a libSQL server every call has a deadline
/// ([`REMOTE_CALL_TIMEOUT`], connecting included): a server that accepts but never answers gives an
/// error naming it instead of a hang. Other `Connection` methods are reached through `Deref`.
#[derive(Clone)]
pub struct Conn {
    inner: Connection,
    /// The server (redacted URL) when remote.
    remote: Option<Arc<str>>,
}

impl std::ops::Deref for Conn {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.inner
    }
}

impl Conn {
    fn local(inner: Connection) -> Conn {
        Conn {
            inner,
            remote: None,
        }
    }

    async fn bounded<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, libsql::Error>>,
    ) -> Result<T, libsql::Error> {
        let Some(location) = &self.remote else {
            return call.await;
        };
        match tokio::time::timeout(REMOTE_CALL_TIMEOUT, call).await {
            Ok(r) => r,
            Err(_) => Err(libsql::Error::ConnectionFailed(format!(
                "no answer from the libSQL server at {location} within {} s; check that it is running and that NXR_DB_URL points at it",
                REMOTE_CALL_TIMEOUT.as_secs()
            ))),
        }
    }

    pub async fn query(
        &self,
        sql: &str,
        params: impl libsql::params::IntoParams,
    ) -> Result<libsql::Rows, libsql::Error> {
        self.bounded(self.inner.query(sql, params)).await
    }

    pub async fn execute(
        &self,
        sql: &str,
        params: impl libsql::params::IntoParams,
    ) -> Result<u64, libsql::Error> {
        self.bounded(self.inner.execute(sql, params)).await
    }

    pub async fn execute_batch(&self, sql: &str) -> Result<libsql::BatchRows, libsql::Error> {
        self.bounded(self.inner.execute_batch(sql)).await
    }
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
    _db: Database,
    conn: Conn,
    /// The connection every transaction runs on, one at a time (see `in_transaction`).
    writer: tokio::sync::Mutex<Conn>,
    location: String,
    remote: bool,
    read_only: bool,
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
        let db = Builder::new_local(path)
            .build()
            .await
            .map_err(|reason| StoreError::Open {
                location: location.clone(),
                reason,
            })?;
        let conn = db.connect().map_err(|reason| StoreError::Open {
            location: location.clone(),
            reason,
        })?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // The first read of the file: a file that is not a database (corrupt, or something else)
        // fails here, before anything is written to it.
        if let Err(reason) = conn.query("SELECT count(*) FROM sqlite_master", ()).await {
            return Err(open_error(path, &location, reason));
        }
        let writer = db.connect()?;
        writer.busy_timeout(Duration::from_secs(5))?;
        let store = Store {
            _db: db,
            conn: Conn::local(conn),
            writer: tokio::sync::Mutex::new(Conn::local(writer)),
            location: location.clone(),
            remote: false,
            read_only: false,
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

    /// Opens a local database file read-only (no WAL switch, no migrations): for commands that only
    /// read, when the file or its directory may not be written. A WAL database whose `-shm` file is
    /// gone and cannot be made (a read-only directory) is read as immutable: a snapshot.
    pub async fn open_local_read_only(path: &Path) -> Result<Store> {
        let location = format!("file:{}", path.display());
        let plain = Store::try_read_only(path, libsql::OpenFlags::SQLITE_OPEN_READ_ONLY).await;
        let (db, conn) = match plain {
            Ok(pair) => pair,
            Err(first) => {
                const SQLITE_OPEN_URI: std::ffi::c_int = 0x40;
                let flags = libsql::OpenFlags::from_bits_retain(
                    libsql::OpenFlags::SQLITE_OPEN_READ_ONLY.bits() | SQLITE_OPEN_URI,
                );
                let uri = format!("file:{}?immutable=1", uri_path(path));
                Store::try_read_only(Path::new(&uri), flags)
                    .await
                    .map_err(|_| open_error(path, &location, first))?
            }
        };
        let writer = db.connect()?;
        Ok(Store {
            _db: db,
            conn: Conn::local(conn),
            writer: tokio::sync::Mutex::new(Conn::local(writer)),
            location,
            remote: false,
            read_only: true,
        })
    }

    async fn try_read_only(
        path: &Path,
        flags: libsql::OpenFlags,
    ) -> std::result::Result<(Database, Connection), libsql::Error> {
        let db = Builder::new_local(path).flags(flags).build().await?;
        let conn = db.connect()?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let mut rows = conn.query("SELECT count(*) FROM sqlite_master", ()).await?;
        while rows.next().await?.is_some() {}
        drop(rows);
        Ok((db, conn))
    }

    /// Opens the store for a command that only reads: as [`Store::open`], but a local database that
    /// cannot be written (a read-only file or directory) is opened read-only instead, as long as it
    /// needs no migration.
    pub async fn open_for_reading(env: &Env) -> Result<Store> {
        Store::open_readable(env, true).await
    }

    /// As [`Store::open_unmigrated`], falling back to a read-only open like [`Store::open_for_reading`]
    /// (pending migrations are then only reported).
    pub async fn open_unmigrated_for_reading(env: &Env) -> Result<Store> {
        Store::open_readable(env, false).await
    }

    async fn open_readable(env: &Env, migrated: bool) -> Result<Store> {
        let first = if migrated {
            Store::open(env).await
        } else {
            Store::open_unmigrated(env).await
        };
        let Err(e) = &first else {
            return first;
        };
        if env.db_url.is_some() || !is_read_only_error(e) || !env.db_path().is_file() {
            return first;
        }
        let store = Store::open_local_read_only(&env.db_path()).await?;
        store.check_ours().await?;
        let status = store.status().await?;
        if migrated && !status.pending.is_empty() {
            return Err(StoreError::ReadOnlyNeedsMigration {
                location: store.location.clone(),
                pending: status.pending.join(", "),
            });
        }
        tracing::info!(location = %store.location, "database opened read-only");
        Ok(store)
    }

    /// True when the store was opened read-only.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    pub async fn open_remote(url: &str, token: &str) -> Result<Store> {
        let location = redact_url(url);
        let db = Builder::new_remote(url.to_string(), token.to_string())
            .build()
            .await
            .map_err(|reason| StoreError::Open {
                location: location.clone(),
                reason,
            })?;
        let conn = db.connect().map_err(|reason| StoreError::Open {
            location: location.clone(),
            reason,
        })?;
        let conn = Conn {
            inner: conn,
            remote: Some(Arc::from(location.as_str())),
        };
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
        })
    }

    pub fn conn(&self) -> &Conn {
        &self.conn
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    pub fn is_remote(&self) -> bool {
        self.remote
    }

    /// Runs `work` inside `BEGIN IMMEDIATE … COMMIT`; any error rolls everything back. Use it for
    /// every multi-row write that must not tear.
    ///
    /// Transactions run on a connection kept for them alone (on a local file; a server uses its one
    /// stream, see `open_remote`), one at a time within this process (a mutex), while plain reads use
    /// the main connection: a concurrent caller (the web server's
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
        let conn = self.writer.lock().await;
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

    /// The database's own tables (not SQLite's or the server's internal ones).
    async fn user_tables(&self) -> Result<Vec<String>> {
        let mut rows = self
            .conn
            .query(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') \
                 AND name NOT LIKE 'sqlite!_%' ESCAPE '!' AND name NOT LIKE 'libsql!_%' ESCAPE '!' \
                 AND name NOT LIKE '!_%' ESCAPE '!' ORDER BY name",
                (),
            )
            .await?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().await? {
            out.push(row.get::<String>(0)?);
        }
        Ok(out)
    }

    /// Refuses a database that belongs to something else: nxr works only on an empty database or one
    /// whose `schema_migrations` history is nxr's own (a newer nxr's versions are allowed here and
    /// refused by [`Store::migrate`] as too new). Reads only.
    pub async fn check_ours(&self) -> Result<()> {
        let tables = self.user_tables().await?;
        let foreign = |tables: &[String]| {
            let mut shown: Vec<&str> = tables.iter().take(5).map(String::as_str).collect();
            if tables.len() > 5 {
                shown.push("…");
            }
            StoreError::Foreign {
                location: self.location.clone(),
                tables: format!("the tables {}", shown.join(", ")),
            }
        };
        if tables.is_empty() {
            return Ok(());
        }
        if !tables.iter().any(|t| t == "schema_migrations") {
            return match self.is_unrecorded_baseline(&tables).await? {
                true => Ok(()),
                false => Err(foreign(&tables)),
            };
        }
        let Ok(mut rows) = self
            .conn
            .query("SELECT version, name FROM schema_migrations", ())
            .await
        else {
            return Err(foreign(&tables));
        };
        let mut recorded = 0;
        loop {
            let row = match rows.next().await {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(_) => return Err(foreign(&tables)),
            };
            let (Ok(version), Ok(name)) = (row.get::<i64>(0), row.get::<String>(1)) else {
                return Err(foreign(&tables));
            };
            recorded += 1;
            if let Some(m) = MIGRATIONS.iter().find(|m| m.version == version)
                && m.name != name
            {
                return Err(foreign(&tables));
            }
        }
        // An empty history is nxr's only when nothing else is there (an older nxr's `db status` on
        // an empty database left just that table).
        if recorded == 0 && tables.len() > 1 {
            let rest: Vec<String> = tables
                .iter()
                .filter(|t| *t != "schema_migrations")
                .cloned()
                .collect();
            if !self.is_unrecorded_baseline(&rest).await? {
                return Err(foreign(&tables));
            }
        }
        Ok(())
    }

    /// True when `tables` are nxr's baseline tables, each with at least the baseline's columns: an
    /// early nxr made them without recording the migration. (A table that only shares a name, such
    /// as another application's `agents(x)`, is not.)
    async fn is_unrecorded_baseline(&self, tables: &[String]) -> Result<bool> {
        let reference = Builder::new_local(":memory:").build().await?;
        let reference = reference.connect()?;
        reference.execute_batch(MIGRATIONS[0].sql).await?;
        for table in tables {
            let want = table_columns(&reference, table).await?;
            if want.is_empty() {
                return Ok(false);
            }
            let have = table_columns(&self.conn, table).await?;
            if !want.iter().all(|c| have.contains(c)) {
                return Ok(false);
            }
        }
        Ok(true)
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
            let at = crate::domain::clock::to_db(chrono::Utc::now());
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

    /// Writes one setting.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        let at = crate::domain::clock::to_db(chrono::Utc::now());
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

/// The column names of `table` (empty when there is no such table).
async fn table_columns(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let mut rows = conn
        .query("SELECT name FROM pragma_table_info(?1)", params![table])
        .await?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        out.push(row.get::<String>(0)?);
    }
    Ok(out)
}

/// A file path as the path part of an SQLite URI (`%`, `?` and `#` escaped).
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.display().to_string().chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

/// True for the errors a database that may not be written gives on a normal open.
fn is_read_only_error(e: &StoreError) -> bool {
    const SQLITE_READONLY: std::ffi::c_int = 8;
    const SQLITE_CANTOPEN: std::ffi::c_int = 14;
    const SQLITE_PERM: std::ffi::c_int = 3;
    let reason = match e {
        StoreError::Open { reason, .. }
        | StoreError::Migration { reason, .. }
        | StoreError::Sql(reason) => reason,
        StoreError::CreateDir { .. } => return true,
        _ => return false,
    };
    match reason {
        libsql::Error::SqliteFailure(code, msg) => {
            matches!(code & 0xff, SQLITE_READONLY | SQLITE_CANTOPEN | SQLITE_PERM)
                || msg.contains("readonly")
                || msg.contains("read-only")
        }
        other => {
            let text = other.to_string();
            text.contains("readonly") || text.contains("read-only")
        }
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

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_secrets_from_server_urls() {
        assert_eq!(
            super::redact_url("libsql://user:pw@db.example.com/x?authToken=abc"),
            "libsql://db.example.com/x"
        );
        assert_eq!(
            super::redact_url("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
    }
}
