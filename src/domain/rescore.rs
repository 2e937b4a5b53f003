//! Scoring against the stored state: the catalog in use, the scoring settings, observed health and
//! Ollama's model list go in; best picks, rosters, explanations and stored runs come out. The CLI,
//! the web API and the TUI all call these functions, so they always agree.
//!
//! A rescore writes one `model_scores` row per (model, role) — every sub-score, `is_free`,
//! `passes`, the reasons as JSON and one `scored_at` shared by the run — and updates
//! `agents.model_score` for agents whose model was scored, all in ONE transaction.

use crate::domain::capability::{FigureUse, KindWeights};
use crate::domain::catalog::{self, CatalogSource, Model};
use crate::domain::clock;
use crate::domain::env::Env;
use crate::domain::ollama;
use crate::domain::roles::{Requirements, Role};
use crate::domain::scoring::{
    self, Health, ModelScore, Pick, PickSource, Pool, ScoringConfig, Weights,
};
use crate::domain::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use libsql::{Value, params};
use serde::Serialize;
use std::collections::BTreeMap;

/// Settings keys (table `settings`).
pub const SETTING_WEIGHTS_PREFIX: &str = "scoring.weights.";
pub const SETTING_CUSTOM_MIN_CONTEXT: &str = "scoring.custom.min_context";
pub const SETTING_CUSTOM_NEEDS_TOOLS: &str = "scoring.custom.needs_tools";
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
    #[error("no model {given:?} in the catalog{}; `nxr models list` shows the ids", suggest(.suggestions))]
    UnknownModel {
        given: String,
        suggestions: Vec<String>,
    },
    #[error("database error: {0}")]
    Sql(#[from] libsql::Error),
    #[error(transparent)]
    Evals(#[from] crate::domain::evals::EvalError),
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

/// Reads the weight overrides and the `custom` requirements from settings; `now` is the time
/// reference for recency and the expiry guard.
pub async fn load_config(store: &Store, now: DateTime<Utc>) -> Result<ScoringConfig> {
    let mut cfg = ScoringConfig::at(now);
    for role in Role::ALL {
        let key = format!("{SETTING_WEIGHTS_PREFIX}{role}");
        if let Some(value) = store.setting(&key).await? {
            cfg.weights.insert(role, parse_weights(&key, &value, role)?);
        }
    }
    let mut custom = Role::Custom.default_requirements();
    let mut changed = false;
    if let Some(v) = store.setting(SETTING_CUSTOM_MIN_CONTEXT).await? {
        custom.min_context = v.trim().parse().map_err(|_| ScoringError::BadSetting {
            key: SETTING_CUSTOM_MIN_CONTEXT.into(),
            value: truncate(&v),
            problem: "not a whole number of tokens".into(),
            example: "16000".into(),
        })?;
        changed = true;
    }
    if let Some(v) = store.setting(SETTING_CUSTOM_NEEDS_TOOLS).await? {
        custom.needs_tools = match v.trim() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => {
                return Err(ScoringError::BadSetting {
                    key: SETTING_CUSTOM_NEEDS_TOOLS.into(),
                    value: truncate(&v),
                    problem: "not true or false".into(),
                    example: "true".into(),
                });
            }
        };
        changed = true;
    }
    if changed {
        cfg.custom = Some(custom);
    }
    for role in Role::ALL {
        let key = format!("{SETTING_CAPABILITY_PREFIX}{role}");
        if let Some(value) = store.setting(&key).await? {
            cfg.capability_kinds
                .insert(role, parse_kind_weights(&key, &value, role)?);
        }
    }
    Ok(cfg)
}

/// `{"coding": 3, "tool_use": 1}`; missing kinds count 0.
pub fn parse_kind_weights(key: &str, value: &str, role: Role) -> Result<KindWeights> {
    let example = serde_json::to_string(&KindWeights::default_for(role)).unwrap_or_default();
    let bad = |problem: String| ScoringError::BadSetting {
        key: key.to_string(),
        value: truncate(value),
        problem,
        example: example.clone(),
    };
    let w: KindWeights = serde_json::from_str(value).map_err(|e| {
        bad(format!(
            "not a JSON object of whole numbers for coding, tool_use, general, long_context ({e})"
        ))
    })?;
    if [w.coding, w.tool_use, w.general, w.long_context]
        .iter()
        .any(|n| *n > 1000)
    {
        return Err(bad("a weight is above 1000".into()));
    }
    Ok(w)
}

/// `{"context": 20, "capability": 35, …}`; missing keys keep the role's default.
pub fn parse_weights(key: &str, value: &str, role: Role) -> Result<Weights> {
    let example = serde_json::to_string(&Weights::default_for(role)).unwrap_or_default();
    let bad = |problem: String| ScoringError::BadSetting {
        key: key.to_string(),
        value: truncate(value),
        problem,
        example: example.clone(),
    };
    let obj: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(value).map_err(|e| bad(format!("not a JSON object ({e})")))?;
    let mut w = Weights::default_for(role);
    for (k, v) in obj {
        let n = v
            .as_u64()
            .filter(|n| *n <= 1000)
            .ok_or_else(|| bad(format!("{k} must be a whole number from 0 to 1000")))?
            as u32;
        match k.as_str() {
            "context" => w.context = n,
            "capability" => w.capability = n,
            "tools" => w.tools = n,
            "recency" => w.recency = n,
            "reliability" => w.reliability = n,
            "price" => w.price = n,
            other => {
                return Err(bad(format!(
                    "unknown weight {other:?} (the weights are context, capability, tools, recency, reliability, price)"
                )));
            }
        }
    }
    if w.sum() == 0 {
        return Err(bad("all weights are zero".into()));
    }
    Ok(w)
}

/// Observed success rates from `usage_events` (rate-limit rows are about our budget, not the model,
/// and are left out). Models with fewer than [`MIN_OBSERVED_REQUESTS`] requests stay neutral.
pub async fn load_health(store: &Store) -> Result<Health> {
    let limited = crate::domain::budget::RATE_LIMIT_STATUSES;
    let mut rows = store
        .conn()
        .query(
            "SELECT model,
                    SUM(CASE WHEN status = 'ok' THEN requests ELSE 0 END),
                    SUM(requests)
             FROM usage_events
             WHERE status NOT IN (?1, ?2)
             GROUP BY model",
            params![limited[0], limited[1]],
        )
        .await?;
    let mut health = Health::default();
    while let Some(row) = rows.next().await? {
        let model: String = row.get(0)?;
        let ok: i64 = row.get::<Option<i64>>(1)?.unwrap_or(0);
        let total: i64 = row.get::<Option<i64>>(2)?.unwrap_or(0);
        if total >= MIN_OBSERVED_REQUESTS {
            let permille = (ok.clamp(0, total) * 1000 / total) as u32;
            health.success_permille.insert(model, permille);
        }
    }
    health.uptime_permille = crate::domain::health::load_uptime(store).await?;
    Ok(health)
}

/// Everything a scoring call needs, read from the store.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub models: Vec<Model>,
    pub catalog: CatalogSource,
    pub health: Health,
    pub cfg: ScoringConfig,
}

