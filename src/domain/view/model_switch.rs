//! The slot editor's view model and write path, shared by the web `/models/switch` page: the main
//! model and every routing slot with its assignment, the catalog's fuzzy search
//! ([`ModelList::search`], as Tab 2 searches) with the catalog [`Filter`] toggles, and a price panel
//! (current vs candidate per million tokens and the monthly cost at the last 30 days' observed token
//! volume, or at `nxr upgrade`'s stated assumption when none was observed). The write path ([`apply_for`]) is the one rule for a slot write from the web page, the TUI
//! slot editor and `nxr slots set`: the slot must exist, the model must be in the catalog, and the
//! `main` slot of a config.yaml an agent lives in moves that agent (file and row together); it never
//! writes config.yaml any other way than atomically.

use crate::domain::agents::hermes::{self, Slot};
use crate::domain::agents::{self, Agent, AgentError, echo, team_slots};
use crate::domain::base::clock::Clock;
use crate::domain::base::env::Env;
use crate::domain::budget;
use crate::domain::catalog::{Filter, Model};
use crate::domain::store::Store;
use crate::domain::upgrade::{self, UsageBasis, UsageEstimate};
use crate::domain::view::ModelList;
use serde::Serialize;

/// At most this many search results are listed.
pub const MAX_RESULTS: usize = 50;

/// What the user asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SwitchQuery {
    /// The slot being edited (`main` or an auxiliary name); `None` = just the slot list.
    pub slot: Option<String>,
    pub text: String,
    pub filter: Filter,
    /// The model picked for the price panel and the confirm step.
    pub candidate: Option<String>,
    /// Whose config.yaml (an agent's name or id); `None` = the root profile's.
    pub agent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceSide {
    pub model: String,
    /// USD per million prompt / completion tokens (`None` when the catalog has no price).
    pub prompt_per_m: Option<f64>,
    pub completion_per_m: Option<f64>,
    /// At the observed 30-day volume, or at the stated assumption when nothing was observed.
    pub monthly_usd: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PricePanel {
    pub current: Option<PriceSide>,
    pub candidate: PriceSide,
    pub observed_prompt_tokens_30d: u64,
    pub observed_completion_tokens_30d: u64,
    /// `observed`, or `assumed` when the last 30 days saw no tokens: then the monthly figures are at
    /// `nxr upgrade`'s assumption ([`upgrade::UsageEstimate::assumed`]).
    pub basis: UsageBasis,
    /// The assumption in words when `basis` is `assumed`.
    pub assumption: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SwitchResult {
    pub id: String,
    pub name: String,
    pub context_length: u64,
    pub free: bool,
    pub prompt_per_m: Option<f64>,
    pub completion_per_m: Option<f64>,
}

/// One entry of the page's agent selector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentChoice {
    pub name: String,
    pub host: String,
    /// Its profile is on this host (always, outside team mode).
    pub here: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SwitchView {
    pub config_path: String,
    /// The agent whose config.yaml this is (the root profile's belongs to the `hermes` agent when
    /// there is one).
    pub agent: Option<String>,
    /// Set when that agent's profile is on another host (team mode): the host's name. Only its main
    /// model can be changed from here (the database carries it; that host writes the file).
    pub elsewhere: Option<String>,
    /// Every agent, for the selector.
    pub agents: Vec<AgentChoice>,
    /// For an agent of another host: the latest slot changes asked of its host, newest first.
    pub requests: Vec<team_slots::SlotRequest>,
    pub slots: Vec<Slot>,
    pub slot: Option<Slot>,
    /// Models the search keeps (after filters), before the cap.
    pub matched: usize,
    pub results: Vec<SwitchResult>,
    pub price: Option<PricePanel>,
}

fn side(m: &Model, usage: &UsageEstimate) -> PriceSide {
    let (p, c) = (m.prompt_per_million(), m.completion_per_million());
    PriceSide {
        model: m.id.clone(),
        prompt_per_m: p,
        completion_per_m: c,
        monthly_usd: match (p, c) {
            (Some(p), Some(c)) => Some(usage.monthly_cost(p, c)),
            _ => None,
        },
    }
}

/// The daily usage the price panel prices at: the observed 30-day volume spread over a month, or,
/// with none observed, the same assumption `nxr upgrade`'s plan states.
fn usage_for(volume: (u64, u64)) -> UsageEstimate {
    if volume == (0, 0) {
        return UsageEstimate::assumed();
    }
    let per_day = |n: u64| n as f64 / upgrade::USAGE_WINDOW_DAYS as f64;
    UsageEstimate {
        basis: UsageBasis::Observed,
        requests_per_day: 0.0,
        prompt_tokens_per_day: per_day(volume.0),
        completion_tokens_per_day: per_day(volume.1),
        days: upgrade::USAGE_WINDOW_DAYS as u32,
    }
}

/// Builds the page's view model (pure over its inputs).
pub fn build(
    config_path: &str,
    slots: Vec<Slot>,
    models: &[Model],
    q: &SwitchQuery,
    volume: (u64, u64),
) -> SwitchView {
    let slot = q
        .slot
        .as_ref()
        .and_then(|n| slots.iter().find(|s| &s.name == n).cloned());
    let (matched, results) = match &slot {
        Some(_) => {
            let ranked = ModelList::for_search(models).search(&q.text, &q.filter);
            let results = ranked
                .iter()
                .take(MAX_RESULTS)
                .filter_map(|&i| models.get(i as usize))
                .map(|m| SwitchResult {
                    id: m.id.clone(),
                    name: m.name.clone(),
                    context_length: m.context_length,
                    free: m.is_free(),
                    prompt_per_m: m.prompt_per_million(),
                    completion_per_m: m.completion_per_million(),
                })
                .collect();
            (ranked.len(), results)
        }
        None => (0, Vec::new()),
    };
    let find = |id: &str| models.iter().find(|m| m.id == id);
    let usage = usage_for(volume);
    let price = slot.as_ref().and_then(|s| {
        let cand = find(q.candidate.as_deref()?)?;
        Some(PricePanel {
            current: s.model.as_deref().and_then(find).map(|m| side(m, &usage)),
            candidate: side(cand, &usage),
            observed_prompt_tokens_30d: volume.0,
            observed_completion_tokens_30d: volume.1,
            basis: usage.basis,
            assumption: (usage.basis == UsageBasis::Assumed).then(upgrade::assumption_text),
        })
    });
    SwitchView {
        config_path: config_path.to_string(),
        agent: None,
        elsewhere: None,
        agents: Vec::new(),
        requests: Vec::new(),
        slots,
        slot,
        matched,
        results,
        price,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SwitchError {
    #[error("{message}")]
    Config { path: String, message: String },
    #[error("cannot read the catalog or usage: {0}")]
    Store(String),
    #[error(
        "{:?} is not a routing slot in config.yaml; pick main or one of its slots",
        echo(.0)
    )]
    NoSuchSlot(String),
    #[error(
        "{:?} is not in the catalog",
        echo(.0)
    )]
    NoSuchModel(String),
    #[error("{0}")]
    Write(String),
    #[error(
        "{model} does not take images (its catalog input is {inputs}), so it cannot serve the vision slot (nxr changed nothing)"
    )]
    NoImageInput { model: String, inputs: String },
    #[error(
        "slot {slot} has its own endpoint (provider {provider}, base_url {base_url}); Hermes would send an OpenRouter model there, and nxr does not drop your endpoint silently; a forced switch replaces it with OpenRouter (its base_url and api_key are removed, every other key is kept), or edit the slot by hand (nxr changed nothing)"
    )]
    OwnEndpoint {
        slot: String,
        provider: String,
        base_url: String,
    },
    #[error(transparent)]
    Agent(#[from] AgentError),
}

