//! What the web `/agents/manage` page shows: every agent of the agents view ([`super::Agents`]: usage,
//! fallback chain, Paperclip link), its role-aware recommendation (`nxr agents recommend`'s),
//! the skills it may add, and the create wizard's recommendation for a role (the same pick as
//! `nxr agents create` without `--model`).

use crate::domain::agents::skills;
use crate::domain::agents::{Agent, AgentError};
use crate::domain::base::clock::Clock;
use crate::domain::base::env::Env;
use crate::domain::base::roles::Role;
use crate::domain::paperclip::links::LinkState;
use crate::domain::store::Store;
use crate::domain::upgrade::recommend;
use crate::domain::view::agents::{self as agents_view, AgentRow, Checks, Usage};
use serde::Serialize;

/// One agent of the page: its row of the agents view ([`AgentRow`]: usage, fallback chain, link),
/// its recommendation and the skills it may add.
#[derive(Debug, Clone)]
pub struct ManagedAgent {
    pub row: AgentRow,
    /// The best free model for the agent's role (`nxr agents recommend`); `None` when the catalog
    /// cannot be scored (no catalog yet).
    pub recommendation: Option<recommend::Recommendation>,
    /// Known skills the agent does not have yet.
    pub addable_skills: Vec<String>,
}

/// `/api/agents/manage`'s shape per agent: `agent`, the usage figures beside it, `recommendation`,
/// `addable_skills`, `fallbacks` and `paperclip`.
#[derive(Serialize)]
struct ManagedJson<'a> {
    agent: &'a Agent,
    #[serde(flatten)]
    usage: &'a Usage,
    recommendation: &'a Option<recommend::Recommendation>,
    addable_skills: &'a [String],
    fallbacks: &'a [String],
    paperclip: Option<LinkState>,
}

impl Serialize for ManagedAgent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ManagedJson {
            agent: &self.row.agent,
            usage: &self.row.usage,
            recommendation: &self.recommendation,
            addable_skills: &self.addable_skills,
            fallbacks: &self.row.fallbacks,
            paperclip: self.row.paperclip,
        }
        .serialize(s)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ManageView {
    pub agents: Vec<ManagedAgent>,
    /// Every skill nxr manages, once for the page (each row's add field offers from it).
    pub all_skills: Vec<String>,
    pub roles: Vec<String>,
    pub categories: Vec<String>,
}

/// The page over the agents view (built without checks: the page does not show them).
pub async fn manage_view(
    store: &Store,
    env: &Env,
    clock: &dyn Clock,
) -> Result<ManageView, AgentError> {
    let view = agents_view::agents(store, env, clock, Checks::Skip).await?;
    let recommendations = recommend::for_store(store, env, clock.now())
        .await
        .unwrap_or_default();
    let all_skills = skills::all_names();
    let agents = view
        .rows
        .into_iter()
        .map(|row| ManagedAgent {
            recommendation: recommendations
                .iter()
                .find(|r| r.agent == row.agent.name)
                .cloned(),
            addable_skills: all_skills
                .iter()
                .filter(|s| !row.agent.skillset.iter().any(|h| h == *s))
                .map(|s| s.to_string())
                .collect(),
            row,
        })
        .collect();
    Ok(ManageView {
        agents,
        all_skills: all_skills.iter().map(|s| s.to_string()).collect(),
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
