//! Deterministic model scoring (docs/design.md §4, docs/scoring.md). Pure: no I/O, no wall clock (the time
//! reference is `ScoringConfig::now`). Other modules use `score`, `best_free`, `best_paid`, `rank`,
//! `ModelScore` (with its typed `Verdict` / `Exclusion`s), `Pick`, `PickSource`, `Health` and
//! `ScoringConfig`; none keeps its own copy of a rule or reads the reasons' text back.
//!
//! `numbers` holds the integer arithmetic, `features` what is read from a model and the per-role
//! totals, `reasons` the human explanation, `verdict` the typed pass/fail, `ranking` the full ranking
//! and the one best-per-role scan, `picks` the best picks and the fallback chain.
//!
//! Every number is an integer: sub-scores are points 0–1000, the total is the weighted mean of the
//! sub-scores (floored), logarithms are computed in fixed point, so the same catalog gives the same
//! picks byte for byte on every machine. Ranking order: total desc, then context desc, then id asc.

pub mod capability;
pub mod caveats;
pub mod evals;
pub mod health;
pub mod rescore;
pub mod spread;
pub mod unmeasured;

use crate::domain::base::roles::{Requirements, Role};
use crate::domain::catalog::Model;
use crate::domain::scoring::evals::EvalData;
use capability::{CapabilityTable, KindWeights};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

mod features;
mod numbers;
mod picks;
mod ranking;
mod reasons;
mod verdict;

use features::*;
pub use numbers::*;
pub use picks::*;
pub use ranking::*;
use reasons::*;
pub use verdict::*;

/// Observed health per model id (our failures, endpoint uptime). Missing = neutral.
#[derive(Debug, Clone, Default)]
pub struct Health {
    /// model id → success rate in permille (0–1000).
    pub success_permille: BTreeMap<String, u32>,
    /// model id → OpenRouter's endpoint uptime in permille (the best endpoint's last day).
    pub uptime_permille: BTreeMap<String, u32>,
}

/// The local model used when neither a free catalog model nor `openrouter/free` is available and
/// Ollama lists no Qwen model.
pub const DEFAULT_LOCAL_QWEN: &str = "qwen3:8b";
/// The router that is the first fallback.
pub const OPENROUTER_FREE: &str = "openrouter/free";
/// Reliability when nothing is known about a model.
pub const NEUTRAL_RELIABILITY: u32 = 500;
/// Capability points for the parameter count when it cannot be read from the id or name.
pub const NEUTRAL_PARAMS: u32 = 500;
/// Recency falls from 1000 (created today) to 0 over this many days.
pub const RECENCY_SPAN_DAYS: i64 = 730;
/// A model whose `expiration_date` is less than this far away never wins.
pub const EXPIRY_GUARD_SECS: i64 = 86_400;

/// How much each sub-score counts for a role. The total is `Σ weight × sub-score / Σ weight`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub context: u32,
    pub capability: u32,
    pub tools: u32,
    pub recency: u32,
    pub reliability: u32,
    pub price: u32,
}

impl Weights {
    /// The documented default table (docs/scoring.md). Each row sums to 100.
    pub const fn default_for(role: Role) -> Weights {
        let [context, capability, tools, recency, reliability, price] = match role {
            Role::Pm => [20, 30, 20, 10, 10, 10],
            Role::Engineer => [15, 45, 20, 5, 10, 5],
            Role::Hermes => [20, 30, 25, 10, 10, 5],
            Role::Creative => [10, 45, 0, 20, 15, 10],
            Role::Research => [35, 35, 5, 10, 10, 5],
            Role::Custom => [20, 30, 15, 15, 10, 10],
        };
        Weights {
            context,
            capability,
            tools,
            recency,
            reliability,
            price,
        }
    }

    pub fn sum(&self) -> u32 {
        self.context + self.capability + self.tools + self.recency + self.reliability + self.price
    }
}

/// Weights and overridable requirements (from settings), plus the time reference.
#[derive(Debug, Clone, Default)]
pub struct ScoringConfig {
    /// "Now" as unix seconds, for the expiry guard (and for recency when `recency_reference` is
    /// unset). `None`: any model with an announced expiration date is treated as expiring.
    pub now: Option<i64>,
    /// The time recency is measured from (unix seconds): the newest `created` in the catalog, so the
    /// same catalog gives the same scores on any day. `None`: `now`; both `None`: recency is neutral.
    pub recency_reference: Option<i64>,
    /// Per-role weight overrides; roles missing here use [`Weights::default_for`].
    pub weights: BTreeMap<Role, Weights>,
    /// Requirements of the `custom` role; `None` = [`Role::default_requirements`].
    pub custom: Option<Requirements>,
    /// Capability from published evaluation figures for the catalog being scored; `None`: every
    /// model's capability is the size estimate.
    pub capability: Option<Arc<CapabilityTable>>,
    /// Per-role overrides of how much each kind of figure counts; missing roles use
    /// [`KindWeights::default_for`].
    pub capability_kinds: BTreeMap<Role, KindWeights>,
    /// Rank models with a [`caveats`](crate::domain::scoring::caveats) caveat (logs prompts, stealth,
    /// announced removal) like any other; `false` (the default) keeps them out of every ranking, so
    /// no automatic pick lands on one.
    pub allow_stealth: bool,
}

