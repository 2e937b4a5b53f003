//! Cheap change marks for the TUI's background watcher: it polls these and, when one moves, tells the
//! UI which kind of data changed (another process — `nxr` CLI, `nxr serve`, the scanner, Hermes — wrote).

pub mod agent_check;
pub mod scan_notices;
pub mod scanner;
pub mod scheduler;
pub mod team;

use crate::domain::store::{Store, StoreError};
use std::path::Path;
use std::time::SystemTime;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marks {
    /// (row count, max id, unread count) of `notifications`.
    pub notifications: (i64, i64, i64),
    /// (row count, max id) of `usage_events`.
    pub usage: (i64, i64),
    /// (row count, max updated_at) of `agents`.
    pub agents: (i64, String),
    /// The newest `model_scores.scored_at` and `catalog_meta.fetched_at`.
    pub scans: (String, String),
    /// Modification times of config.yaml, gateway_state.json, gateway.pid.
    pub files: Vec<Option<SystemTime>>,
}

async fn row(store: &Store, sql: &str) -> Result<Vec<libsql::Value>, StoreError> {
    let mut rows = store.conn().query(sql, ()).await?;
    let mut out = Vec::new();
    if let Some(r) = rows.next().await? {
        for i in 0..r.column_count() {
            out.push(r.get_value(i)?);
        }
    }
    Ok(out)
}

fn int(v: Option<&libsql::Value>) -> i64 {
    match v {
        Some(libsql::Value::Integer(i)) => *i,
        _ => 0,
    }
}

fn text(v: Option<&libsql::Value>) -> String {
    match v {
        Some(libsql::Value::Text(s)) => s.clone(),
        _ => String::new(),
    }
}

fn mtime(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

pub async fn marks(store: &Store, hermes_home: &Path) -> Result<Marks, StoreError> {
    let n = row(
        store,
        "SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(SUM(read_at IS NULL), 0) FROM notifications",
    )
    .await?;
    let u = row(
        store,
        "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM usage_events",
    )
    .await?;
    let a = row(
        store,
        "SELECT COUNT(*), COALESCE(MAX(updated_at), '') FROM agents",
    )
    .await?;
    let s = row(
        store,
        "SELECT COALESCE((SELECT MAX(scored_at) FROM model_scores), ''), COALESCE((SELECT fetched_at FROM catalog_meta WHERE id = 1), '')",
    )
    .await?;
    Ok(Marks {
        notifications: (int(n.first()), int(n.get(1)), int(n.get(2))),
        usage: (int(u.first()), int(u.get(1))),
        agents: (int(a.first()), text(a.get(1))),
        scans: (text(s.first()), text(s.get(1))),
        files: ["config.yaml", "gateway_state.json", "gateway.pid"]
            .iter()
            .map(|f| mtime(&hermes_home.join(f)))
            .collect(),
    })
}