/// [`inputs`], kept between calls while the data and the second are unchanged (`domain::memo`).
pub async fn inputs_shared(store: &Store, now: DateTime<Utc>) -> Result<std::sync::Arc<Inputs>> {
    store
        .memos()
        .inputs
        .get_or_try(store, (), now, || inputs(store, now))
        .await
}

pub async fn inputs(store: &Store, now: DateTime<Utc>) -> Result<Inputs> {
    let cat = catalog::load(store).await?;
    let mut cfg = load_config(store, now).await?;
    cfg.recency_reference = scoring::newest_created(&cat.models);
    let evals = crate::domain::evals::load(store).await?;
    let cfg = cfg.with_evals(&cat.models, &evals);
    Ok(Inputs {
        models: cat.models,
        catalog: cat.source,
        health: load_health(store).await?,
        cfg,
    })
}

/// Ollama's model list, asked only when a pick for `roles` would need the local fallback.
/// Returns the names and, when Ollama could not be asked, a warning.
pub async fn ollama_models_if_needed(
    env: &Env,
    inputs: &Inputs,
    roles: &[Role],
) -> (Vec<String>, Option<String>) {
    if !scoring::needs_local_fallback(&inputs.models, roles, &inputs.health, &inputs.cfg) {
        return (Vec::new(), None);
    }
    match ollama::list_models(&env.ollama_url, ollama::DEFAULT_TIMEOUT).await {
        Ok(names) => (names, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    }
}

/// The answer of `best-free`.
#[derive(Debug, Clone, Serialize)]
pub struct BestFree {
    pub role: Role,
    pub catalog: CatalogSource,
    pub pick: Pick,
}

/// The best free model for `role` right now (the fallback chain included).
pub async fn best_free(
    store: &Store,
    env: &Env,
    role: Role,
    now: DateTime<Utc>,
) -> Result<BestFree> {
    let inputs = inputs(store, now).await?;
    let (ollama_models, warning) = ollama_models_if_needed(env, &inputs, &[role]).await;
    let mut pick = scoring::best_free(
        &inputs.models,
        role,
        &inputs.health,
        &inputs.cfg,
        &ollama_models,
    );
    if let (Some(w), PickSource::LocalOllama { .. }) = (warning, &pick.source) {
        pick.warnings.push(w);
    }
    Ok(BestFree {
        role,
        catalog: inputs.catalog,
        pick,
    })
}

/// One role's score of one model, without the reasons (the roster).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleScore {
    pub total: u32,
    pub passes: bool,
    /// 1-based place among the passing free models for this role; `None` when it does not pass.
    pub rank: Option<usize>,
    pub sub: scoring::SubScores,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RosterEntry {
    pub model_id: String,
    pub name: String,
    pub context_length: u64,
    pub scores: BTreeMap<Role, RoleScore>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Roster {
    pub catalog: CatalogSource,
    pub roles: Vec<Role>,
    /// The best free model id per role (passing ones only; missing = a fallback applies).
    pub best: BTreeMap<Role, String>,
    /// Sorted by the first role's ranking when one role is asked for, else by id.
    pub models: Vec<RosterEntry>,
}

/// All free models with their score for `roles` (pure; see [`roster`]).
pub fn build_roster(inputs: &Inputs, roles: &[Role]) -> Roster {
    let mut entries: BTreeMap<&str, RosterEntry> = BTreeMap::new();
    let mut best = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    // An index by id: looking each ranked model up by a scan made a large catalog quadratic.
    let by_id: std::collections::HashMap<&str, &crate::domain::catalog::Model> =
        inputs.models.iter().map(|m| (m.id.as_str(), m)).collect();
    for (ri, role) in roles.iter().enumerate() {
        let ranked = scoring::rank(
            &inputs.models,
            *role,
            Pool::Free,
            &inputs.health,
            &inputs.cfg,
        );
        if let Some(top) = ranked.first().filter(|s| s.passes) {
            best.insert(*role, top.model_id.clone());
        }
        for (place, s) in ranked.into_iter().enumerate() {
            if ri == 0 {
                order.push(s.model_id.clone());
            }
            let Some(model) = by_id.get(s.model_id.as_str()).copied() else {
                continue;
            };
            let entry = entries
                .entry(model.id.as_str())
                .or_insert_with(|| RosterEntry {
                    model_id: model.id.clone(),
                    name: model.name.clone(),
                    context_length: model.context_length,
                    scores: BTreeMap::new(),
                });
            entry.scores.insert(
                *role,
                RoleScore {
                    total: s.total,
                    passes: s.passes,
                    rank: s.passes.then_some(place + 1),
                    sub: s.sub,
                },
            );
        }
    }
    let models = if roles.len() == 1 {
        order
            .iter()
            .filter_map(|id| entries.remove(id.as_str()))
            .collect()
    } else {
        entries.into_values().collect()
    };
    Roster {
        catalog: inputs.catalog.clone(),
        roles: roles.to_vec(),
        best,
        models,
    }
}

/// All free models with their score per role (one role, or all).
/// Kept between calls while the data and the second are unchanged (`domain::memo`).
pub async fn roster(store: &Store, role: Option<Role>, now: DateTime<Utc>) -> Result<Roster> {
    Ok(Roster::clone(&*roster_shared(store, role, now).await?))
}

/// [`roster`] without copying the kept result.
pub async fn roster_shared(
    store: &Store,
    role: Option<Role>,
    now: DateTime<Utc>,
) -> Result<std::sync::Arc<Roster>> {
    store
        .memos()
        .roster
        .get_or_try(store, role, now, || async {
            let inputs = inputs(store, now).await?;
            let roles: Vec<Role> = match role {
                Some(r) => vec![r],
                None => Role::ALL.to_vec(),
            };
            Ok(build_roster(&inputs, &roles))
        })
        .await
}

/// The full breakdown of `model_id` for `role`.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub catalog: CatalogSource,
    pub weights: Weights,
    pub requirements: Requirements,
    /// Where it stands among the passing models of its pool (free or paid); `None` if it fails.
    pub rank: Option<usize>,
    pub pool_size: usize,
    pub score: ModelScore,
    /// The published figures behind the capability sub-score (empty: it is an estimate).
    pub figures: Vec<FigureUse>,
    /// Set when this model is the role's default agent model because the defaults were spread.
    pub spread: Option<String>,
}

pub fn explain_in(inputs: &Inputs, model_id: &str, role: Role) -> Result<Explanation> {
    let Some(model) = inputs.models.iter().find(|m| m.id == model_id) else {
        let needle = model_id.to_ascii_lowercase();
        let tail = needle.rsplit('/').next().unwrap_or(&needle).to_string();
        let suggestions = inputs
            .models
            .iter()
            .filter(|m| !tail.is_empty() && m.id.to_ascii_lowercase().contains(&tail))
            .take(3)
            .map(|m| m.id.clone())
            .collect();
        return Err(ScoringError::UnknownModel {
            given: truncate(model_id),
            suggestions,
        });
    };
    let score = scoring::score(model, role, &inputs.health, &inputs.cfg);
    let pool = if score.is_free {
        Pool::Free
    } else {
        Pool::Paid
    };
    let ranked = scoring::rank(&inputs.models, role, pool, &inputs.health, &inputs.cfg);
    let passing = ranked.iter().filter(|s| s.passes).count();
    let rank = score
        .passes
        .then(|| {
            ranked
                .iter()
                .position(|s| s.model_id == model.id)
                .map(|p| p + 1)
        })
        .flatten();
    Ok(Explanation {
        catalog: inputs.catalog.clone(),
        weights: inputs.cfg.weights(role),
        requirements: inputs.cfg.requirements(role),
        rank,
        pool_size: passing,
        score,
        figures: inputs
            .cfg
            .capability
            .as_ref()
            .and_then(|t| t.role_capability(&model.id, role))
            .map(|c| c.figures)
            .unwrap_or_default(),
        spread: None,
    })
}

pub async fn explain(
    store: &Store,
    model_id: &str,
    role: Role,
    now: DateTime<Utc>,
) -> Result<Explanation> {
    let inputs = inputs(store, now).await?;
    let mut e = explain_in(&inputs, model_id, role)?;
    use crate::domain::spread;
    if spread::ASSIGN_ORDER.contains(&role) && spread::enabled(store).await? {
        let picks = spread::default_picks(
            &inputs.models,
            &inputs.health,
            &inputs.cfg,
            &spread::ASSIGN_ORDER,
            true,
        );
        e.spread = picks
            .get(&role)
            .filter(|p| p.model_id == e.score.model_id)
            .and_then(|p| p.note());
    }
    Ok(e)
}

/// The best pick of one role in a rescore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleBest {
    pub role: Role,
    pub model_id: String,
    pub provider: String,
    pub source: PickSource,
    pub total: Option<u32>,
    pub warnings: Vec<String>,
}

