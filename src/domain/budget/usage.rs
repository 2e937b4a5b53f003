//! Usage from Hermes: each agent's profile keeps a `state.db` whose `session_model_usage` table counts
//! API calls, tokens and cost per (session, model, billing route, task), growing while a session runs.
//! [`ingest`] opens each one read-only and adds to `usage_events` only what grew since the last ingest
//! (remembered per row in `usage_ingest`), so running it twice adds nothing. Rows whose billing URL is
//! the relay's are not added: the relay recorded those calls as they happened.

use crate::domain::agents::{self, Agent};
use crate::domain::base::clock::{self, Clock};
use crate::domain::base::env::Env;
use crate::domain::catalog::Model;
use crate::domain::store::{Store, StoreError};
use chrono::{DateTime, TimeZone, Utc};
use libsql::{Value, params};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// `usage_events.source` of rows read from Hermes.
pub const SOURCE_HERMES: &str = "hermes";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngestReport {
    /// Agents whose profile had a state.db.
    pub profiles_read: usize,
    /// `session_model_usage` rows seen.
    pub rows_seen: usize,
    /// `usage_events` rows added.
    pub events_added: usize,
    /// Requests (API calls) added.
    pub requests_added: u64,
    pub warnings: Vec<String>,
}

/// One `session_model_usage` row, as far as nxr needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct HermesUsage {
    /// session, model, billing provider/base URL/mode and task, joined: the row's identity.
    pub key: String,
    pub session_id: String,
    pub model: String,
    pub api_calls: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: f64,
    pub last_seen: Option<DateTime<Utc>>,
    /// The calls went through the relay, which recorded them itself.
    pub via_relay: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error("cannot read Hermes usage from {path}: {reason}; check that it is a Hermes state.db")]
    Read { path: String, reason: String },
}

/// The state.db of an agent's Hermes profile.
pub fn state_db(agent: &Agent) -> PathBuf {
    agent.profile().dir.join("state.db")
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::Text(s)) => s.clone(),
        Some(Value::Integer(i)) => i.to_string(),
        _ => String::new(),
    }
}

fn int(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Integer(i)) => *i,
        Some(Value::Real(r)) => *r as i64,
        _ => 0,
    }
}

fn real(v: Option<&Value>) -> f64 {
    match v {
        Some(Value::Real(r)) if r.is_finite() => *r,
        Some(Value::Integer(i)) => *i as f64,
        _ => 0.0,
    }
}

fn unix(v: Option<&Value>) -> Option<DateTime<Utc>> {
    let secs = match v {
        Some(Value::Real(r)) if r.is_finite() => *r,
        Some(Value::Integer(i)) => *i as f64,
        _ => return None,
    };
    Utc.timestamp_opt(secs as i64, 0).single()
}

