//! Per agent: its current model, the recommended (best free) model for its role, and whether moving is
//! an upgrade. Pure over (agents, catalog); [`for_store`] loads both.

use crate::domain::agents::Agent;
use crate::domain::base::roles::Role;
use crate::domain::catalog::Model;
use crate::domain::notifications::{self, KIND_UPGRADE, NewNotification, UpgradePayload};
use crate::domain::scoring::{self, Health, PickSource, ScoringConfig};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recommendation {
    pub agent: String,
    pub role: Role,
    pub current_model: String,
    /// The current model's score for the role (None when it is not in the catalog any more).
    pub current_score: Option<u32>,
    /// False when the current model fails a hard requirement of the role (or left the catalog).
    pub current_passes: bool,
    pub recommended_model: String,
    pub recommended_score: Option<u32>,
    /// `ranked`, `open_router_free` or `local_ollama`.
    pub source: PickSource,
    pub upgrade_available: bool,
    pub reasons: Vec<String>,
}

/// One recommendation per agent, in the agents' order.
pub fn recommend(
    agents: &[Agent],
    models: &[Model],
    health: &Health,
    cfg: &ScoringConfig,
) -> Vec<Recommendation> {
    let mut picks: Vec<(Role, scoring::Pick)> = Vec::new();
    for a in agents {
        if !picks.iter().any(|(r, _)| *r == a.role) {
            picks.push((a.role, scoring::best_free(models, a.role, health, cfg, &[])));
        }
    }
    recommend_from(agents, &picks, |agent| {
        models
            .iter()
            .find(|m| m.id == agent.model)
            .map(|m| scoring::score(m, agent.role, health, cfg))
    })
}

/// The same, from the best free pick per role (`scoring::best_free_all`) and a way to score an agent's
/// current model for its role (`None` when the model is not in the catalog).
pub fn recommend_from(
    agents: &[Agent],
    picks: &[(Role, scoring::Pick)],
    current_score: impl Fn(&Agent) -> Option<scoring::ModelScore>,
) -> Vec<Recommendation> {
    agents
        .iter()
        .filter_map(|agent| {
            let pick = &picks.iter().find(|(r, _)| *r == agent.role)?.1;
            let current = current_score(agent);
            let current_score = current.as_ref().map(|s| s.total);
            let current_passes = current.as_ref().is_some_and(|s| s.passes);
            let recommended_score = pick.score.as_ref().map(|s| s.total);
            // A paid model's own `:free` variant is the same model with the free tier's limits: going
            // there is never an upgrade.
            let own_free_variant = pick.model_id == format!("{}:free", agent.model);
            let upgrade_available = pick.model_id != agent.model
                && !(own_free_variant && current.is_some())
                && (!current_passes
                    || match (recommended_score, current_score) {
                        (Some(r), Some(c)) => r > c,
                        _ => false,
                    });
            let mut reasons = pick
                .score
                .as_ref()
                .map(|s| s.reasons.clone())
                .unwrap_or_default();
            if current.is_none() {
                reasons.insert(0, format!("{} is not in the catalog any more", agent.model));
            } else if !current_passes {
                reasons.insert(
                    0,
                    format!(
                        "{} fails a hard requirement of the {} role",
                        agent.model, agent.role
                    ),
                );
            }
            reasons.extend(pick.warnings.iter().cloned());
            Some(Recommendation {
                agent: agent.name.clone(),
                role: agent.role,
                current_model: agent.model.clone(),
                current_score,
                current_passes,
                recommended_model: pick.model_id.clone(),
                recommended_score,
                source: pick.source.clone(),
                upgrade_available,
                reasons,
            })
        })
        .collect()
}

/// The dedupe key of "agent `agent_id` can move to `model`": one notification per (agent, model).
pub fn upgrade_key(agent_id: i64, model: &str) -> String {
    format!("upgrade:{agent_id}:{model}")
}

/// The recommended model's score minus the current one's, when both are scored.
pub fn score_delta(r: &Recommendation) -> Option<i64> {
    Some(i64::from(r.recommended_score?) - i64::from(r.current_score?))
}

/// The model an agent had before its last change (`agent_model_history`), if any, and whether nxr
/// (true) or the user (false) had picked it (unrecorded on old rows: the user).
pub async fn previous_model(
    store: &crate::domain::store::Store,
    agent_id: i64,
) -> Result<Option<(String, bool)>, crate::domain::store::StoreError> {
    let mut rows = store
        .conn()
        .query(
            "SELECT from_model, from_auto_assigned FROM agent_model_history
             WHERE agent_id = ?1 AND from_model IS NOT NULL
             ORDER BY changed_at DESC, id DESC LIMIT 1",
            libsql::params![agent_id],
        )
        .await?;
    Ok(match rows.next().await? {
        Some(r) => r
            .get::<Option<String>>(0)?
            .map(|m| (m, r.get::<Option<i64>>(1).ok().flatten().unwrap_or(0) != 0)),
        None => None,
    })
}

