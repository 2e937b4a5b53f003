//! Moving agents to paid models when a key is added, and back. One public API for every surface
//! (`nxr upgrade`, Tab 3, the web agents page) and for background work that switches models:
//!
//! - [`check_key`]: validate the stored or a given key, read the balance and the free daily limit;
//! - [`plan_upgrade`] / [`plan_revert`]: the per-agent [`Plan`] (current model, the recommended one,
//!   prices, estimated monthly cost); [`Plan::keep`], [`Plan::take_recommended`] and [`choose_model`]
//!   adjust it one agent at a time;
//! - [`preview`]: the dry-run diff; [`apply`]: carry the plan out, one crash-safe switch per agent;
//! - [`upgrade_agent`] / [`revert_agent`]: the one-agent shortcuts (Tab 3's `u` / `r`, the web buttons);
//!   [`upgrade_agent_to`]: one agent to a given model; [`apply_notification`]: what an upgrade
//!   notification proposes.

pub mod recommend;

mod apply;
mod key;
mod notice;
mod plan;
mod revert;

pub use apply::{Failed, PlanOutcome, RowDiff, Switched, apply, preview};
pub use key::{CreditsFrom, FreeLimitFrom, KeyStatus, check_key, has_stored_key, key_status};
pub use notice::{ApplyError, NotificationApplied, apply_notification};
pub use plan::{
    ASSUMED_COMPLETION_TOKENS, ASSUMED_PROMPT_TOKENS, ASSUMED_REQUESTS_PER_DAY, KEPT_CHOICE,
    ModelInfo, Plan, PlanKind, PlanRow, Switch, SwitchReason, USAGE_WINDOW_DAYS, UsageBasis,
    UsageEstimate, assumption_text, choose_model, model_info, monthly_label, observed_usage,
    plan_upgrade, upgrade_plan_from, usd,
};
pub use revert::{EarlierModel, last_free_model, plan_revert};

use crate::domain::agents::AgentError;
use crate::domain::base::env::Env;
use crate::domain::catalog::openrouter::OpenRouterError;
use crate::domain::scoring::rescore::ScoringError;
use crate::domain::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    #[error(
        "no OpenRouter API key is stored (keys at https://openrouter.ai/keys); nothing was changed"
    )]
    NoKey,
    #[error(
        "the key given is empty; give the key itself, or none to use the stored key; nothing was changed"
    )]
    EmptyKey,
    #[error("{0}; nothing was changed")]
    InvalidKey(String),
    #[error(
        "cannot check the API key with OpenRouter at {url}: {source}; nothing was changed, run the upgrade again when OpenRouter answers"
    )]
    KeyCheck {
        url: String,
        source: OpenRouterError,
    },
    #[error(transparent)]
    Agents(#[from] AgentError),
    #[error(transparent)]
    Scoring(#[from] ScoringError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Other(String),
}

/// One agent to the best paid model for its role (needs a stored key; Tab 3's `u`, the web's per-agent
/// button). An agent already there is left as it is.
pub async fn upgrade_agent(
    store: &Store,
    env: &Env,
    agent: &str,
) -> Result<PlanOutcome, UpgradeError> {
    if !has_stored_key(env) {
        return Err(UpgradeError::NoKey);
    }
    let plan = plan_upgrade(store, env, Some(agent), None, false, true, store.now()).await?;
    finish_one(store, env, &plan).await
}

/// One agent to `model` (`nxr upgrade --agent NAME --to MODEL`; the web's button on an upgrade
/// notification). Refused with the reasons when the model is not in the catalog or fails the role's
/// hard requirements; a paid model needs a stored key. Nothing is changed on an error.
pub async fn upgrade_agent_to(
    store: &Store,
    env: &Env,
    agent: &str,
    model: &str,
) -> Result<PlanOutcome, UpgradeError> {
    let plan = plan_upgrade(
        store,
        env,
        Some(agent),
        Some(model),
        false,
        true,
        store.now(),
    )
    .await?;
    if plan.needs_key() && !has_stored_key(env) {
        return Err(UpgradeError::NoKey);
    }
    finish_one(store, env, &plan).await
}

/// One agent back to the last free model it had (Tab 3's `r` on a paid model, the web's button).
pub async fn revert_agent(
    store: &Store,
    env: &Env,
    agent: &str,
) -> Result<PlanOutcome, UpgradeError> {
    let plan = plan_revert(store, env, Some(agent), true, store.now()).await?;
    finish_one(store, env, &plan).await
}

async fn finish_one(store: &Store, env: &Env, plan: &Plan) -> Result<PlanOutcome, UpgradeError> {
    if let Some(row) = plan.rows.first()
        && row.switch.is_none()
    {
        return Err(UpgradeError::Other(format!(
            "{} was not changed: {}",
            row.agent,
            row.note.as_deref().unwrap_or("nothing to do")
        )));
    }
    let out = apply(store, env, plan).await;
    match out.first_failure() {
        Some(f) => Err(UpgradeError::Other(f)),
        None => Ok(out),
    }
}

impl crate::domain::base::hint::Hinted for UpgradeError {
    fn hints(&self) -> Vec<crate::domain::base::hint::Hint> {
        #[allow(unused_imports)]
        use crate::domain::base::hint::{Hint, Hinted};
        match self {
            UpgradeError::NoKey => vec![Hint::PassKeyOnce, Hint::AddOpenRouterKey],
            UpgradeError::EmptyKey => vec![Hint::PassKeyOnce, Hint::UseStoredKey],
            UpgradeError::KeyCheck { source, .. } => source.hints(),
            UpgradeError::Agents(e) => e.hints(),
            UpgradeError::Scoring(e) => e.hints(),
            UpgradeError::Store(e) => e.hints(),
            UpgradeError::InvalidKey(_) | UpgradeError::Other(_) => Vec::new(),
        }
    }
}
