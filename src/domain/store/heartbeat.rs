//! Whether an `nxr serve` is running: each one renews a lease row named `serve:<holder>` every
//! minute (`leases`, migrations/0008) that holds for [`BEAT_TTL_MINUTES`]; a stopped one gives it up.
//! A row whose time has passed means that instance stopped (or was killed). Works the same on a local
//! file and on a libSQL server shared by several machines. Also when the last catalog scan ran
//! (any instance's, from `scans`).

use crate::domain::base::clock;
use crate::domain::store::{Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use libsql::params;
use serde::Serialize;

/// The prefix of the lease names `nxr serve` instances beat under.
pub const PREFIX: &str = "serve:";
/// How long one beat holds; `nxr serve` beats every minute.
pub const BEAT_TTL_MINUTES: i64 = 3;

/// One running `nxr serve`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Running {
    /// `host:pid:tag`.
    pub holder: String,
    /// Until when its last beat holds.
    pub until: DateTime<Utc>,
}

/// Records that `holder` runs, until `now` + [`BEAT_TTL_MINUTES`]; drops beats that ended over a
/// day ago (instances that were killed).
pub async fn beat(store: &Store, holder: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    let name = format!("{PREFIX}{holder}");
    let until = clock::to_db(now + Duration::minutes(BEAT_TTL_MINUTES));
    store
        .conn()
        .execute(
            "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO UPDATE SET expires_at = excluded.expires_at",
            params![name, holder, until],
        )
        .await?;
    store
        .conn()
        .execute(
            "DELETE FROM leases WHERE name LIKE 'serve:%' AND expires_at < ?1",
            params![clock::to_db(now - Duration::days(1))],
        )
        .await?;
    Ok(())
}

/// Gives up `holder`'s beat (a clean stop).
pub async fn stop(store: &Store, holder: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    store
        .conn()
        .execute(
            "UPDATE leases SET expires_at = ?1 WHERE name = ?2",
            params![clock::to_db(now), format!("{PREFIX}{holder}")],
        )
        .await?;
    Ok(())
}

/// The `nxr serve` instances whose beat still holds at `now`. Writes nothing.
pub async fn running(store: &Store, now: DateTime<Utc>) -> Result<Vec<Running>, StoreError> {
    let mut rows = store
        .conn()
        .query(
            "SELECT holder, expires_at FROM leases WHERE name LIKE 'serve:%' ORDER BY holder",
            (),
        )
        .await?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        let holder: String = row.get(0)?;
        let until = row
            .get::<String>(1)
            .ok()
            .as_deref()
            .and_then(clock::from_db);
        if let Some(until) = until.filter(|u| *u > now) {
            out.push(Running { holder, until });
        }
    }
    Ok(out)
}

/// When the last finished scan started, if any.
pub async fn last_scan_at(store: &Store) -> Result<Option<DateTime<Utc>>, StoreError> {
    let mut rows = store
        .conn()
        .query("SELECT MAX(started_at) FROM scans WHERE status = 'ok'", ())
        .await?;
    Ok(match rows.next().await? {
        Some(r) => r
            .get::<Option<String>>(0)?
            .as_deref()
            .and_then(clock::from_db),
        None => None,
    })
}
