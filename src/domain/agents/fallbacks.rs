//! Fallback chains: the models Hermes tries, in order, when an agent's own model refuses a request
//! (a rate limit, a billing refusal, an overload). One function chooses a chain from the ranking
//! ([`choose`]); [`entries`] words it as Hermes' `fallback_providers` list; every write of an agent's
//! model writes its chain with it.
//!
//! A free agent's chain holds the next best free models that pass its role's requirements, other
//! makers first (so one provider's outage or one model's high demand does not take the whole
//! chain), never a paid model, never the primary or its other variant, never a model with an
//! announced removal. A paid agent's chain starts with the next paid pick for its role, then the best
//! free ones, so it keeps working when its credits run out.

use crate::domain::base::env::{DEFAULT_OPENROUTER_URL, Env};
use crate::domain::base::roles::Role;
use crate::domain::catalog::Model;
use crate::domain::scoring::evals::canonical_slug;
use crate::domain::scoring::{self, Health, Pool, ScoringConfig};
use crate::domain::store::Store;
use serde::Serialize;

/// How many models a chain holds unless the `fallback_count` setting says otherwise.
pub const DEFAULT_FALLBACK_COUNT: usize = 3;
/// The most a chain may hold.
pub const MAX_FALLBACK_COUNT: usize = 10;
/// The setting: how many fallbacks each agent gets (0 turns chains off).
pub const SETTING_FALLBACK_COUNT: &str = "fallback_count";
/// The key in a profile's config.yaml.
pub const CONFIG_KEY: &str = "fallback_providers";
/// The environment variable that holds the OpenRouter key in a profile's `.env`.
pub const KEY_ENV: &str = "OPENROUTER_API_KEY";

/// One model of a chain and why it is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub model_id: String,
    /// The maker: the id's author (`qwen`, `nvidia`, …).
    pub maker: String,
    pub is_free: bool,
    /// The role's total for the model.
    pub score: u32,
    pub why: String,
}

/// The maker part of a model id.
pub fn maker(id: &str) -> &str {
    id.split_once('/').map_or(id, |(a, _)| a)
}

/// The chain for an agent of `role` on `primary` (pure: the same inputs give the same chain).
pub fn choose(
    models: &[Model],
    role: Role,
    primary: &str,
    health: &Health,
    cfg: &ScoringConfig,
    count: usize,
) -> Vec<Member> {
    if count == 0 {
        return Vec::new();
    }
    let primary_slug = canonical_slug(primary);
    let by_id: std::collections::HashMap<&str, &Model> =
        models.iter().map(|m| (m.id.as_str(), m)).collect();
    let primary_free = by_id.get(primary).is_none_or(|m| m.is_free());
    let usable = |s: &scoring::ModelScore| {
        s.passes
            && s.model_id != primary
            && canonical_slug(&s.model_id) != primary_slug
            && by_id
                .get(s.model_id.as_str())
                .is_some_and(|m| m.expiration_date.is_none())
    };
    let mut out: Vec<Member> = Vec::new();
    if !primary_free
        && let Some(paid) = scoring::rank(models, role, Pool::Paid, health, cfg)
            .into_iter()
            .find(|s| usable(s))
    {
        out.push(Member {
            maker: maker(&paid.model_id).to_string(),
            is_free: false,
            score: paid.total,
            why: format!(
                "the next best paid model for the {role} role (total {})",
                paid.total
            ),
            model_id: paid.model_id,
        });
    }
    let free: Vec<scoring::ModelScore> = scoring::rank(models, role, Pool::Free, health, cfg)
        .into_iter()
        .filter(|s| usable(s))
        .collect();
    // First pass: the best model of each maker not yet in the chain (the primary's maker counts as
    // used); second pass: the best of the rest, whatever the maker.
    let mut used: Vec<String> = vec![maker(primary).to_string()];
    used.extend(out.iter().map(|m| m.maker.clone()));
    for pass in [true, false] {
        for s in &free {
            if out.len() >= count {
                break;
            }
            let mk = maker(&s.model_id);
            // The same model, or another variant of one already in (same canonical slug).
            if out
                .iter()
                .any(|m| canonical_slug(&m.model_id) == canonical_slug(&s.model_id))
                || (pass && used.iter().any(|u| u == mk))
            {
                continue;
            }
            used.push(mk.to_string());
            out.push(Member {
                model_id: s.model_id.clone(),
                maker: mk.to_string(),
                is_free: true,
                score: s.total,
                why: if pass {
                    format!(
                        "the best free {role} model from another maker ({mk}, total {})",
                        s.total
                    )
                } else {
                    format!("the next best free {role} model (total {})", s.total)
                },
            });
        }
    }
    out.truncate(count);
    out
}

