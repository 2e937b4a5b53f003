//! What the web `/agents/manage` page shows: every agent with its usage (today's requests, 30-day
//! requests and rate-limit share, last activity, from `usage_events`), the skills it may add, and the
//! create wizard's recommendation for a role (the same pick as `nxr agents create` without `--model`).

use crate::domain::agents::{self, Agent, AgentError};
use crate::domain::budget;
use crate::domain::clock::Clock;
use crate::domain::env::Env;
use crate::domain::roles::Role;
use crate::domain::skills;
use crate::domain::store::Store;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ManagedAgent {
    pub agent: Agent,
    pub requests_today: u64,
    pub requests_30d: u64,
    pub last_activity: Option<String>,
    /// Known skills the agent does not have yet.
    pub addable_skills: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ManageView {
    pub agents: Vec<ManagedAgent>,
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
    let all_skills = skills::all_names();
    let agents = list
        .into_iter()
        .map(|a| {
            let u = usage.per_agent.iter().find(|u| u.agent_id == Some(a.id));
            ManagedAgent {
                requests_today: u.map_or(0, |u| u.today),
                requests_30d: u.map_or(0, |u| u.last_30d),
                last_activity: u.and_then(|u| u.last_at.clone()),
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
        roles: Role::ALL.iter().map(|r| r.as_str().to_string()).collect(),
        categories: skills::CATEGORIES.iter().map(|c| c.to_string()).collect(),
    })
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
    let best = crate::domain::rescore::best_free(store, env, role, store.now())
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