/// The slots of one config.yaml: the root profile's (`$HERMES_HOME/config.yaml`) or an agent's.
#[derive(Debug, Clone, Serialize)]
pub struct SlotsView {
    pub config_path: String,
    /// The agent whose profile this config.yaml is (its `main` slot is that agent's model).
    pub agent: Option<String>,
    pub slots: Vec<Slot>,
}

/// What [`apply_for`] changed.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    pub config_path: String,
    pub slot: String,
    pub model: String,
    /// Set when the slot was an agent's main model: the database row moved with config.yaml.
    pub agent: Option<String>,
    /// Set when the config.yaml is on another host (team mode): that host writes it at its next
    /// reconcile.
    pub host: Option<String>,
}

impl Applied {
    /// The change in words, for every surface.
    pub fn summary(&self) -> String {
        let whose = self
            .agent
            .as_ref()
            .map(|n| format!(" of agent {}", echo(n)))
            .unwrap_or_default();
        match &self.host {
            Some(h) => format!(
                "slot {}{whose} now uses {}: host {h} writes it to {} at its next reconcile",
                self.slot, self.model, self.config_path
            ),
            None => format!(
                "slot {}{whose} now uses {} (written to {})",
                self.slot, self.model, self.config_path
            ),
        }
    }
}

fn config_path(env: &Env) -> std::path::PathBuf {
    env.hermes_home.join("config.yaml")
}