/// The chain as Hermes' `fallback_providers` entries. With OpenRouter's own URL an entry names the
/// `openrouter` provider; with another URL (a proxy, a test server) Hermes would ignore a `base_url`
/// on such an entry, so it is a `custom` provider with that URL and the key's variable.
pub fn entries(env: &Env, chain: &[Member]) -> Vec<Vec<(String, String)>> {
    let default_url = env.openrouter_url.trim_end_matches('/') == DEFAULT_OPENROUTER_URL;
    chain
        .iter()
        .map(|m| {
            if default_url {
                vec![
                    ("provider".into(), "openrouter".into()),
                    ("model".into(), m.model_id.clone()),
                ]
            } else {
                vec![
                    ("provider".into(), "custom".into()),
                    ("model".into(), m.model_id.clone()),
                    (
                        "base_url".into(),
                        env.openrouter_url.trim_end_matches('/').to_string(),
                    ),
                    ("key_env".into(), KEY_ENV.into()),
                ]
            }
        })
        .collect()
}

/// The `fallback_count` setting (default [`DEFAULT_FALLBACK_COUNT`]); an unreadable value is the
/// default.
pub async fn count_setting(store: &Store) -> usize {
    match store.setting(SETTING_FALLBACK_COUNT).await {
        Ok(Some(v)) => parse_count(&v).unwrap_or(DEFAULT_FALLBACK_COUNT),
        _ => DEFAULT_FALLBACK_COUNT,
    }
}

/// A chain length from text: a whole number from 0 to [`MAX_FALLBACK_COUNT`].
pub fn parse_count(v: &str) -> Option<usize> {
    v.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| *n <= MAX_FALLBACK_COUNT)
}

/// The chain for an agent of `role` on `primary`, from the stored catalog, scoring settings and
/// health. A local (Ollama) primary gets the free OpenRouter chain of its role.
pub async fn chain_for(
    store: &Store,
    role: Role,
    primary: &str,
) -> Result<Vec<Member>, crate::domain::scoring::rescore::ScoringError> {
    let count = count_setting(store).await;
    if count == 0 {
        return Ok(Vec::new());
    }
    let inputs = crate::domain::scoring::rescore::inputs_shared(store, store.now()).await?;
    Ok(choose(
        &inputs.models,
        role,
        primary,
        &inputs.health,
        &inputs.cfg,
        count,
    ))
}

/// An agent's chain as its profile holds it and as nxr would choose it now.
#[derive(Debug, Clone, Serialize)]
pub struct ChainView {
    pub agent: String,
    pub primary: String,
    /// The models in the profile's `fallback_providers`, in order (what Hermes uses).
    pub configured: Vec<String>,
    /// The chain nxr chooses for the agent now, with each member's reason.
    pub chosen: Vec<Member>,
    /// The profile holds exactly the chosen chain.
    pub in_step: bool,
    pub state: ChainState,
}

