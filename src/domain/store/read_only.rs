//! Opening a local database that may not be written, for the commands that only read.

use super::{Conn, Result, Store, StoreError, open_error};
use crate::domain::base::env::Env;
use libsql::{Builder, Connection, Database};
use std::path::Path;

impl Store {
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
            _db: std::sync::Arc::new(db),
            conn: Conn::local(conn),
            writer: tokio::sync::Mutex::new(Conn::local(writer)),
            location,
            remote: false,
            read_only: true,
            clock: crate::domain::base::clock::system(),
            memos: Default::default(),
        })
    }

    /// Opens a local database file to read without leaving any trace: when no `-wal`/`-shm` file is
    /// next to it (no process has it open, and it was closed cleanly) it is read as immutable, which
    /// creates neither; otherwise as [`Store::open_local_read_only`], which uses the existing ones.
    pub async fn open_local_untouched(path: &Path) -> Result<Store> {
        let side = |suffix: &str| {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            std::path::PathBuf::from(p).exists()
        };
        if side("-wal") || side("-shm") {
            return Store::open_local_read_only(path).await;
        }
        let location = format!("file:{}", path.display());
        const SQLITE_OPEN_URI: std::ffi::c_int = 0x40;
        let flags = libsql::OpenFlags::from_bits_retain(
            libsql::OpenFlags::SQLITE_OPEN_READ_ONLY.bits() | SQLITE_OPEN_URI,
        );
        let uri = format!("file:{}?immutable=1", uri_path(path));
        let (db, conn) = Store::try_read_only(Path::new(&uri), flags)
            .await
            .map_err(|reason| open_error(path, &location, reason))?;
        let writer = db.connect()?;
        Ok(Store {
            _db: std::sync::Arc::new(db),
            conn: Conn::local(conn),
            writer: tokio::sync::Mutex::new(Conn::local(writer)),
            location,
            remote: false,
            read_only: true,
            clock: crate::domain::base::clock::system(),
            memos: Default::default(),
        })
    }

    async fn try_read_only(
        path: &Path,
        flags: libsql::OpenFlags,
    ) -> std::result::Result<(Database, Connection), libsql::Error> {
        let db = Builder::new_local(path).flags(flags).build().await?;
        let conn = db.connect()?;
        conn.busy_timeout(super::BUSY_TIMEOUT)?;
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