/// Reads the chosen config.yaml (the root profile's or `q.agent`'s), the catalog and the observed
/// usage, and builds the view.
pub async fn load(
    store: &Store,
    env: &Env,
    clock: &dyn Clock,
    q: &SwitchQuery,
) -> Result<SwitchView, SwitchError> {
    let (path, owner) = target(store, env, q.agent.as_deref()).await?;
    let slots = slots_at(store, &path, owner.as_ref(), env).await?;
    let models = crate::domain::catalog::load(store)
        .await
        .map_err(|e| SwitchError::Store(e.to_string()))?
        .models;
    let volume = budget::daily::tokens_last_30d(store, clock)
        .await
        .map_err(|e| SwitchError::Store(e.to_string()))?;
    let mut view = build(
        &shown_path(&path, owner.as_ref(), env),
        slots,
        &models,
        q,
        volume,
    );
    view.agents = agents::list(store, env)
        .await?
        .into_iter()
        .map(|a| AgentChoice {
            here: a.is_here(env),
            name: a.name,
            host: a.host,
        })
        .collect();
    view.elsewhere = owner
        .as_ref()
        .filter(|a| !a.is_here(env))
        .map(|a| a.host.clone());
    if let Some(a) = owner.as_ref().filter(|_| view.elsewhere.is_some()) {
        view.requests = team_slots::requests(store, a.id, 10)
            .await
            .map_err(|e| SwitchError::Store(e.to_string()))?;
    }
    view.agent = owner.map(|a| a.name);
    Ok(view)
}

/// Points `slot` at the catalog model `model` (provider `openrouter`) in `$HERMES_HOME/config.yaml`
/// (see [`apply_for`]).
pub async fn apply(
    store: &Store,
    env: &Env,
    slot: &str,
    model: &str,
    force: bool,
) -> Result<(), SwitchError> {
    apply_for(store, env, None, slot, model, force)
        .await
        .map(|_| ())
}

/// The vision slot takes only a model with image input (catalog `architecture.input_modalities`),
/// unless `force`.
pub fn check_slot_model(slot: &str, m: &Model, force: bool) -> Result<(), SwitchError> {
    if slot == hermes::VISION_SLOT && !m.supports_vision() && !force {
        let inputs = if m.input_modalities.is_empty() {
            "not stated".to_string()
        } else {
            m.input_modalities.join(", ")
        };
        return Err(SwitchError::NoImageInput {
            model: m.id.clone(),
            inputs,
        });
    }
    Ok(())
}

/// The config.yaml that `agent` (a name or id; `None` = the root profile) lives in, and the agent
/// that owns it (the root profile belongs to the `hermes` agent when there is one).
async fn target(
    store: &Store,
    env: &Env,
    agent: Option<&str>,
) -> Result<(std::path::PathBuf, Option<Agent>), SwitchError> {
    match agent {
        Some(name) => {
            let a = agents::resolve(store, env, name).await?;
            Ok((a.profile().config_path(), Some(a)))
        }
        None => {
            let owner = agents::list(store, env)
                .await?
                .into_iter()
                .find(|a| a.profile().is_root());
            Ok((config_path(env), owner))
        }
    }
}

