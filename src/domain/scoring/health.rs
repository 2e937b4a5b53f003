//! Model health without spending quota: OpenRouter's endpoints data
//! (`GET /models/{author}/{slug}/endpoints`, no chat request) for the top candidates of each role,
//! fetched concurrently with short timeouts and no retries, stored in `model_health`, and read back as
//! uptime for the reliability sub-score. A check that fails (429, 500, timeout, bad body) changes
//! nothing and is reported as skipped.

use crate::domain::base::roles::Role;
use crate::domain::catalog::Model;
use crate::domain::catalog::openrouter::{ModelEndpoints, OpenRouterClient, RetryPolicy, Timeouts};
use crate::domain::scoring::{self, Health, Pool, ScoringConfig};
use crate::domain::store::Store;
use libsql::params;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// How many of each role's best free models are checked.
pub const CANDIDATES_PER_ROLE: usize = 5;
/// How many checks run at once.
pub const CONCURRENCY: usize = 6;
/// The whole of one check, connection included.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(4);

/// The models worth a health check: the top `per_role` passing free models of every role, by id.
pub fn candidates(
    models: &[Model],
    health: &Health,
    cfg: &ScoringConfig,
    per_role: usize,
) -> Vec<String> {
    let mut ids = BTreeSet::new();
    for role in Role::ALL {
        for s in scoring::rank(models, role, Pool::Free, health, cfg)
            .into_iter()
            .filter(|s| s.passes)
            .take(per_role)
        {
            ids.insert(s.model_id);
        }
    }
    ids.into_iter().collect()
}

/// The uptime of a model's best endpoint in permille: the last day's, else the last 30 minutes'.
/// `None` when no endpoint reports one.
pub fn uptime_permille(e: &ModelEndpoints) -> Option<u32> {
    e.endpoints
        .iter()
        .filter_map(|p| p.uptime_last_1d.or(p.uptime_last_30m))
        .filter(|u| u.is_finite())
        .map(|u| (u.clamp(0.0, 100.0) * 10.0).round() as u32)
        .max()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    pub model_id: String,
    pub uptime_permille: u32,
    pub endpoints: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub model_id: String,
    /// What went wrong (e.g. the 429's message); nothing was changed for this model.
    pub reason: String,
}

/// What a health check did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HealthReport {
    pub checked: Vec<Checked>,
    pub skipped: Vec<Skipped>,
}

/// A client for health checks: short timeouts, one attempt (a 429 is not waited out).
pub fn check_client(client: OpenRouterClient, timeout: Duration) -> OpenRouterClient {
    client
        .with_timeouts(Timeouts {
            connect: timeout.min(Duration::from_secs(2)),
            request: timeout,
        })
        .with_retry(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        })
}

/// Fetches the endpoints of `ids` (at most [`CONCURRENCY`] at once) and stores the uptimes of the
/// ones that answered, in one transaction; `checked_at` is stored with them.
pub async fn check(
    store: &Store,
    client: &OpenRouterClient,
    ids: &[String],
    checked_at: &str,
) -> Result<HealthReport, libsql::Error> {
    let mut report = HealthReport::default();
    let mut set = tokio::task::JoinSet::new();
    let mut pending = ids.iter().cloned();
    let mut results: BTreeMap<String, Result<Checked, String>> = BTreeMap::new();
    loop {
        while set.len() < CONCURRENCY {
            let Some(id) = pending.next() else { break };
            let client = client.clone();
            set.spawn(async move {
                let outcome = match client.endpoints(&id).await {
                    Ok(e) => match uptime_permille(&e) {
                        Some(u) => Ok(Checked {
                            model_id: id.clone(),
                            uptime_permille: u,
                            endpoints: e.endpoints.len(),
                        }),
                        None => Err("no endpoint reports an uptime".to_string()),
                    },
                    Err(e) => Err(e.to_string()),
                };
                (id, outcome)
            });
        }
        match set.join_next().await {
            Some(Ok((id, outcome))) => {
                results.insert(id, outcome);
            }
            Some(Err(e)) => tracing::warn!(error = %e, "a health check task failed"),
            None => break,
        }
    }
    for (id, outcome) in results {
        match outcome {
            Ok(c) => report.checked.push(c),
            Err(reason) => {
                tracing::info!(model = %id, %reason, "health check skipped");
                report.skipped.push(Skipped {
                    model_id: id,
                    reason,
                })
            }
        }
    }
    let rows = report.checked.clone();
    let at = checked_at.to_string();
    store
        .in_transaction(|conn| async move {
            for c in &rows {
                conn.execute(
                    "INSERT INTO model_health (model_id, uptime_permille, endpoints, checked_at)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(model_id) DO UPDATE SET uptime_permille = excluded.uptime_permille,
                        endpoints = excluded.endpoints, checked_at = excluded.checked_at",
                    params![
                        c.model_id.as_str(),
                        c.uptime_permille,
                        c.endpoints as i64,
                        at.as_str()
                    ],
                )
                .await?;
            }
            Ok(())
        })
        .await?;
    Ok(report)
}

/// The stored uptimes (model id → permille).
pub async fn load_uptime(store: &Store) -> Result<BTreeMap<String, u32>, libsql::Error> {
    let mut rows = store
        .conn()
        .query("SELECT model_id, uptime_permille FROM model_health", ())
        .await?;
    let mut out = BTreeMap::new();
    while let Some(row) = rows.next().await? {
        let id: String = row.get(0)?;
        let u: i64 = row.get(1)?;
        out.insert(id, u.clamp(0, 1000) as u32);
    }
    Ok(out)
}

/// After a catalog refresh: the top candidates per role checked with `client`, at `now`.
pub async fn check_top_candidates(
    store: &Store,
    client: &OpenRouterClient,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<HealthReport, crate::domain::scoring::rescore::ScoringError> {
    let inputs = crate::domain::scoring::rescore::inputs(store, now).await?;
    let ids = candidates(
        &inputs.models,
        &inputs.health,
        &inputs.cfg,
        CANDIDATES_PER_ROLE,
    );
    let client = check_client(client.clone(), CHECK_TIMEOUT);
    Ok(check(
        store,
        &client,
        &ids,
        &crate::domain::base::clock::to_db(now),
    )
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_is_the_best_endpoints_last_day() {
        let json =
            std::fs::read_to_string("tests/fixtures/openrouter/endpoints_example.json").unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let e: ModelEndpoints = serde_json::from_value(v["data"].clone()).unwrap();
        assert_eq!(uptime_permille(&e), Some(998));
    }
}
