//! The `onboarding` row: reading it, starting it, recording a finished step and completing it. Only
//! this module writes the table; each step advances it only when the step before it is recorded.

use super::*;

pub(super) fn json_list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

pub(super) fn json_map(s: &str) -> BTreeMap<String, String> {
    serde_json::from_str(s).unwrap_or_default()
}

pub(super) fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

pub(super) const RECORD_COLUMNS: &str = "id, mode, started_at, completed_at, agents_created, initial_free_models, ollama_detected, faster_whisper_detected, steps_completed";

pub(super) fn record_from_row(row: &libsql::Row) -> Result<Record, libsql::Error> {
    let mode: String = row.get(1)?;
    Ok(Record {
        id: row.get(0)?,
        mode: if mode == "key" { Mode::Key } else { Mode::Free },
        started_at: row.get(2)?,
        completed_at: row.get::<Option<String>>(3)?,
        agents_created: json_list(&row.get::<String>(4)?),
        initial_free_models: json_map(&row.get::<String>(5)?),
        ollama_detected: row.get::<i64>(6)? != 0,
        faster_whisper_detected: row.get::<i64>(7)? != 0,
        steps_completed: json_list(&row.get::<String>(8)?),
    })
}

/// The latest onboarding record (complete or not).
pub async fn latest(store: &Store) -> Result<Option<Record>> {
    let mut rows = store
        .conn()
        .query(
            &format!("SELECT {RECORD_COLUMNS} FROM onboarding ORDER BY id DESC LIMIT 1"),
            (),
        )
        .await?;
    Ok(match rows.next().await? {
        Some(row) => Some(record_from_row(&row)?),
        None => None,
    })
}

/// The completed record, if nxr has been set up.
pub async fn completed(store: &Store) -> Result<Option<Record>> {
    Ok(latest(store).await?.filter(Record::is_complete))
}

/// Every onboarding record, oldest first.
pub async fn all_records(store: &Store) -> Result<Vec<Record>> {
    let mut rows = store
        .conn()
        .query(
            &format!("SELECT {RECORD_COLUMNS} FROM onboarding ORDER BY id"),
            (),
        )
        .await?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        out.push(record_from_row(&row)?);
    }
    Ok(out)
}

pub(super) async fn record(store: &Store, id: i64) -> Result<Record> {
    let mut rows = store
        .conn()
        .query(
            &format!("SELECT {RECORD_COLUMNS} FROM onboarding WHERE id = ?1"),
            params![id],
        )
        .await?;
    match rows.next().await? {
        Some(row) => Ok(record_from_row(&row)?),
        None => Err(OnboardingError::OutOfOrder {
            step: "detect",
            needs: "key",
        }),
    }
}

/// The record a step continues: the latest incomplete one, which must have done `needs`.
pub(super) async fn in_progress(
    store: &Store,
    step: &'static str,
    needs: &'static str,
) -> Result<Record> {
    match latest(store).await? {
        Some(r) if r.is_complete() => Err(OnboardingError::AlreadyDone {
            completed_at: r.completed_at.unwrap_or_default(),
        }),
        Some(r) if r.has_step(needs) => Ok(r),
        _ => Err(OnboardingError::OutOfOrder { step, needs }),
    }
}

pub(super) fn with_step(steps: &[String], step: &str) -> Vec<String> {
    let mut out: Vec<String> = steps.to_vec();
    if !out.iter().any(|s| s == step) {
        out.push(step.to_string());
    }
    out
}

/// Adds `step` to record `id` and sets `set` (`"col = ?1, col2 = ?2"`, numbered from 1) to `values`,
/// in one transaction. False when the record is gone or already completed (another run finished it).
pub(super) async fn advance(
    store: &Store,
    id: i64,
    step: &'static str,
    set: &'static str,
    values: Vec<libsql::Value>,
) -> Result<bool> {
    Ok(store
        .in_transaction(move |conn| async move {
            let mut rows = conn
                .query(
                    "SELECT steps_completed FROM onboarding WHERE id = ?1 AND completed_at IS NULL",
                    params![id],
                )
                .await?;
            let steps = match rows.next().await? {
                Some(row) => json_list(&row.get::<String>(0)?),
                None => return Ok(false),
            };
            drop(rows);
            let n = values.len();
            let mut all = values;
            all.push(to_json(&with_step(&steps, step)).into());
            all.push(id.into());
            let sep = if set.is_empty() { "" } else { ", " };
            conn.execute(
                &format!(
                    "UPDATE onboarding SET {set}{sep}steps_completed = ?{} WHERE id = ?{}",
                    n + 1,
                    n + 2
                ),
                libsql::params_from_iter(all),
            )
            .await?;
            Ok(true)
        })
        .await?)
}

/// Completes record `id` with `steps`, and closes (removes) any other unfinished record, in one
/// transaction. False when the record is gone or was completed meanwhile.
pub(super) async fn complete(
    store: &Store,
    id: i64,
    steps: Vec<String>,
    at: String,
) -> Result<bool> {
    Ok(store
        .in_transaction(move |conn| async move {
            let n = conn
                .execute(
                    "UPDATE onboarding SET completed_at = ?1, steps_completed = ?2 WHERE id = ?3 AND completed_at IS NULL",
                    params![at, to_json(&steps), id],
                )
                .await?;
            if n == 0 {
                return Ok(false);
            }
            conn.execute(
                "DELETE FROM onboarding WHERE completed_at IS NULL AND id <> ?1",
                params![id],
            )
            .await?;
            Ok(true)
        })
        .await?)
}

/// Forgets every onboarding record (agents, keys and config are kept). Returns how many were removed.
pub async fn reset(store: &Store) -> Result<u64> {
    Ok(store.conn().execute("DELETE FROM onboarding", ()).await?)
}
