//! Read-only answers over the inputs: the best free pick, the roster of every role and the explanation
//! of one model's score. The CLI, the web API and the TUI show these and compute none of their own.

use super::*;

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
    best_free_allowing(store, env, role, now, false).await
}

/// [`best_free`], also ranking models with a caveat when `allow_stealth` (or the setting) says so;
/// a model passed over for a caveat is named in the pick's warnings.
pub async fn best_free_allowing(
    store: &Store,
    env: &Env,
    role: Role,
    now: DateTime<Utc>,
    allow_stealth: bool,
) -> Result<BestFree> {
    let mut inputs = inputs(store, now).await?;
    inputs.cfg.allow_stealth |= allow_stealth;
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
    let mut one = [(role, pick)];
    scoring::note_caveat_skips(&inputs.models, &inputs.health, &inputs.cfg, &mut one);
    let [(_, pick)] = one;
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

/// All free models with their score per role (one role, or all). Kept between calls while the
/// data and the second are unchanged (`domain::store::memo`).
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
        .of::<Option<Role>, Roster>()
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
    use crate::domain::scoring::spread;
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