/// A role whose best pick differs from the previous rescore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub role: Role,
    /// `None` on the first rescore.
    pub before: Option<String>,
    pub after: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RescoreReport {
    pub scored_at: String,
    pub previous_scored_at: Option<String>,
    pub catalog: CatalogSource,
    pub models_scored: usize,
    pub rows_written: usize,
    pub agents_updated: usize,
    pub best: Vec<RoleBest>,
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, Default)]
struct LastBest {
    scored_at: String,
    best: BTreeMap<Role, String>,
}

/// Rescore the catalog in use (the stored one, else the embedded snapshot) at `now`.
pub async fn rescore(store: &Store, env: &Env, now: DateTime<Utc>) -> Result<RescoreReport> {
    let inputs = inputs(store, now).await?;
    let (ollama_models, warning) = ollama_models_if_needed(env, &inputs, &Role::ALL).await;
    let mut report = rescore_with(store, &inputs, &ollama_models, now).await?;
    if let Some(w) = warning {
        for b in &mut report.best {
            if matches!(b.source, PickSource::LocalOllama { .. }) {
                b.warnings.push(w.clone());
            }
        }
    }
    Ok(report)
}

/// Columns per row besides `scored_at`.
const COLUMNS: usize = 12;
const ROWS_PER_INSERT: usize = 64;

