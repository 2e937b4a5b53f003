//! The slot editor's view model and write path, shared by the web `/models/switch` page: the main
//! model and every routing slot with its assignment, the catalog's fuzzy search
//! ([`ModelList::search`], as Tab 2 searches) with the catalog [`Filter`] toggles, and a price panel (current vs candidate per million
//! tokens and the monthly cost at the last 30 days' observed token volume).

use crate::domain::budget_daily;
use crate::domain::catalog::{Filter, Model};
use crate::domain::clock::Clock;
use crate::domain::env::Env;
use crate::domain::hermes::{self, Slot};
use crate::domain::store::Store;
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
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceSide {
    pub model: String,
    /// USD per million prompt / completion tokens (`None` when the catalog has no price).
    pub prompt_per_m: Option<f64>,
    pub completion_per_m: Option<f64>,
    /// At the observed 30-day volume.
    pub monthly_usd: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PricePanel {
    pub current: Option<PriceSide>,
    pub candidate: PriceSide,
    pub observed_prompt_tokens_30d: u64,
    pub observed_completion_tokens_30d: u64,
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

#[derive(Debug, Clone, Serialize)]
pub struct SwitchView {
    pub config_path: String,
    pub slots: Vec<Slot>,
    pub slot: Option<Slot>,
    /// Models the search keeps (after filters), before the cap.
    pub matched: usize,
    pub results: Vec<SwitchResult>,
    pub price: Option<PricePanel>,
}

fn side(m: &Model, volume: (u64, u64)) -> PriceSide {
    let (p, c) = (m.prompt_per_million(), m.completion_per_million());
    PriceSide {
        model: m.id.clone(),
        prompt_per_m: p,
        completion_per_m: c,
        monthly_usd: match (p, c) {
            (Some(p), Some(c)) => {
                Some(p * volume.0 as f64 / 1_000_000.0 + c * volume.1 as f64 / 1_000_000.0)
            }
            _ => None,
        },
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
    let price = slot.as_ref().and_then(|s| {
        let cand = find(q.candidate.as_deref()?)?;
        Some(PricePanel {
            current: s.model.as_deref().and_then(find).map(|m| side(m, volume)),
            candidate: side(cand, volume),
            observed_prompt_tokens_30d: volume.0,
            observed_completion_tokens_30d: volume.1,
        })
    });
    SwitchView {
        config_path: config_path.to_string(),
        slots,
        slot,
        matched,
        results,
        price,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SwitchError {
    #[error("cannot read {path}: {message}; check that HERMES_HOME points at Hermes' home")]
    Config { path: String, message: String },
    #[error("cannot read the catalog or usage: {0}")]
    Store(String),
    #[error(
        "{0:?} is not a routing slot in config.yaml; pick main or one of the slots /models/switch lists"
    )]
    NoSuchSlot(String),
    #[error(
        "{0:?} is not in the catalog; refresh it with `nxr catalog refresh` or pick a model from the list"
    )]
    NoSuchModel(String),
    #[error("cannot write config.yaml: {0}")]
    Write(String),
}

fn config_path(env: &Env) -> std::path::PathBuf {
    env.hermes_home.join("config.yaml")
}

/// Reads config.yaml, the catalog and the observed usage, and builds the view.
pub async fn load(
    store: &Store,
    env: &Env,
    clock: &dyn Clock,
    q: &SwitchQuery,
) -> Result<SwitchView, SwitchError> {
    let path = config_path(env);
    let slots = hermes::routing_slots(&path).map_err(|e| SwitchError::Config {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let models = crate::domain::catalog::load(store)
        .await
        .map_err(|e| SwitchError::Store(e.to_string()))?
        .models;
    let volume = budget_daily::tokens_last_30d(store, clock)
        .await
        .map_err(|e| SwitchError::Store(e.to_string()))?;
    Ok(build(
        &path.display().to_string(),
        slots,
        &models,
        q,
        volume,
    ))
}

/// Points `slot` at the catalog model `model` (provider `openrouter`) in config.yaml, atomically and
/// keeping every other key and comment (`hermes::set_slot`).
pub async fn apply(store: &Store, env: &Env, slot: &str, model: &str) -> Result<(), SwitchError> {
    let path = config_path(env);
    let slots = hermes::routing_slots(&path).map_err(|e| SwitchError::Config {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    if !slots.iter().any(|s| s.name == slot) {
        return Err(SwitchError::NoSuchSlot(slot.to_string()));
    }
    let models = crate::domain::catalog::load(store)
        .await
        .map_err(|e| SwitchError::Store(e.to_string()))?
        .models;
    if !models.iter().any(|m| m.id == model) {
        return Err(SwitchError::NoSuchModel(model.to_string()));
    }
    hermes::set_slot(&path, slot, "openrouter", model, None)
        .map_err(|e| SwitchError::Write(e.to_string()))
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
