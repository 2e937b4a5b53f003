//! The hosts that share this database (team mode): each one that runs nxr beats in `hosts`
//! (migrations/0014) with the time, its nxr version, whether an `nxr serve` runs there, and how its
//! last reconcile went. A host is "up" while its last beat is younger than [`UP_FOR_SECONDS`].

use crate::domain::base::clock;
use crate::domain::store::{Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use libsql::params;
use serde::Serialize;

/// How long a beat says a host is up (`nxr serve` beats every few seconds).
pub const UP_FOR_SECONDS: i64 = 60;

/// One host as the database knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Host {
    pub name: String,
    pub first_seen: String,
    pub last_seen: String,
    pub version: String,
    /// An `nxr serve` ran there at the last beat.
    pub serving: bool,
    /// The last beat is younger than [`UP_FOR_SECONDS`].
    pub up: bool,
    pub reconciled_at: Option<String>,
    /// What its last reconcile could not do (none when it did everything).
    pub last_error: Option<String>,
}

/// Records that host `name` runs nxr now (`serving`: an `nxr serve`).
pub async fn beat(
    store: &Store,
    name: &str,
    serving: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let at = clock::to_db(now);
    store
        .conn()
        .execute(
            "INSERT INTO hosts (name, first_seen, last_seen, version, serving) VALUES (?1, ?2, ?2, ?3, ?4)
             ON CONFLICT(name) DO UPDATE SET last_seen = excluded.last_seen,
               version = excluded.version, serving = excluded.serving",
            params![name, at, env!("CARGO_PKG_VERSION"), i64::from(serving)],
        )
        .await?;
    Ok(())
}

/// Records how host `name`'s reconcile at `now` went (`error`: what it could not do).
pub async fn reconciled(
    store: &Store,
    name: &str,
    now: DateTime<Utc>,
    error: Option<&str>,
) -> Result<(), StoreError> {
    let at = clock::to_db(now);
    store
        .conn()
        .execute(
            "INSERT INTO hosts (name, first_seen, last_seen, version, reconciled_at, last_error)
             VALUES (?1, ?2, ?2, ?3, ?2, ?4)
             ON CONFLICT(name) DO UPDATE SET last_seen = excluded.last_seen,
               reconciled_at = excluded.reconciled_at, last_error = excluded.last_error",
            params![name, at, env!("CARGO_PKG_VERSION"), error],
        )
        .await?;
    Ok(())
}

/// Every host that ever beat, by name, with whether it is up at `now`.
pub async fn list(store: &Store, now: DateTime<Utc>) -> Result<Vec<Host>, StoreError> {
    let mut rows = store
        .conn()
        .query(
            "SELECT name, first_seen, last_seen, version, serving, reconciled_at, last_error
             FROM hosts ORDER BY name",
            (),
        )
        .await?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        let last_seen: String = row.get(2)?;
        let up =
            clock::from_db(&last_seen).is_some_and(|t| now - t < Duration::seconds(UP_FOR_SECONDS));
        out.push(Host {
            name: row.get(0)?,
            first_seen: row.get(1)?,
            last_seen,
            version: row.get(3)?,
            serving: row.get::<i64>(4)? != 0,
            up,
            reconciled_at: row.get(5)?,
            last_error: row.get(6)?,
        });
    }
    Ok(out)
}