/// Writes the chain nxr chooses now into the agent's profile (atomic; every other key kept).
pub async fn reset(
    store: &Store,
    env: &Env,
    name_or_id: &str,
) -> Result<(), crate::domain::agents::AgentError> {
    let _lock = crate::domain::agents::agents_lock(env).await;
    let agent = crate::domain::agents::resolve(store, env, name_or_id).await?;
    let profile = agent.usable_profile()?;
    let chain = chain_for(store, agent.role, &agent.model)
        .await
        .map_err(|e| crate::domain::agents::AgentError::Other(e.to_string()))?;
    let value = if chain.is_empty() {
        crate::domain::agents::hermes::ConfigValue::Remove
    } else {
        crate::domain::agents::hermes::ConfigValue::Entries(entries(env, &chain))
    };
    let previous = crate::domain::agents::hermes::fallback_models(&profile.config_path())?;
    remember(store, agent.id, &previous, &chain).await;
    crate::domain::agents::hermes::set_config(
        &profile.config_path(),
        &[(CONFIG_KEY.to_string(), value)],
    )?;
    Ok(())
}

/// The settings key that remembers the chain nxr last wrote for an agent.
fn written_key(agent_id: i64) -> String {
    format!("fallbacks.written.{agent_id}")
}

/// Records the chain nxr wrote into an agent's profile (to tell a hand-edited chain from its own).
///
/// Called before the file is written, with the chain the file holds now (`previous`): a write killed
/// between the two leaves either chain in the file, and both still read as nxr's.
pub async fn remember(store: &Store, agent_id: i64, previous: &[String], chain: &[Member]) {
    let ids: Vec<&str> = chain.iter().map(|m| m.model_id.as_str()).collect();
    let text = serde_json::json!({ "chain": ids, "previous": previous }).to_string();
    // Losing this record only makes a later scan treat the chain as the user's and leave it alone.
    let _ = store.set_setting(&written_key(agent_id), &text).await;
}

/// The chains nxr wrote (or was about to write) for an agent, when it knows them.
pub async fn remembered(store: &Store, agent_id: i64) -> Option<Vec<Vec<String>>> {
    let text = store.setting(&written_key(agent_id)).await.ok()??;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let list = |v: &serde_json::Value| -> Option<Vec<String>> {
        v.as_array()?
            .iter()
            .map(|s| s.as_str().map(String::from))
            .collect()
    };
    Some(
        [list(&v["chain"]), list(&v["previous"])]
            .into_iter()
            .flatten()
            .collect(),
    )
}

/// True when the agent's profile holds a chain the user edited by hand (kept across model changes:
/// only `nxr agents fallbacks NAME --reset` replaces it).
pub async fn edited_by_hand(
    store: &Store,
    agent: &crate::domain::agents::Agent,
    config: &std::path::Path,
) -> bool {
    let Ok(configured) = crate::domain::agents::hermes::fallback_models(config) else {
        return false;
    };
    let chosen = chain_for(store, agent.role, &agent.model)
        .await
        .unwrap_or_default();
    state_of(store, agent.id, &configured, &chosen).await == ChainState::HandEdited
}

/// How an agent's chain stands against the one nxr would choose now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ChainState {
    /// The profile holds the chain nxr chooses now.
    InStep,
    /// The profile holds what nxr last wrote, and the ranking has moved on.
    Stale,
    /// The profile's chain is not the one nxr wrote: the user's, kept.
    HandEdited,
}

/// The chain state of one agent from what its profile holds.
pub async fn state_of(
    store: &Store,
    agent_id: i64,
    configured: &[String],
    chosen: &[Member],
) -> ChainState {
    let in_step = configured.len() == chosen.len()
        && configured.iter().zip(chosen).all(|(c, m)| *c == m.model_id);
    if in_step {
        return ChainState::InStep;
    }
    match remembered(store, agent_id).await {
        Some(written) if written.iter().any(|w| w == configured) => ChainState::Stale,
        // Never written by nxr (a profile from before chains) and empty: nxr's to fill.
        None if configured.is_empty() => ChainState::Stale,
        _ => ChainState::HandEdited,
    }
}