impl ScoringConfig {
    /// The default table with `now` as the time reference.
    pub fn at(now: chrono::DateTime<chrono::Utc>) -> ScoringConfig {
        ScoringConfig {
            now: Some(now.timestamp()),
            ..ScoringConfig::default()
        }
    }

    /// The default table for scoring `models` at `now`: recency is measured from the newest model,
    /// capability from the embedded evaluation figures.
    pub fn for_catalog(models: &[Model], now: chrono::DateTime<chrono::Utc>) -> ScoringConfig {
        ScoringConfig {
            recency_reference: newest_created(models),
            ..ScoringConfig::at(now)
        }
        .with_evals(models, &crate::domain::scoring::evals::embedded())
    }

    /// This config with the capability table of `models` built from `data` (call it after the
    /// requirements and the time reference are final: they decide which models pass the gates).
    pub fn with_evals(mut self, models: &[Model], data: &Arc<EvalData>) -> ScoringConfig {
        let table = CapabilityTable::build(models, data, &self, &self.capability_kinds);
        self.capability = Some(Arc::new(table));
        self
    }

    pub fn weights(&self, role: Role) -> Weights {
        self.weights
            .get(&role)
            .copied()
            .unwrap_or(Weights::default_for(role))
    }

    pub fn requirements(&self, role: Role) -> Requirements {
        match (role, self.custom) {
            (Role::Custom, Some(r)) => r,
            _ => role.default_requirements(),
        }
    }
}

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
    /// False when a hard requirement failed (see `exclusions`).
    pub passes: bool,
    pub total: u32,
    pub sub: SubScores,
    /// The human reasons: the failed requirements (`excluded: …`) first, then one line per sub-score.
    pub reasons: Vec<String>,
    /// The hard requirements the model fails for the role; empty exactly when `passes`.
    pub exclusions: Vec<Exclusion>,
    /// The model's context length (the first tie-breaker after the total).
    pub context_length: u64,
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

