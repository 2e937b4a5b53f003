//! Notifications: what nxr wants the user to see (an upgrade is available, a scan finished, the free
//! budget is nearly spent). Rows live in the `notifications` table (migrations/0001); producers call
//! [`add`], or [`add_once`] with a dedupe key for facts that must be told once (the scanner, the
//! budget thresholds); the TUI/web/CLI list them and mark them read.

pub mod telegram;
pub mod telegram_forward;

use crate::domain::base::clock::{self, Clock};
use crate::domain::store::{Store, StoreError};
use libsql::params;
use serde::{Deserialize, Serialize};

/// `kind` of a notification that proposes moving an agent to a better model.
pub const KIND_UPGRADE: &str = "upgrade";
/// A Paperclip agent over its monthly budget (`paperclip_guard`).
pub const KIND_PAPERCLIP_BUDGET: &str = "paperclip_budget";
/// nxr moved an auto-assigned agent to a better free model by itself (`auto_upgrade_free_models`).
pub const KIND_AUTO_UPGRADED: &str = "auto_upgraded";
/// An agent's model left the catalog.
pub const KIND_MODEL_GONE: &str = "model_gone";
/// An agent's free model is paid now.
pub const KIND_NOW_PAID: &str = "model_now_paid";
/// An agent's model no longer has a capability its role needs (tools, context, text output).
pub const KIND_CAPABILITY_LOST: &str = "capability_lost";
/// An agent's model has an `expiration_date` within a week.
pub const KIND_EXPIRING: &str = "model_expiring";
/// The free daily request bucket crossed 70 / 90 / 100 %.
pub const KIND_BUDGET: &str = "budget";
/// More than half of an agent's requests today were answered by its fallback chain, not its model.
pub const KIND_ON_FALLBACK: &str = "on_fallback";

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
    /// The agent's role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The new model's score minus the current one's (None when the current one is not scored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_delta: Option<i64>,
    /// The one command that applies it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

/// The command that moves `agent` to `model`.
pub fn upgrade_action(agent: &str, model: &str) -> String {
    let q = |s: &str| {
        if s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:".contains(c))
        {
            s.to_string()
        } else {
            format!("'{}'", s.replace('\'', "'\\''"))
        }
    };
    format!("nxr upgrade --agent {} --to {}", q(agent), q(model))
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

/// Records a notification unless one with the same `dedupe_key` exists; returns its id when recorded.
pub async fn add_once(
    store: &Store,
    new: NewNotification,
    dedupe_key: &str,
    clock: &dyn Clock,
) -> Result<Option<i64>, StoreError> {
    let at = clock::to_db(clock.now());
    let n = store
        .conn()
        .execute(
            "INSERT OR IGNORE INTO notifications (kind, title, body, agent_id, payload, created_at, dedupe_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![new.kind, new.title, new.body, new.agent_id, new.payload, at, dedupe_key],
        )
        .await?;
    Ok((n > 0).then(|| store.conn().last_insert_rowid()))
}

/// True when a notification with this dedupe key was recorded.
pub async fn exists(store: &Store, dedupe_key: &str) -> Result<bool, StoreError> {
    let mut rows = store
        .conn()
        .query(
            "SELECT 1 FROM notifications WHERE dedupe_key = ?1",
            params![dedupe_key],
        )
        .await?;
    Ok(rows.next().await?.is_some())
}

/// The newest notifications first (at most `limit`).
pub async fn list(store: &Store, limit: u32) -> Result<Vec<Notification>, StoreError> {
    list_where(store, limit, false).await
}

/// The newest notifications first (at most `limit`), only the unread ones when `unread_only`.
pub async fn list_where(
    store: &Store,
    limit: u32,
    unread_only: bool,
) -> Result<Vec<Notification>, StoreError> {
    let mut rows = store
        .conn()
        .query(
            "SELECT id, kind, title, body, agent_id, payload, created_at, read_at FROM notifications
             WHERE (?2 = 0 OR read_at IS NULL)
             ORDER BY created_at DESC, id DESC LIMIT ?1",
            params![limit, i64::from(unread_only)],
        )
        .await?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        out.push(from_row(&row)?);
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

/// One notification by id.
pub async fn get(store: &Store, id: i64) -> Result<Option<Notification>, StoreError> {
    let mut rows = store
        .conn()
        .query(
            "SELECT id, kind, title, body, agent_id, payload, created_at, read_at FROM notifications WHERE id = ?1",
            params![id],
        )
        .await?;
    Ok(match rows.next().await? {
        Some(row) => Some(from_row(&row)?),
        None => None,
    })
}

/// A notification from a row selected as `id, kind, title, body, agent_id, payload, created_at,
/// read_at`.
fn from_row(row: &libsql::Row) -> Result<Notification, libsql::Error> {
    Ok(Notification {
        id: row.get(0)?,
        kind: row.get(1)?,
        title: row.get(2)?,
        body: row.get(3)?,
        agent_id: row.get(4)?,
        payload: row.get(5)?,
        created_at: row.get(6)?,
        read_at: row.get(7)?,
    })
}
