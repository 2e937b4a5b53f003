//! Scoring against the stored state: the catalog in use, the scoring settings, observed health and
//! Ollama's model list go in; best picks, rosters, explanations and stored runs come out. The CLI,
//! the web API and the TUI all call these functions, so they always agree.
//!
//! A rescore writes one `model_scores` row per (model, role) — every sub-score, `is_free`,
//! `passes`, the reasons as JSON and one `scored_at` shared by the run — and updates
//! `agents.model_score` for agents whose model was scored, all in ONE transaction.

use crate::domain::base::clock;
use crate::domain::base::env::Env;
use crate::domain::base::roles::{Requirements, Role};
use crate::domain::catalog::ollama;
use crate::domain::catalog::{self, CatalogSource, Model};
use crate::domain::scoring::capability::{FigureUse, KindWeights};
use crate::domain::scoring::{
    self, Health, ModelScore, Pick, PickSource, Pool, ScoringConfig, Weights,
};
use crate::domain::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use libsql::{Value, params};
use serde::Serialize;
use std::collections::BTreeMap;

mod inputs;
mod run;
mod views;

pub use inputs::*;
pub use run::*;
pub use views::*;

/// Settings keys (table `settings`).
pub const SETTING_WEIGHTS_PREFIX: &str = "scoring.weights.";
pub const SETTING_CUSTOM_MIN_CONTEXT: &str = "scoring.custom.min_context";
pub const SETTING_CUSTOM_NEEDS_TOOLS: &str = "scoring.custom.needs_tools";
/// `true`: models with a caveat (logs prompts, stealth, announced removal) are ranked and may be
/// picked automatically; default false.
pub const SETTING_ALLOW_STEALTH: &str = "allow_stealth_models";
/// Per-role weights of the kinds of evaluation figure, e.g. `scoring.capability.engineer` =
/// `{"coding": 3, "tool_use": 1}` (docs/scoring.md).
pub const SETTING_CAPABILITY_PREFIX: &str = "scoring.capability.";
/// The best pick per role of the last rescore (JSON), for "what changed".
pub const SETTING_LAST_BEST: &str = "scoring.last_best";
/// A model needs this many observed requests before its success rate counts.
pub const MIN_OBSERVED_REQUESTS: i64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum ScoringError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("setting {key} = {value:?} is not valid: {problem}; set it to e.g. {example}")]
    BadSetting {
        key: String,
        value: String,
        problem: String,
        example: String,
    },
    #[error("no model {given:?} in the catalog{}", suggest(.suggestions))]
    UnknownModel {
        given: String,
        suggestions: Vec<String>,
    },
    #[error("database error: {0}")]
    Sql(#[from] libsql::Error),
    #[error(transparent)]
    Evals(#[from] crate::domain::scoring::evals::EvalError),
}

fn suggest(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", s.join(", "))
    }
}

pub type Result<T, E = ScoringError> = std::result::Result<T, E>;

fn truncate(s: &str) -> String {
    let clean: String = s.chars().filter(|c| !c.is_control()).take(80).collect();
    if clean.len() < s.len() {
        format!("{clean}…")
    } else {
        clean
    }
}

impl crate::domain::base::hint::Hinted for ScoringError {
    fn hints(&self) -> Vec<crate::domain::base::hint::Hint> {
        #[allow(unused_imports)]
        use crate::domain::base::hint::{Hint, Hinted};
        match self {
            ScoringError::UnknownModel { .. } => vec![Hint::ListModels],
            ScoringError::Store(e) => e.hints(),
            _ => Vec::new(),
        }
    }
}