/// Rewrites every agent's stale chain (a member left the catalog, turned paid, expires, or a better
/// model came); a hand-edited chain is kept. Returns the names of the agents whose chain changed, and
/// problems that did not stop the others.
pub async fn refresh_all(store: &Store, env: &Env) -> (Vec<String>, Vec<String>) {
    let (mut changed, mut problems) = (Vec::new(), Vec::new());
    let list = match crate::domain::agents::list(store, env).await {
        Ok(l) => l,
        Err(e) => {
            return (
                changed,
                vec![format!("fallback chains were not checked: {e}")],
            );
        }
    };
    // Team mode: only the profiles on this host (`reset` writes the file).
    for agent in list.into_iter().filter(|a| a.is_here(env)) {
        let Ok(profile) = agent.usable_profile() else {
            continue;
        };
        let Ok(configured) = crate::domain::agents::hermes::fallback_models(&profile.config_path())
        else {
            continue;
        };
        let chosen = match chain_for(store, agent.role, &agent.model).await {
            Ok(c) => c,
            Err(e) => {
                problems.push(format!(
                    "{}'s fallback chain was not checked: {e}",
                    agent.name
                ));
                continue;
            }
        };
        if state_of(store, agent.id, &configured, &chosen).await == ChainState::Stale {
            match reset(store, env, &agent.name).await {
                Ok(()) => changed.push(agent.name.clone()),
                Err(e) => problems.push(format!(
                    "{}'s fallback chain was not rewritten: {e}",
                    agent.name
                )),
            }
        }
    }
    (changed, problems)
}

/// The chain view of one agent.
pub async fn view(
    store: &Store,
    env: &Env,
    name_or_id: &str,
) -> Result<ChainView, crate::domain::agents::AgentError> {
    let agent = crate::domain::agents::resolve(store, env, name_or_id).await?;
    let profile = agent.usable_profile()?;
    let configured = crate::domain::agents::hermes::fallback_models(&profile.config_path())?;
    let chosen = chain_for(store, agent.role, &agent.model)
        .await
        .map_err(|e| crate::domain::agents::AgentError::Other(e.to_string()))?;
    let state = state_of(store, agent.id, &configured, &chosen).await;
    let in_step = state == ChainState::InStep;
    Ok(ChainView {
        state,
        agent: agent.name,
        primary: agent.model,
        configured,
        chosen,
        in_step,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free(id: &str, ctx: u64) -> Model {
        Model {
            id: id.into(),
            name: id.into(),
            context_length: ctx,
            prompt_price: "0".into(),
            completion_price: "0".into(),
            supported_parameters: vec!["tools".into(), "tool_choice".into()],
            input_modalities: vec!["text".into()],
            output_modalities: vec!["text".into()],
            ..Model::default()
        }
    }

    #[test]
    fn other_makers_come_first_and_the_primary_never_appears() {
        let models = vec![
            free("qwen/a:free", 1_000_000),
            free("qwen/b:free", 900_000),
            free("qwen/c:free", 800_000),
            free("nvidia/d:free", 200_000),
            free("z-ai/e:free", 150_000),
        ];
        let chain = choose(
            &models,
            Role::Engineer,
            "qwen/a:free",
            &Health::default(),
            &ScoringConfig::default(),
            3,
        );
        let ids: Vec<&str> = chain.iter().map(|m| m.model_id.as_str()).collect();
        assert_eq!(ids, ["nvidia/d:free", "z-ai/e:free", "qwen/b:free"]);
        assert!(chain.iter().all(|m| m.is_free));
        assert!(
            choose(
                &models,
                Role::Engineer,
                "qwen/a:free",
                &Health::default(),
                &ScoringConfig::default(),
                0
            )
            .is_empty()
        );
    }
}
