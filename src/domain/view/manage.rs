//! What the web `/agents/manage` page shows: every agent with its usage (today's and 30-day requests,
//! cost today / 7 days / 30 days, the share of its last 30 days' requests that failed, last activity,
//! from the budget view and `usage_events`), its role-aware recommendation (`nxr agents recommend`'s),
//! the skills it may add, and the create wizard's recommendation for a role (the same pick as
//! `nxr agents create` without `--model`).

use crate::domain::agents::skills;
use crate::domain::agents::{self, Agent, AgentError};
use crate::domain::base::clock::{self, Clock};
use crate::domain::base::env::Env;
use crate::domain::base::roles::Role;
use crate::domain::budget;
use crate::domain::store::Store;
use crate::domain::upgrade::recommend;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ManagedAgent {
    pub agent: Agent,
    pub requests_today: u64,
    pub requests_30d: u64,
    /// USD spent today / in the last 7 / 30 days (the budget view's figures).
    pub cost_today: f64,
    pub cost_7d: f64,
    pub cost_30d: f64,
    /// Requests in the last 30 days that did not succeed (rate-limited or failed).
    pub failed_30d: u64,
    /// `failed_30d` over every request of the last 30 days; `None` without requests.
    pub error_rate: Option<f64>,
    /// The best free model for the agent's role (`nxr agents recommend`); `None` when the catalog
    /// cannot be scored (no catalog yet).
    pub recommendation: Option<recommend::Recommendation>,
    pub last_activity: Option<String>,
    /// Known skills the agent does not have yet.
    pub addable_skills: Vec<String>,
    /// The models of the agent's fallback chain, as its profile holds them (Hermes tries them in
    /// order when the agent's own model refuses).
    pub fallbacks: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ManageView {
    pub agents: Vec<ManagedAgent>,
    /// Every skill nxr manages, once for the page (each row's add field offers from it).
    pub all_skills: Vec<String>,
    pub roles: Vec<String>,
    pub categories: Vec<String>,
}

pub async fn manage_view(
    store: &Store,
    env: &Env,
    clock: &dyn Clock,
) -> Result<ManageView, AgentError> {
    let list = agents::list(store, env).await?;
    let usage = budget::load(store, clock)
        .await
        .map_err(|e| AgentError::Other(format!("cannot read usage: {e}")))?;
    let failures = failures_30d(store, clock)
        .await
        .map_err(|e| AgentError::Other(format!("cannot read usage: {e}")))?;
    let recommendations = recommend::for_store(store, env, clock.now())
        .await
        .unwrap_or_default();
    let all_skills = skills::all_names();
    let agents = list
        .into_iter()
        .map(|a| {
            let u = usage.per_agent.iter().find(|u| u.agent_id == Some(a.id));
            let (failed, total) = failures
                .iter()
                .find(|(id, _, _)| *id == a.id)
                .map_or((0, 0), |(_, f, t)| (*f, *t));
            ManagedAgent {
                requests_today: u.map_or(0, |u| u.today),
                requests_30d: u.map_or(0, |u| u.last_30d),
                cost_today: u.map_or(0.0, |u| u.cost_today),
                cost_7d: u.map_or(0.0, |u| u.cost_7d),
                cost_30d: u.map_or(0.0, |u| u.cost_30d),
                failed_30d: failed,
                error_rate: (total > 0).then(|| failed as f64 / total as f64),
                recommendation: recommendations.iter().find(|r| r.agent == a.name).cloned(),
                last_activity: u.and_then(|u| u.last_at.clone()),
                fallbacks: a
                    .usable_profile()
                    .ok()
                    .and_then(|p| {
                        crate::domain::agents::hermes::fallback_models(&p.config_path()).ok()
                    })
                    .unwrap_or_default(),
                addable_skills: all_skills
                    .iter()
                    .filter(|s| !a.skillset.iter().any(|h| h == *s))
                    .map(|s| s.to_string())
                    .collect(),
                agent: a,
            }
        })
        .collect();
    Ok(ManageView {
        agents,
        all_skills: all_skills.iter().map(|s| s.to_string()).collect(),
        roles: Role::ALL.iter().map(|r| r.as_str().to_string()).collect(),
        categories: skills::CATEGORIES.iter().map(|c| c.to_string()).collect(),
    })
}

/// Per agent id: requests in the last 30 days that did not succeed (`status` other than `ok`), and
/// all its requests in that time.
async fn failures_30d(
    store: &Store,
    clock: &dyn Clock,
) -> Result<Vec<(i64, u64, u64)>, crate::domain::store::StoreError> {
    let now = clock.now();
    let mut rows = store
        .conn()
        .query(
            "SELECT agent_id, SUM(CASE WHEN status <> 'ok' THEN MAX(requests, 1) ELSE 0 END),
                    SUM(CASE WHEN status <> 'ok' THEN MAX(requests, 1) ELSE requests END)
             FROM usage_events
             WHERE agent_id IS NOT NULL AND occurred_at >= ?1 AND occurred_at <= ?2
             GROUP BY agent_id",
            libsql::params![
                clock::to_db(now - chrono::Duration::days(30)),
                clock::to_db(now)
            ],
        )
        .await?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        let n = |i: i32| -> Result<u64, crate::domain::store::StoreError> {
            Ok(row.get::<Option<i64>>(i)?.unwrap_or(0).max(0) as u64)
        };
        out.push((row.get::<i64>(0)?, n(1)?, n(2)?));
    }
    Ok(out)
}

/// The wizard's second step: the model `nxr agents create` would give this role, with the scorer's
/// reasons, and the skills the role (or category) template brings.
#[derive(Debug, Clone, Serialize)]
pub struct Recommendation {
    pub role: String,
    pub category: Option<String>,
    pub model: String,
    pub provider: String,
    pub score: Option<u32>,
    pub reasons: Vec<String>,
    pub warnings: Vec<String>,
    pub default_skills: Vec<String>,
    pub all_skills: Vec<String>,
}

pub async fn recommendation(
    store: &Store,
    env: &Env,
    role: Role,
    category: Option<&str>,
) -> Result<Recommendation, AgentError> {
    let best = crate::domain::scoring::rescore::best_free(store, env, role, store.now())
        .await
        .map_err(|e| AgentError::Other(format!("cannot pick a free model for {role}: {e}")))?;
    let default_skills =
        skills::default_skills(role, category).map_err(|e| AgentError::Other(e.to_string()))?;
    Ok(Recommendation {
        role: role.as_str().to_string(),
        category: category.map(str::to_string),
        model: best.pick.model_id.clone(),
        provider: best.pick.provider.clone(),
        score: best.pick.score.as_ref().map(|s| s.total),
        reasons: best
            .pick
            .score
            .as_ref()
            .map(|s| s.reasons.clone())
            .unwrap_or_default(),
        warnings: best.pick.warnings.clone(),
        default_skills,
        all_skills: skills::all_names().iter().map(|s| s.to_string()).collect(),
    })
}
