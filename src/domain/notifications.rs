//! Notifications: what nxr wants the user to see (an upgrade is available, a scan finished, the free
//! budget is nearly spent). Rows live in the `notifications` table (migrations/0001); producers call
//! [`add`], the TUI/web list them and mark them read.

use crate::domain::clock::{self, Clock};
use crate::domain::store::{Store, StoreError};
use libsql::params;
use serde::{Deserialize, Serialize};

/// `kind` of a notification that proposes moving an agent to a better model.
pub const KIND_UPGRADE: &str = "upgrade";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub agent_id: Option<i64>,
    /// JSON text; for `upgrade`: [`UpgradePayload`].
    pub payload: Option<String>,
    pub created_at: String,
    pub read_at: Option<String>,
}

/// What an `upgrade` notification proposes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradePayload {
    /// The agent's name.
    pub agent: String,
    #[serde(default)]
    pub from_model: Option<String>,
    pub to_model: String,
}

impl Notification {
    pub fn is_unread(&self) -> bool {
        self.read_at.is_none()
    }

    /// The proposed upgrade, when this is an `upgrade` notification with a readable payload.
    pub fn upgrade(&self) -> Option<UpgradePayload> {
        if self.kind != KIND_UPGRADE {
            return None;
        }
        serde_json::from_str(self.payload.as_deref()?).ok()
    }
}

/// A notification to record.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub kind: String,
    pub title: String,
    pub body: String,
    pub agent_id: Option<i64>,
    pub payload: Option<String>,
}

/// Records a notification; returns its id.
pub async fn add(
    store: &Store,
    new: NewNotification,
    clock: &dyn Clock,
) -> Result<i64, StoreError> {
    let at = clock::to_db(clock.now());
    store
        .conn()
        .execute(
            "INSERT INTO notifications (kind, title, body, agent_id, payload, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![new.kind, new.title, new.body, new.agent_id, new.payload, at],
        )
        .await?;
    Ok(store.conn().last_insert_rowid())
}

/// The newest notifications first (at most `limit`).
pub async fn list(store: &Store, limit: u32) -> Result<Vec<Notification>, StoreError> {
    let mut rows = store
        .conn()
        .query(
            "SELECT id, kind, title, body, agent_id, payload, created_at, read_at FROM notifications
             ORDER BY created_at DESC, id DESC LIMIT ?1",
            params![limit],
        )
        .await?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        out.push(Notification {
            id: row.get(0)?,
            kind: row.get(1)?,
            title: row.get(2)?,
            body: row.get(3)?,
            agent_id: row.get(4)?,
            payload: row.get(5)?,
            created_at: row.get(6)?,
            read_at: row.get(7)?,
        });
    }
    Ok(out)
}

pub async fn unread_count(store: &Store) -> Result<u64, StoreError> {
    let mut rows = store
        .conn()
        .query(
            "SELECT COUNT(*) FROM notifications WHERE read_at IS NULL",
            (),
        )
        .await?;
    Ok(match rows.next().await? {
        Some(row) => row.get::<i64>(0)?.max(0) as u64,
        None => 0,
    })
}

/// Marks one notification read. Returns false when no unread notification has that id.
pub async fn mark_read(store: &Store, id: i64, clock: &dyn Clock) -> Result<bool, StoreError> {
    let at = clock::to_db(clock.now());
    let n = store
        .conn()
        .execute(
            "UPDATE notifications SET read_at = ?1 WHERE id = ?2 AND read_at IS NULL",
            params![at, id],
        )
        .await?;
    Ok(n > 0)
}

/// Marks every unread notification read; returns how many changed.
pub async fn mark_all_read(store: &Store, clock: &dyn Clock) -> Result<u64, StoreError> {
    let at = clock::to_db(clock.now());
    let n = store
        .conn()
        .execute(
            "UPDATE notifications SET read_at = ?1 WHERE read_at IS NULL",
            params![at],
        )
        .await?;
    Ok(n)
}