/// Scores `inputs.models` for every role and stores the run (one transaction).
pub async fn rescore_with(
    store: &Store,
    inputs: &Inputs,
    ollama_models: &[String],
    now: DateTime<Utc>,
) -> Result<RescoreReport> {
    let picks = scoring::best_free_all(&inputs.models, &inputs.health, &inputs.cfg, ollama_models);
    // (model, role) → total, for agents.
    let mut totals: BTreeMap<(&str, Role), u32> = BTreeMap::new();
    let mut values: Vec<Value> =
        Vec::with_capacity(inputs.models.len() * Role::ALL.len() * COLUMNS);
    for m in &inputs.models {
        for s in scoring::score_all_roles(m, &inputs.health, &inputs.cfg) {
            totals.insert((m.id.as_str(), s.role), s.total);
            let reasons = serde_json::to_string(&s.reasons).unwrap_or_else(|_| "[]".into());
            values.extend([
                Value::Text(s.model_id),
                Value::Text(s.role.as_str().into()),
                Value::Integer(s.total as i64),
                Value::Integer(s.sub.context as i64),
                Value::Integer(s.sub.capability as i64),
                Value::Integer(s.sub.tools as i64),
                Value::Integer(s.sub.recency as i64),
                Value::Integer(s.sub.reliability as i64),
                Value::Integer(s.sub.price as i64),
                Value::Integer(s.passes as i64),
                Value::Integer(s.is_free as i64),
                Value::Text(reasons),
            ]);
        }
    }
    let rows = values.len() / COLUMNS;
    let best: Vec<RoleBest> = picks
        .iter()
        .map(|(role, p)| RoleBest {
            role: *role,
            model_id: p.model_id.clone(),
            provider: p.provider.clone(),
            source: p.source.clone(),
            total: p.score.as_ref().map(|s| s.total),
            warnings: p.warnings.clone(),
        })
        .collect();
    let best_ids: BTreeMap<Role, String> =
        best.iter().map(|b| (b.role, b.model_id.clone())).collect();

    // One IMMEDIATE transaction on a connection of its own (Store::in_transaction), so a concurrent
    // caller sharing the store never runs inside it.
    let step = store
        .in_transaction(|tx| async move {
        // The previous run's picks (read inside the transaction, so two rescores cannot interleave).
        let mut r = tx
            .query("SELECT value FROM settings WHERE key = ?1", params![SETTING_LAST_BEST])
            .await?;
        let previous: Option<LastBest> = match r.next().await? {
            Some(row) => serde_json::from_str(&row.get::<String>(0)?).ok(),
            None => None,
        };
        drop(r);
        // One scored_at per run, strictly after the last run's (a run in the same second as the
        // previous one, or with a clock that went back, is stamped one second after it).
        let mut r = tx.query("SELECT MAX(scored_at) FROM model_scores", ()).await?;
        let last: Option<String> = match r.next().await? {
            Some(row) => row.get::<Option<String>>(0)?,
            None => None,
        };
        drop(r);
        let mut at = clock::from_db(&clock::to_db(now)).unwrap_or(now);
        if let Some(last) = last.as_deref().and_then(clock::from_db)
            && last >= at
        {
            at = last + chrono::Duration::seconds(1);
        }
        let scored_at = clock::to_db(at);
        let this_best_json = serde_json::to_string(&LastBest {
            scored_at: scored_at.clone(),
            best: best_ids.clone(),
        })
        .unwrap_or_default();
        let mut values = values.into_iter();
        let mut left = rows;
        while left > 0 {
            let n = left.min(ROWS_PER_INSERT);
            let mut sql = String::from(
                "INSERT INTO model_scores (model_id, role, total_score, context_score, capability_score, tools_score, recency_score, reliability_score, price_score, passes, is_free, reasons, scored_at) VALUES ",
            );
            for i in 0..n {
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str("(?,?,?,?,?,?,?,?,?,?,?,?,?)");
            }
            let mut chunk: Vec<Value> = Vec::with_capacity(n * (COLUMNS + 1));
            for _ in 0..n {
                chunk.extend(values.by_ref().take(COLUMNS));
                chunk.push(Value::Text(scored_at.clone()));
            }
            tx.execute(&sql, libsql::params_from_iter(chunk)).await?;
            left -= n;
        }
        // Agents whose model was scored get its total for their role.
        let mut r = tx.query("SELECT id, model, role FROM agents", ()).await?;
        let mut updates: Vec<(i64, u32)> = Vec::new();
        while let Some(row) = r.next().await? {
            let id: i64 = row.get(0)?;
            let model: String = row.get(1)?;
            let role: String = row.get(2)?;
            let role = role.parse::<Role>().unwrap_or(Role::Custom);
            if let Some(total) = totals.get(&(model.as_str(), role)) {
                updates.push((id, *total));
            }
        }
        drop(r);
        for (id, total) in &updates {
            tx.execute(
                "UPDATE agents SET model_score = ?1 WHERE id = ?2",
                params![*total as i64, *id],
            )
            .await?;
        }
        tx.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            params![SETTING_LAST_BEST, this_best_json.clone(), scored_at.clone()],
        )
        .await?;
        Ok::<_, libsql::Error>((previous, updates.len(), scored_at))
        })
        .await;
    let (previous, agents_updated, scored_at) = step?;
    let changes = best
        .iter()
        .filter_map(|b| {
            let before = previous.as_ref().and_then(|p| p.best.get(&b.role)).cloned();
            (before.as_deref() != Some(b.model_id.as_str())).then(|| Change {
                role: b.role,
                before,
                after: b.model_id.clone(),
            })
        })
        .collect();
    Ok(RescoreReport {
        scored_at,
        previous_scored_at: previous.map(|p| p.scored_at),
        catalog: inputs.catalog.clone(),
        models_scored: inputs.models.len(),
        rows_written: rows,
        agents_updated,
        best,
        changes,
    })
}

