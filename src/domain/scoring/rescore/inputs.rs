//! What scoring reads from the stored state: the scoring settings (weights, the `custom` requirements,
//! capability kinds) checked with errors that name the bad key, observed health from usage, the catalog
//! in use and Ollama's model list only when a fallback needs it. Nothing here writes.

use super::*;

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
    if let Some(v) = store.setting(SETTING_ALLOW_STEALTH).await? {
        cfg.allow_stealth = match v.trim() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => {
                return Err(ScoringError::BadSetting {
                    key: SETTING_ALLOW_STEALTH.into(),
                    value: truncate(&v),
                    problem: "not true or false".into(),
                    example: "false".into(),
                });
            }
        };
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
    let limited = crate::domain::catalog::ratelimit::STATUSES;
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
    health.uptime_permille = crate::domain::scoring::health::load_uptime(store).await?;
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

/// [`inputs`], kept between calls while the data and the second are unchanged (`domain::store::memo`).
pub async fn inputs_shared(store: &Store, now: DateTime<Utc>) -> Result<std::sync::Arc<Inputs>> {
    store
        .memos()
        .of::<(), Inputs>()
        .get_or_try(store, (), now, || inputs(store, now))
        .await
}

pub async fn inputs(store: &Store, now: DateTime<Utc>) -> Result<Inputs> {
    let cat = catalog::load(store).await?;
    let mut cfg = load_config(store, now).await?;
    cfg.recency_reference = scoring::newest_created(&cat.models);
    let evals = crate::domain::scoring::evals::load(store).await?;
    let cfg = cfg.with_evals(&cat.models, &evals);
    Ok(Inputs {
        models: cat.models,
        catalog: cat.source,
        health: load_health(store).await?,
        cfg,
    })
}

/// [`inputs`], or — when the stored state cannot be read — the catalog built into the binary with
/// the default scoring settings and no health, together with the reason, so a surface can still
/// show and score models and say why it shows the embedded catalog.
pub async fn inputs_or_embedded(store: &Store, now: DateTime<Utc>) -> (Inputs, Option<String>) {
    match inputs(store, now).await {
        Ok(i) => (i, None),
        Err(e) => {
            let c = catalog::Catalog::embedded();
            let cfg = ScoringConfig::for_catalog(&c.models, now);
            (
                Inputs {
                    models: c.models,
                    catalog: c.source,
                    health: Health::default(),
                    cfg,
                },
                Some(format!("the stored catalog could not be read: {e}")),
            )
        }
    }
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