/// Reads every `session_model_usage` row of a Hermes state.db, opened read-only.
pub async fn read_state_db(path: &Path) -> Result<Vec<HermesUsage>, UsageError> {
    let fail = |reason: String| UsageError::Read {
        path: path.display().to_string(),
        reason,
    };
    let db = libsql::Builder::new_local(path)
        .flags(libsql::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .build()
        .await
        .map_err(|e| fail(e.to_string()))?;
    let conn = db.connect().map_err(|e| fail(e.to_string()))?;
    let _ = conn.busy_timeout(std::time::Duration::from_secs(5));
    let mut rows = match conn.query("SELECT * FROM session_model_usage", ()).await {
        Ok(r) => r,
        Err(e) if e.to_string().contains("no such table") => return Ok(Vec::new()),
        Err(e) => return Err(fail(e.to_string())),
    };
    let mut names: Vec<String> = Vec::new();
    let mut out = Vec::new();
    while let Some(row) = rows.next().await.map_err(|e| fail(e.to_string()))? {
        if names.is_empty() {
            names = (0..row.column_count())
                .map(|i| row.column_name(i).unwrap_or("").to_string())
                .collect();
        }
        let mut cols: HashMap<&str, Value> = HashMap::new();
        for (i, n) in names.iter().enumerate() {
            if let Ok(v) = row.get_value(i as i32) {
                cols.insert(n.as_str(), v);
            }
        }
        let session_id = text(cols.get("session_id"));
        let model = text(cols.get("model"));
        let key = [
            "session_id",
            "model",
            "billing_provider",
            "billing_base_url",
            "billing_mode",
            "task",
        ]
        .iter()
        .map(|c| text(cols.get(c)))
        .collect::<Vec<_>>()
        .join("|");
        let actual = real(cols.get("actual_cost_usd"));
        out.push(HermesUsage {
            key,
            session_id,
            model,
            api_calls: int(cols.get("api_call_count")).max(0),
            input_tokens: int(cols.get("input_tokens")).max(0),
            output_tokens: int(cols.get("output_tokens")).max(0),
            cost_usd: if actual > 0.0 {
                actual
            } else {
                real(cols.get("estimated_cost_usd")).max(0.0)
            },
            last_seen: unix(cols.get("last_seen")).or_else(|| unix(cols.get("first_seen"))),
            via_relay: crate::domain::agents::relay_route::is_relay_url(&text(
                cols.get("billing_base_url"),
            )),
        });
    }
    Ok(out)
}

/// Free per the catalog, or by the `:free` suffix for a model the catalog does not know.
pub fn model_is_free(models: &[Model], id: &str) -> bool {
    match models.binary_search_by(|m| m.id.as_str().cmp(id)) {
        Ok(i) => models[i].is_free(),
        Err(_) => models
            .iter()
            .find(|m| m.id == id)
            .map(|m| m.is_free())
            .unwrap_or_else(|| id.ends_with(":free")),
    }
}

/// Adds what each agent's Hermes usage grew by since the last ingest (the catalog, which says which
/// models are free, is read only when some profile has usage).
pub async fn ingest(
    store: &Store,
    env: &Env,
    clock: &dyn Clock,
) -> Result<IngestReport, StoreError> {
    ingest_with(store, env, None, clock).await
}

/// [`ingest`] with the catalog already at hand.
pub async fn ingest_with(
    store: &Store,
    env: &Env,
    models: Option<&[Model]>,
    clock: &dyn Clock,
) -> Result<IngestReport, StoreError> {
    let mut loaded: Option<Vec<Model>> = None;
    let mut report = IngestReport::default();
    let list = match agents::list(store, env).await {
        Ok(l) => l,
        Err(e) => {
            report.warnings.push(format!("cannot list the agents: {e}"));
            return Ok(report);
        }
    };
    // Team mode: only this host's profiles (another host's agent may share a profile name here,
    // the root profile above all).
    for agent in list.into_iter().filter(|a| a.is_here(env)) {
        let path = state_db(&agent);
        if agent.hermes_profile_path.is_empty() || !path.is_file() {
            continue;
        }
        let rows = match read_state_db(&path).await {
            Ok(r) => r,
            Err(e) => {
                report.warnings.push(e.to_string());
                continue;
            }
        };
        report.profiles_read += 1;
        report.rows_seen += rows.len();
        if models.is_none() && loaded.is_none() {
            loaded = Some(crate::domain::catalog::load(store).await?.models);
        }
        let models = models.or(loaded.as_deref()).unwrap_or(&[]);
        let (events, requests) = ingest_agent(store, &agent, &rows, models, clock).await?;
        report.events_added += events;
        report.requests_added += requests;
    }
    Ok(report)
}

/// The ingest of `agent`'s usage from the `state.db` in `profile_dir`, when there is one: the last
/// read of a profile about to leave this host (team mode: the agent moved to another).
pub async fn ingest_profile(
    store: &Store,
    agent: &Agent,
    profile_dir: &Path,
    clock: &dyn Clock,
) -> Result<u64, String> {
    let path = profile_dir.join("state.db");
    if !path.is_file() {
        return Ok(0);
    }
    let rows = read_state_db(&path).await.map_err(|e| e.to_string())?;
    let models = crate::domain::catalog::load(store)
        .await
        .map_err(|e| e.to_string())?
        .models;
    let (_, requests) = ingest_agent(store, agent, &rows, &models, clock)
        .await
        .map_err(|e| e.to_string())?;
    Ok(requests)
}

/// The ingest of one agent's rows, in one transaction: new events plus the remembered counters.
pub async fn ingest_agent(
    store: &Store,
    agent: &Agent,
    rows: &[HermesUsage],
    models: &[Model],
    clock: &dyn Clock,
) -> Result<(usize, u64), StoreError> {
    let now = clock.now();
    let agent_id = agent.id;
    let result = store
        .in_transaction(|tx| async move {
            let mut seen: HashMap<String, (i64, i64, i64, f64)> = HashMap::new();
            let mut r = tx
                .query(
                    "SELECT source_key, api_calls, input_tokens, output_tokens, cost_usd FROM usage_ingest WHERE agent_id = ?1",
                    params![agent_id],
                )
                .await?;
            while let Some(row) = r.next().await? {
                seen.insert(
                    row.get(0)?,
                    (row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?),
                );
            }
            drop(r);
            let (mut events, mut requests) = (0usize, 0u64);
            let at_now = clock::to_db(now);
            for u in rows {
                let before = seen.get(&u.key).copied().unwrap_or((0, 0, 0, 0.0));
                let now_counts = (u.api_calls, u.input_tokens, u.output_tokens, u.cost_usd);
                if now_counts == before {
                    continue;
                }
                let calls = (u.api_calls - before.0).max(0);
                let input = (u.input_tokens - before.1).max(0);
                let output = (u.output_tokens - before.2).max(0);
                let cost = (u.cost_usd - before.3).max(0.0);
                // Calls through the relay are in `usage_events` already (source `relay`): only the
                // remembered counters move.
                if !u.via_relay && (calls > 0 || input > 0 || output > 0 || cost > 0.0) {
                    let at = clock::to_db(u.last_seen.unwrap_or(now));
                    tx.execute(
                        "INSERT INTO usage_events (agent_id, model, is_free, requests, prompt_tokens, completion_tokens, cost_usd, status, occurred_at, source, detail)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'ok', ?8, ?9, ?10)",
                        params![
                            agent_id,
                            u.model.as_str(),
                            i64::from(model_is_free(models, &u.model)),
                            calls,
                            input,
                            output,
                            cost,
                            at,
                            SOURCE_HERMES,
                            u.session_id.as_str()
                        ],
                    )
                    .await?;
                    events += 1;
                    requests += calls as u64;
                }
                tx.execute(
                    "INSERT INTO usage_ingest (agent_id, source_key, api_calls, input_tokens, output_tokens, cost_usd, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT(agent_id, source_key) DO UPDATE SET api_calls = excluded.api_calls,
                       input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
                       cost_usd = excluded.cost_usd, updated_at = excluded.updated_at",
                    params![
                        agent_id,
                        u.key.as_str(),
                        u.api_calls,
                        u.input_tokens,
                        u.output_tokens,
                        u.cost_usd,
                        at_now.as_str()
                    ],
                )
                .await?;
            }
            Ok((events, requests))
        })
        .await?;
    Ok(result)
}
