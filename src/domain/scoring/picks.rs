//! Picks: the best free or paid model per role, and the fallback chain when no free model qualifies
//! (`openrouter/free`, then a local Qwen through Ollama). It never reads Ollama itself; the caller
//! passes the model names.

use super::*;

pub(super) fn ranked_pick(m: &Model, role: Role, health: &Health, cfg: &ScoringConfig) -> Pick {
    Pick {
        model_id: m.id.clone(),
        provider: "openrouter".into(),
        source: PickSource::Ranked,
        score: Some(score(m, role, health, cfg)),
        warnings: Vec::new(),
    }
}

/// The fallback chain when no free model qualifies for `role`.
pub(super) fn fallback_pick(models: &[Model], role: Role, ollama_models: &[String]) -> Pick {
    if models.iter().any(|m| m.id == OPENROUTER_FREE) {
        return Pick {
            model_id: OPENROUTER_FREE.into(),
            provider: "openrouter".into(),
            source: PickSource::OpenRouterFree,
            score: None,
            warnings: vec![format!(
                "no free model in the catalog meets the {role} requirements; using OpenRouter's free router, which picks a model per request"
            )],
        };
    }
    let mut qwens: Vec<&String> = ollama_models
        .iter()
        .filter(|n| n.to_ascii_lowercase().contains("qwen"))
        .collect();
    // Largest first, then by name: the same list gives the same pick.
    qwens.sort_by(|a, b| {
        let size = |n: &str| parse_params(n).map_or(0, |p| p.effective_millions());
        size(b).cmp(&size(a)).then(a.cmp(b))
    });
    let reason = format!(
        "no free model in the catalog meets the {role} requirements and the catalog has no openrouter/free router"
    );
    match qwens.first() {
        Some(name) => Pick {
            model_id: (*name).clone(),
            provider: "ollama".into(),
            source: PickSource::LocalOllama { pulled: true },
            score: None,
            warnings: vec![format!(
                "{reason}; using the local Qwen model {name} through Ollama"
            )],
        },
        None => Pick {
            model_id: DEFAULT_LOCAL_QWEN.into(),
            provider: "ollama".into(),
            source: PickSource::LocalOllama { pulled: false },
            score: None,
            warnings: vec![format!(
                "{reason}; falling back to local {DEFAULT_LOCAL_QWEN} through Ollama, which is not pulled: run `ollama pull {DEFAULT_LOCAL_QWEN}` (and start Ollama), or fetch a newer catalog with `nxr catalog refresh`"
            )],
        },
    }
}

/// Best free model for `role`; `ollama_models` = names from Ollama's /api/tags (empty when absent).
pub fn best_free(
    models: &[Model],
    role: Role,
    health: &Health,
    cfg: &ScoringConfig,
    ollama_models: &[String],
) -> Pick {
    match best_indices(models, &[role], Pool::Free, health, cfg)[0] {
        Some(i) => ranked_pick(&models[i], role, health, cfg),
        None => fallback_pick(models, role, ollama_models),
    }
}

/// Best free model for every role in `Role::ALL` order, scanning the catalog once.
pub fn best_free_all(
    models: &[Model],
    health: &Health,
    cfg: &ScoringConfig,
    ollama_models: &[String],
) -> Vec<(Role, Pick)> {
    let idx = best_indices(models, &Role::ALL, Pool::Free, health, cfg);
    Role::ALL
        .iter()
        .zip(idx)
        .map(|(role, i)| {
            let pick = match i {
                Some(i) => ranked_pick(&models[i], *role, health, cfg),
                None => fallback_pick(models, *role, ollama_models),
            };
            (*role, pick)
        })
        .collect()
}

/// True when a free-pick computation would need Ollama's model list (no free model qualifies for
/// some role and the catalog has no `openrouter/free`).
pub fn needs_local_fallback(
    models: &[Model],
    roles: &[Role],
    health: &Health,
    cfg: &ScoringConfig,
) -> bool {
    !models.iter().any(|m| m.id == OPENROUTER_FREE)
        && best_indices(models, roles, Pool::Free, health, cfg)
            .iter()
            .any(Option::is_none)
}

/// Best paid model for `role`, price weighed in (the upgrade flow). `None` when no paid model passes.
pub fn best_paid(
    models: &[Model],
    role: Role,
    health: &Health,
    cfg: &ScoringConfig,
) -> Option<Pick> {
    best_indices(models, &[role], Pool::Paid, health, cfg)[0]
        .map(|i| ranked_pick(&models[i], role, health, cfg))
}

/// Best paid model for each of `roles` (in that order), scanning the catalog once. `None` for a role
/// no paid model passes.
pub fn best_paid_all(
    models: &[Model],
    roles: &[Role],
    health: &Health,
    cfg: &ScoringConfig,
) -> Vec<Option<Pick>> {
    best_indices(models, roles, Pool::Paid, health, cfg)
        .into_iter()
        .zip(roles)
        .map(|(i, role)| i.map(|i| ranked_pick(&models[i], *role, health, cfg)))
        .collect()
}

/// Adds to each pick a warning naming the model that would have won had models with a caveat (logs
/// prompts, stealth, announced removal) been allowed, and why it was passed over. Nothing is added
/// when such models are allowed or none would have won.
pub fn note_caveat_skips(
    models: &[Model],
    health: &Health,
    cfg: &ScoringConfig,
    picks: &mut [(Role, Pick)],
) {
    if cfg.allow_stealth || picks.is_empty() {
        return;
    }
    let open = ScoringConfig {
        allow_stealth: true,
        ..cfg.clone()
    };
    let roles: Vec<Role> = picks.iter().map(|(r, _)| *r).collect();
    let best = best_indices(models, &roles, Pool::Free, health, &open);
    for ((role, pick), i) in picks.iter_mut().zip(best) {
        let Some(m) = i.map(|i| &models[i]) else {
            continue;
        };
        if m.id == pick.model_id || !crate::domain::scoring::caveats::blocks_automatic_pick(m) {
            continue;
        }
        let caveats = crate::domain::scoring::caveats::caveats(m, cfg.now);
        pick.warnings.push(format!(
            "{} would rank first for {role} but is passed over: {} (stealth and preview models are never picked automatically unless allowed with the allow-stealth setting)",
            m.id,
            crate::domain::scoring::caveats::labels(&caveats)
        ));
    }
}