/// Moves an agent back to the model it had before its last change (through
/// `agents::set_model_choice`, so config.yaml, the database and the history change together), picked
/// by whoever had picked it then.
pub async fn revert(
    store: &crate::domain::store::Store,
    env: &crate::domain::base::env::Env,
    agent: &str,
) -> Result<Agent, crate::domain::agents::AgentError> {
    use crate::domain::agents::{self, AgentError};
    let a = agents::resolve(store, env, agent).await?;
    let (prev, auto) =
        previous_model(store, a.id)
            .await?
            .ok_or_else(|| AgentError::NothingToRevert {
                agent: a.name.clone(),
                kind: agents::RevertKind::Earlier,
            })?;
    // A model outside the catalog without an `author/` prefix is a local Ollama model (the scorer's
    // last fallback); going back to it goes back to Ollama.
    let catalog = crate::domain::catalog::load(store).await?;
    let choice = if catalog.get(&prev).is_none() && !prev.contains('/') {
        agents::validate_model_syntax(&prev)?;
        agents::ModelChoice {
            id: prev,
            provider: "ollama".into(),
            is_free: true,
            score: None,
            notes: Vec::new(),
            fallbacks: None,
        }
    } else {
        agents::choose_model(&catalog, &prev)?
    };
    agents::set_model_choice(store, env, &a.name, &choice, "revert", auto).await
}

/// Recommendations for every agent from the stored state (catalog in use, scoring settings, health).
pub async fn for_store(
    store: &crate::domain::store::Store,
    env: &crate::domain::base::env::Env,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Recommendation>, RecommendError> {
    let inputs = crate::domain::scoring::rescore::inputs(store, now).await?;
    let agents = crate::domain::agents::list(store, env).await?;
    Ok(recommend(
        &agents,
        &inputs.models,
        &inputs.health,
        &inputs.cfg,
    ))
}

#[derive(Debug, thiserror::Error)]
pub enum RecommendError {
    #[error(transparent)]
    Scoring(#[from] crate::domain::scoring::rescore::ScoringError),
    #[error(transparent)]
    Agents(#[from] crate::domain::agents::AgentError),
}

/// An agent whose recommended model changed with a rescore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentChange {
    pub agent: String,
    pub role: Role,
    pub current_model: String,
    /// The recommendation of the previous rescore (`None` on the first one).
    pub before: Option<String>,
    pub after: String,
    pub upgrade_available: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct AgentRescore {
    pub scored_at: String,
    pub previous_scored_at: Option<String>,
    pub models_scored: usize,
    pub rows_written: usize,
    /// Agents whose recommended model differs from the previous rescore's.
    pub changed: Vec<AgentChange>,
    pub recommendations: Vec<Recommendation>,
}

/// Rescores the catalog (writing `model_scores` through `domain::scoring::rescore`) and reports, per agent,
/// whether its recommendation changed since the last rescore. An agent whose new recommendation is an
/// upgrade gets an `upgrade` notification (Tab 6 can apply it).
pub async fn rescore_agents(
    store: &crate::domain::store::Store,
    env: &crate::domain::base::env::Env,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<AgentRescore, RecommendError> {
    let report = crate::domain::scoring::rescore::rescore(store, env, now).await?;
    let recommendations = for_store(store, env, now).await?;
    let changed = recommendations
        .iter()
        .filter_map(|r| {
            let change = report.changes.iter().find(|c| c.role == r.role)?;
            Some(AgentChange {
                agent: r.agent.clone(),
                role: r.role,
                current_model: r.current_model.clone(),
                before: change.before.clone(),
                after: change.after.clone(),
                upgrade_available: r.upgrade_available,
            })
        })
        .collect::<Vec<AgentChange>>();
    let clock = crate::domain::base::clock::FixedClock(now);
    for c in changed.iter().filter(|c| c.upgrade_available) {
        let rec = recommendations.iter().find(|r| r.agent == c.agent);
        let payload = UpgradePayload {
            agent: c.agent.clone(),
            from_model: Some(c.current_model.clone()),
            to_model: c.after.clone(),
            role: Some(c.role.to_string()),
            score_delta: rec.and_then(score_delta),
            action: Some(notifications::upgrade_action(&c.agent, &c.after)),
        };
        let Ok(agent) = crate::domain::agents::get_by_name(store, env, &c.agent).await else {
            continue;
        };
        let new = NewNotification {
            kind: KIND_UPGRADE.into(),
            title: format!("{} can move to a better free model", c.agent),
            body: format!(
                "{} is now the best free model for the {} role; {} runs {}.",
                c.after, c.role, c.agent, c.current_model
            ),
            agent_id: Some(agent.id),
            payload: serde_json::to_string(&payload).ok(),
        };
        // The same key as the scanner's, so one proposal is told once whoever finds it.
        let key = upgrade_key(agent.id, &c.after);
        crate::domain::notifications::telegram_forward::record_once(store, env, new, &key, &clock)
            .await
            .map_err(crate::domain::scoring::rescore::ScoringError::from)?;
    }
    Ok(AgentRescore {
        scored_at: report.scored_at,
        previous_scored_at: report.previous_scored_at,
        models_scored: report.models_scored,
        rows_written: report.rows_written,
        changed,
        recommendations,
    })
}

impl crate::domain::base::hint::Hinted for RecommendError {
    fn hints(&self) -> Vec<crate::domain::base::hint::Hint> {
        #[allow(unused_imports)]
        use crate::domain::base::hint::{Hint, Hinted};
        match self {
            RecommendError::Scoring(e) => e.hints(),
            RecommendError::Agents(e) => e.hints(),
        }
    }
}