impl PickSource {
    /// A short human label.
    pub fn label(&self) -> &'static str {
        match self {
            PickSource::Ranked => "ranked",
            PickSource::OpenRouterFree => "fallback: openrouter/free",
            PickSource::LocalOllama { pulled: true } => "fallback: local Ollama",
            PickSource::LocalOllama { pulled: false } => "fallback: local Ollama (not pulled)",
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_milli_is_exact_enough() {
        assert_eq!(log2_milli(1), 0);
        assert_eq!(log2_milli(2), 1000);
        assert_eq!(log2_milli(1024), 10_000);
        assert_eq!(log2_milli(3), 1584); // 1.58496…
        assert_eq!(log2_milli(1000), 9965); // 9.96578…
        assert_eq!(log2_milli(262_144), 18_000);
    }

    #[test]
    fn params_parse_from_ids() {
        let p = |s| parse_params(s).map(|p| (p.total_millions, p.active_millions));
        assert_eq!(p("llama-3.3-70b-instruct"), Some((70_000, None)));
        assert_eq!(p("hermes-3-llama-3.1-405b"), Some((405_000, None)));
        assert_eq!(
            p("nemotron-3-super-120b-a12b:free"),
            Some((120_000, Some(12_000)))
        );
        assert_eq!(p("gemma-3n-e4b-it"), Some((4_000, None)));
        assert_eq!(p("lfm-2.5-1.2b-instruct"), Some((1_200, None)));
        assert_eq!(p("ling-2.6-1t:free"), Some((1_000_000, None)));
        assert_eq!(p("mixtral-8x7b-instruct"), Some((56_000, None)));
        assert_eq!(p("gpt-4o-mini"), None);
        assert_eq!(p("deepseek-v3.2"), None);
        assert_eq!(p("qwen3-235b-a22b-2507"), Some((235_000, Some(22_000))));
        assert_eq!(p("kimi-k2"), None);
    }

    #[test]
    fn zero_prices_match_the_catalog_rule() {
        for p in [
            "0",
            "0.0",
            "0.000",
            " 0 ",
            "00",
            "0.0000002",
            "1",
            "-1",
            "1e-400",
            "0e5",
            "abc",
            "",
            ".",
            "-0",
            "+0.0",
        ] {
            let by_parse = matches!(p.trim().parse::<f64>(), Ok(v) if v == 0.0);
            assert_eq!(price_is_zero(p), by_parse, "{p:?}");
        }
    }

    #[test]
    fn one_scan_for_several_roles_gives_each_role_s_own_pick() {
        let models = crate::domain::catalog::embedded().models;
        let health = Health::default();
        let cfg = ScoringConfig::for_catalog(&models, chrono::Utc::now());
        let paid = best_paid_all(&models, &Role::ALL, &health, &cfg);
        for (role, pick) in Role::ALL.iter().zip(paid) {
            assert_eq!(pick, best_paid(&models, *role, &health, &cfg), "{role}");
        }
        let free = best_free_all(&models, &health, &cfg, &[]);
        for (role, pick) in free {
            assert_eq!(pick, best_free(&models, role, &health, &cfg, &[]), "{role}");
        }
    }

    /// The embedded catalog, several times over, with contexts, prices, expiry dates, sizes,
    /// flags and modalities varied, in a shuffled order (fixed seed).
    fn varied_catalog(copies: usize, seed: u64) -> Vec<Model> {
        let base = crate::domain::catalog::embedded().models;
        let mut r = seed | 1;
        let mut next = move || {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            r
        };
        let mut out = Vec::new();
        for c in 0..copies {
            for m in &base {
                let mut m = m.clone();
                m.id = format!("{}-{c}", m.id);
                match next() % 9 {
                    0 => m.context_length = next() % 2_000_000,
                    1 => {
                        m.context_length =
                            [0, 1, 8_000, 32_000, 64_000, 128_000][next() as usize % 6]
                    }
                    2 => {
                        m.expiration_date = Some(
                            ["2026-05-01", "2026-06-01", "bogus", "2020-01-01"]
                                [next() as usize % 4]
                                .into(),
                        )
                    }
                    3 => {
                        m.prompt_price =
                            ["1e-7", " 0 ", "-1", "0.000", "abc", "12"][next() as usize % 6].into();
                        m.completion_price = ["0", "2e-6", "x"][next() as usize % 3].into();
                    }
                    4 => m.id = format!("v/Big-{c}-{}B-A7B:free", next() % 500),
                    5 => m.supported_parameters = vec!["include_reasoning".into(), "tools".into()],
                    6 => m.output_modalities = vec!["image".into()],
                    7 => m.created -= (next() % 1000) as i64 * 86_400,
                    _ => {}
                }
                if next() % 4 == 0 {
                    m.id = format!("{}:free", m.id);
                }
                out.push(m);
            }
        }
        for i in (1..out.len()).rev() {
            out.swap(i, (next() % (i as u64 + 1)) as usize);
        }
        out
    }

    /// The ranking scan (early exit, lazy requirement checks) picks the first passing model of
    /// the full ranking (every model scored with its reasons, then sorted).
    #[test]
    fn scan_agrees_with_the_full_ranking() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-05-01T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        for seed in [1u64, 7, 42, 1234] {
            let models = varied_catalog(3, seed);
            let mut health = Health::default();
            for (i, m) in models.iter().enumerate().step_by(5) {
                health
                    .success_permille
                    .insert(m.id.clone(), (i as u32 * 37) % 1100);
            }
            let mut custom = ScoringConfig::for_catalog(&models, now);
            custom.custom = Some(Requirements {
                min_context: 100_000,
                needs_tools: true,
            });
            custom.weights.insert(
                Role::Engineer,
                Weights {
                    context: 7,
                    capability: 0,
                    tools: 3,
                    recency: 91,
                    reliability: 2,
                    price: 13,
                },
            );
            let cfgs = [
                ScoringConfig::for_catalog(&models, now),
                ScoringConfig::default(),
                custom,
            ];
            for cfg in &cfgs {
                for pool in [Pool::Free, Pool::Paid] {
                    let scan = best_indices(&models, &Role::ALL, pool, &health, cfg);
                    for (role, got) in Role::ALL.iter().zip(scan) {
                        let want = rank(&models, *role, pool, &health, cfg)
                            .into_iter()
                            .find(|s| s.passes)
                            .map(|s| s.model_id);
                        let alone = best_indices(&models, &[*role], pool, &health, cfg)[0];
                        assert_eq!(got, alone, "seed {seed} {role} {pool:?} alone");
                        let got = got.map(|i| models[i].id.clone());
                        assert_eq!(got, want, "seed {seed} {role} {pool:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn moe_effective_size_is_geometric_mean() {
        let p = parse_params("120b-a12b").unwrap();
        assert_eq!(p.effective_millions(), 37_947);
    }
}
