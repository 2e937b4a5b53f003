//! Deterministic model scoring (DESIGN.md §4). Pure: no I/O. Owner: the scoring issue.
//! INTERFACE PINNED for other modules: `score`, `best_free`, `best_paid`, `rank`, `ModelScore`, `Pick`,
//! `PickSource`, `Health`, `ScoringConfig`. Fill in the bodies; keep the signatures (extend if needed).

use crate::domain::catalog::Model;
use crate::domain::roles::Role;
use serde::Serialize;
use std::collections::BTreeMap;

/// Observed health per model id (our failures, endpoint uptime). Missing = neutral.
#[derive(Debug, Clone, Default)]
pub struct Health {
    /// model id → success rate in permille (0–1000).
    pub success_permille: BTreeMap<String, u32>,
}

/// Weights and overridable requirements (from settings).
#[derive(Debug, Clone, Default)]
pub struct ScoringConfig {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubScores {
    pub context: u32,
    pub capability: u32,
    pub tools: u32,
    pub recency: u32,
    pub reliability: u32,
    pub price: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelScore {
    pub model_id: String,
    pub role: Role,
    pub is_free: bool,
    /// False when a hard requirement failed (see reasons).
    pub passes: bool,
    pub total: u32,
    pub sub: SubScores,
    pub reasons: Vec<String>,
}

/// Which link of the fallback chain a pick came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PickSource {
    /// The best qualifying model in the catalog.
    Ranked,
    /// No free model qualified: the `openrouter/free` router.
    OpenRouterFree,
    /// No router either: a local Qwen through Ollama.
    LocalOllama { pulled: bool },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pick {
    pub model_id: String,
    /// `openrouter` or `ollama`.
    pub provider: String,
    pub source: PickSource,
    /// Present when source is Ranked.
    pub score: Option<ModelScore>,
    pub warnings: Vec<String>,
}

pub fn score(_model: &Model, _role: Role, _health: &Health, _cfg: &ScoringConfig) -> ModelScore {
    todo!("scoring issue")
}

/// Best free model for `role`; `ollama_models` = names from Ollama's /api/tags (empty when absent).
pub fn best_free(
    _models: &[Model],
    _role: Role,
    _health: &Health,
    _cfg: &ScoringConfig,
    _ollama_models: &[String],
) -> Pick {
    todo!("scoring issue")
}

pub fn best_paid(
    _models: &[Model],
    _role: Role,
    _health: &Health,
    _cfg: &ScoringConfig,
) -> Option<Pick> {
    todo!("scoring issue")
}