fn read_slots(path: &std::path::Path) -> Result<Vec<Slot>, SwitchError> {
    hermes::routing_slots(path).map_err(|e| SwitchError::Config {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// `path` as the user reads it: with the host it is on when that is not this one.
fn shown_path(path: &std::path::Path, owner: Option<&Agent>, env: &Env) -> String {
    match owner.filter(|a| !a.is_here(env)) {
        Some(a) => format!("{} on host {}", path.display(), a.host),
        None => path.display().to_string(),
    }
}

/// The slots of `path`; for an agent whose profile is on another host, its main model as the
/// database has it (the file is on that host).
async fn slots_at(
    store: &Store,
    path: &std::path::Path,
    owner: Option<&Agent>,
    env: &Env,
) -> Result<Vec<Slot>, SwitchError> {
    let Some(a) = owner.filter(|a| !a.is_here(env)) else {
        return read_slots(path);
    };
    // Its host publishes the file's slots; the main model is the agent's row.
    let main = Slot {
        name: hermes::MAIN_SLOT.to_string(),
        provider: Some(a.provider.clone()),
        model: Some(a.model.clone()),
        base_url: None,
    };
    let mut slots = team_slots::published(store, a.id)
        .await
        .map_err(|e| SwitchError::Store(e.to_string()))?;
    slots.retain(|s| s.name != hermes::MAIN_SLOT);
    slots.insert(0, main);
    Ok(slots)
}

/// The main model and every routing slot of the root config.yaml, or of `agent`'s profile.
pub async fn slots_for(
    store: &Store,
    env: &Env,
    agent: Option<&str>,
) -> Result<SlotsView, SwitchError> {
    let (path, owner) = target(store, env, agent).await?;
    Ok(SlotsView {
        config_path: shown_path(&path, owner.as_ref(), env),
        slots: slots_at(store, &path, owner.as_ref(), env).await?,
        agent: owner.map(|a| a.name),
    })
}

/// Points `slot` at the catalog model `model` (provider `openrouter`) in the root config.yaml or in
/// `agent`'s profile, atomically and keeping every other key and comment (`hermes::set_slot_endpoint`).
/// The `main` slot of a config.yaml an agent lives in is that agent's model: it moves with its
/// database row (`agents::set_model`), so the two never disagree. Refused, with nothing changed:
/// a vision model without image input and a slot with an endpoint of the user's, unless `force`
/// ([`check_slot_model`], [`endpoint_for`]); anything but a mapping where the slot's keys go.
pub async fn apply_for(
    store: &Store,
    env: &Env,
    agent: Option<&str>,
    slot: &str,
    model: &str,
    force: bool,
) -> Result<Applied, SwitchError> {
    let (path, owner) = target(store, env, agent).await?;
    let elsewhere = owner
        .as_ref()
        .filter(|a| !a.is_here(env))
        .map(|a| a.host.clone());
    let slots = slots_at(store, &path, owner.as_ref(), env).await?;
    let Some(current) = slots.iter().find(|s| s.name == slot) else {
        return Err(SwitchError::NoSuchSlot(slot.to_string()));
    };
    agents::validate_model_syntax(model)?;
    let models = crate::domain::catalog::load(store)
        .await
        .map_err(|e| SwitchError::Store(e.to_string()))?
        .models;
    let Some(m) = models.iter().find(|m| m.id == model) else {
        return Err(SwitchError::NoSuchModel(model.to_string()));
    };
    check_slot_model(slot, m, force)?;
    let applied = |agent: Option<&Agent>| Applied {
        config_path: shown_path(&path, agent, env),
        slot: slot.to_string(),
        model: model.to_string(),
        agent: agent.map(|a| a.name.clone()),
        host: elsewhere.clone(),
    };
    match owner {
        // The main model is the agent's row: file and row move together (on another host, the
        // row moves and that host's reconcile writes the file).
        Some(a) if slot == hermes::MAIN_SLOT => {
            let a = agents::set_model(store, env, &a.id.to_string(), model, "slot editor").await?;
            Ok(applied(Some(&a)))
        }
        // Another host's file: asked of that host, which writes it by the same rule.
        Some(a) if elsewhere.is_some() => {
            team_slots::request(store, env, a.id, slot, model, force)
                .await
                .map_err(|e| SwitchError::Store(e.to_string()))?;
            Ok(applied(Some(&a)))
        }
        owner => {
            // The same lock as every agent change: the root profile's config.yaml is also the
            // `hermes` agent's, and two writers must not interleave their read-modify-write.
            let _lock = agents::agents_lock(env).await;
            team_slots::write_slot(env, &path, current, model, force).map_err(|e| match e {
                team_slots::WriteError::OwnEndpoint(own) => SwitchError::OwnEndpoint {
                    slot: own.slot,
                    provider: own.provider,
                    base_url: own.base_url,
                },
                team_slots::WriteError::Other(e) => SwitchError::Write(e),
            })?;
            Ok(applied(owner.as_ref()))
        }
    }
}

impl crate::domain::base::hint::Hinted for SwitchError {
    fn hints(&self) -> Vec<crate::domain::base::hint::Hint> {
        #[allow(unused_imports)]
        use crate::domain::base::hint::{Hint, Hinted};
        match self {
            SwitchError::NoSuchSlot(_) => vec![Hint::ListSlots],
            SwitchError::NoSuchModel(_) => vec![Hint::RefreshCatalog, Hint::ListModels],
            SwitchError::NoImageInput { .. } => vec![Hint::ListVisionModels, Hint::ForceModel],
            SwitchError::OwnEndpoint { .. } => vec![Hint::ForceModel],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(id: &str, name: &str, price: &str) -> Model {
        let body = serde_json::json!({"data": [{
            "id": id, "name": name, "created": 0, "context_length": 131072,
            "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
            "pricing": {"prompt": price, "completion": price},
            "supported_parameters": ["tools"]
        }]});
        crate::domain::catalog::parse_catalog(&body.to_string())
            .unwrap()
            .models
            .remove(0)
    }

    #[test]
    fn fuzzy_search_ranks_matches_and_respects_the_free_toggle() {
        let ms = vec![
            model("qwen/qwen3-coder:free", "Qwen3 Coder (free)", "0"),
            model("meta/llama-4", "Llama 4", "0.000001"),
            model("qwen/qwen3-235b", "Qwen3 235B", "0.000002"),
        ];
        let search = |q: &str, f: &Filter| ModelList::for_search(&ms).search(q, f);
        let all = search("qwen", &Filter::default());
        assert_eq!(all.len(), 2);
        let free = Filter {
            free: true,
            ..Filter::default()
        };
        assert_eq!(search("qwen", &free), vec![0]);
        assert_eq!(search("", &Filter::default()), vec![0, 1, 2]);
        assert!(search("zzzz", &Filter::default()).is_empty());
    }
}