/// One stored `model_scores` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredScore {
    pub model_id: String,
    pub role: String,
    pub total: i64,
    pub context: i64,
    pub capability: i64,
    pub tools: i64,
    pub recency: i64,
    pub reliability: i64,
    pub price: i64,
    pub passes: bool,
    pub is_free: bool,
    pub reasons: Vec<String>,
    pub scored_at: String,
}

/// The rows of the latest rescore (or of `scored_at`), ordered by role, total desc, model id.
pub async fn stored_run(store: &Store, scored_at: Option<&str>) -> Result<Vec<StoredScore>> {
    let at = match scored_at {
        Some(s) => Some(s.to_string()),
        None => {
            let mut r = store
                .conn()
                .query("SELECT MAX(scored_at) FROM model_scores", ())
                .await?;
            match r.next().await? {
                Some(row) => row.get::<Option<String>>(0)?,
                None => None,
            }
        }
    };
    let Some(at) = at else {
        return Ok(Vec::new());
    };
    let mut rows = store
        .conn()
        .query(
            "SELECT model_id, role, total_score, context_score, capability_score, tools_score,
                    recency_score, reliability_score, price_score, passes, is_free, reasons, scored_at
             FROM model_scores WHERE scored_at = ?1
             ORDER BY role, total_score DESC, model_id",
            params![at],
        )
        .await?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        let reasons: String = row.get(11)?;
        out.push(StoredScore {
            model_id: row.get(0)?,
            role: row.get(1)?,
            total: row.get(2)?,
            context: row.get(3)?,
            capability: row.get(4)?,
            tools: row.get(5)?,
            recency: row.get(6)?,
            reliability: row.get(7)?,
            price: row.get(8)?,
            passes: row.get::<i64>(9)? != 0,
            is_free: row.get::<i64>(10)? != 0,
            reasons: serde_json::from_str(&reasons).unwrap_or_default(),
            scored_at: row.get(12)?,
        });
    }
    Ok(out)
}
