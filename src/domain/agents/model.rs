//! Model changes: choosing a catalog model for an agent (checked against the catalog and the role),
//! the best free choice, the config.yaml edits a model needs, and moving an existing agent to another
//! model with its history row. The profile and the row change together or not at all.

use super::*;

/// A model nxr is about to put an agent on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelChoice {
    pub id: String,
    /// `openrouter` or `ollama`.
    pub provider: String,
    pub is_free: bool,
    pub score: Option<i64>,
    /// What the user should know about the choice (e.g. a better-ranked model passed over for a
    /// caveat).
    pub notes: Vec<String>,
    /// The fallback chain to write with the model; `None` leaves the profile's chain as it is.
    pub fallbacks: Option<Vec<crate::domain::agents::fallbacks::Member>>,
}

/// Resolves a user-given model id against the catalog: unknown ids get an error with close ids.
pub fn choose_model(catalog: &Catalog, model: &str) -> Result<ModelChoice, AgentError> {
    let model = model.trim();
    validate_model_syntax(model)?;
    match catalog.get(model) {
        Some(m) => Ok(ModelChoice {
            id: m.id.clone(),
            provider: "openrouter".into(),
            is_free: m.is_free(),
            score: None,
            notes: Vec::new(),
            fallbacks: None,
        }),
        None => {
            let needle = model.to_ascii_lowercase();
            let tail = needle.rsplit('/').next().unwrap_or(&needle).to_string();
            let stem = tail.split(':').next().unwrap_or(&tail).to_string();
            let mut close: Vec<&str> = catalog
                .models
                .iter()
                .map(|m| m.id.as_str())
                .filter(|id| {
                    let id = id.to_ascii_lowercase();
                    id.contains(&needle) || (!stem.is_empty() && id.contains(&stem))
                })
                .take(5)
                .collect();
            if close.is_empty() {
                let author = needle.split('/').next().unwrap_or("");
                close = catalog
                    .models
                    .iter()
                    .map(|m| m.id.as_str())
                    .filter(|id| !author.is_empty() && id.starts_with(&format!("{author}/")))
                    .take(5)
                    .collect();
            }
            Err(AgentError::NotInCatalog {
                model: model.to_string(),
                close: close.into_iter().map(str::to_string).collect(),
            })
        }
    }
}

/// The best free model for `role`, exactly as `nxr models best-free` picks it: the stored catalog, the
/// scoring settings and observed health, and the fallback chain (`openrouter/free`, then a local Qwen
/// through Ollama, asked only when needed).
pub async fn best_free_choice(
    store: &Store,
    env: &Env,
    catalog: &Catalog,
    role: Role,
    allow_stealth: bool,
) -> Result<ModelChoice, AgentError> {
    let best = crate::domain::scoring::rescore::best_free_allowing(
        store,
        env,
        role,
        store.now(),
        allow_stealth,
    )
    .await
    .map_err(|e| AgentError::Other(format!("cannot pick a free model for the {role} role: {e}")))?;
    let pick = best.pick;
    if pick.source == (crate::domain::scoring::PickSource::LocalOllama { pulled: false }) {
        // The chain's last link is a local model, and Ollama did not answer with one: an agent put
        // there could not run.
        let why = pick
            .warnings
            .iter()
            .skip(1)
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("; ");
        return Err(AgentError::NoReachableModel {
            role,
            ollama_url: env.ollama_url.clone(),
            why,
            local_model: crate::domain::scoring::DEFAULT_LOCAL_QWEN.to_string(),
        });
    }
    let is_free = pick.provider == "ollama"
        || catalog
            .get(&pick.model_id)
            .is_none_or(|m| m.is_free() || m.is_router());
    let notes = if pick.source == crate::domain::scoring::PickSource::Ranked {
        pick.warnings.clone()
    } else {
        Vec::new()
    };
    Ok(ModelChoice {
        notes,
        fallbacks: None,
        score: pick.score.as_ref().map(|s| i64::from(s.total)),
        id: pick.model_id,
        provider: pick.provider,
        is_free,
    })
}

/// The config.yaml edits that put a profile on `choice`.
pub fn model_edits(env: &Env, choice: &ModelChoice) -> Vec<(String, ConfigValue)> {
    let mut edits = vec![(
        "model.default".to_string(),
        ConfigValue::Str(choice.id.clone()),
    )];
    if choice.provider == "ollama" {
        edits.push(("model.provider".into(), ConfigValue::Str("custom".into())));
        edits.push((
            "model.base_url".into(),
            ConfigValue::Str(format!("{}/v1", env.ollama_url.trim_end_matches('/'))),
        ));
    } else {
        edits.push((
            "model.provider".into(),
            ConfigValue::Str(choice.provider.clone()),
        ));
        edits.push(("model.base_url".into(), ConfigValue::Remove));
    }
    if let Some(chain) = &choice.fallbacks {
        edits.push((
            crate::domain::agents::fallbacks::CONFIG_KEY.into(),
            if chain.is_empty() {
                ConfigValue::Remove
            } else {
                ConfigValue::Entries(crate::domain::agents::fallbacks::entries(env, chain))
            },
        ));
    }
    edits.push((
        "auxiliary.free_only".into(),
        if choice.is_free {
            ConfigValue::Bool(true)
        } else {
            ConfigValue::Remove
        },
    ));
    edits
}

/// Moves an agent to a catalog model (chosen by the user): config.yaml and the database change together,
/// and `agent_model_history` records the change with `reason`.
pub async fn set_model(
    store: &Store,
    env: &Env,
    name_or_id: &str,
    model: &str,
    reason: &str,
) -> Result<Agent, AgentError> {
    let catalog = crate::domain::catalog::load(store).await?;
    let choice = choose_model(&catalog, model)?;
    set_model_choice(store, env, name_or_id, &choice, reason, false).await
}

/// Moves an agent to `choice` (which may be a local Ollama model from the scorer's fallback).
/// `auto_assigned` records whether nxr (true) or the user (false) picked it.
pub async fn set_model_choice(
    store: &Store,
    env: &Env,
    name_or_id: &str,
    choice: &ModelChoice,
    reason: &str,
    auto_assigned: bool,
) -> Result<Agent, AgentError> {
    let _lock = agents_lock(env).await;
    switch_journal::recover_locked(store, env).await?;
    validate_model_syntax(&choice.id)?;
    let agent = resolve(store, env, name_or_id).await?;
    if !agent.is_here(env) {
        // Another host keeps this agent's profile: the database says what it should be, and that
        // host's reconcile writes its config.yaml.
        record_switch(store, &agent, choice, reason, auto_assigned).await?;
        return get(store, env, agent.id).await;
    }
    let profile = agent.usable_profile()?;
    let mut choice = choice.clone();
    if choice.fallbacks.is_none()
        && !crate::domain::agents::fallbacks::edited_by_hand(store, &agent, &profile.config_path())
            .await
    {
        choice.fallbacks =
            crate::domain::agents::fallbacks::chain_for(store, agent.role, &choice.id)
                .await
                .ok();
    }
    let choice = &choice;
    if let Some(chain) = &choice.fallbacks {
        let previous = hermes::fallback_models(&profile.config_path()).unwrap_or_default();
        crate::domain::agents::fallbacks::remember(store, agent.id, &previous, chain).await;
    }
    // The journal row goes first: a crash after the file write is undone by the next nxr.
    switch_journal::begin(store, env, agent.id, &profile.config_path(), &choice.id).await?;
    let mut disk = DiskTxn::default();
    if let Err(e) = disk
        .create_dir_all(&profile.dir)
        .and_then(|_| disk.set_config(&profile.config_path(), &model_edits(env, choice)))
    {
        disk.rollback();
        switch_journal::abandon(store, agent.id).await;
        return Err(e.into());
    }
    let result = record_switch(store, &agent, choice, reason, auto_assigned).await;
    match result {
        Ok(()) => {
            disk.commit();
            get(store, env, agent.id).await
        }
        Err(e) => {
            disk.rollback();
            switch_journal::abandon(store, agent.id).await;
            Err(e.into())
        }
    }
}

/// The database half of a model switch, in one transaction: the agent's row, its history, and the
/// end of its journal row.
async fn record_switch(
    store: &Store,
    agent: &Agent,
    choice: &ModelChoice,
    reason: &str,
    auto_assigned: bool,
) -> Result<(), libsql::Error> {
    let now = crate::domain::base::clock::to_db(store.now());
    let (agent_id, from_model) = (agent.id, agent.model.as_str());
    let from_auto = i64::from(agent.model_auto_assigned);
    store
        .in_transaction(|conn| async move {
            conn.execute(
                "UPDATE agents SET model = ?1, provider = ?2, model_score = ?3, model_auto_assigned = ?4, \
                 updated_at = ?5 WHERE id = ?6",
                params![
                    choice.id.as_str(),
                    choice.provider.as_str(),
                    choice.score,
                    i64::from(auto_assigned),
                    now.as_str(),
                    agent_id
                ],
            )
            .await?;
            conn.execute(
                "INSERT INTO agent_model_history (agent_id, from_model, to_model, reason, changed_at, \
                 from_auto_assigned, to_auto_assigned) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    agent_id,
                    from_model,
                    choice.id.as_str(),
                    reason,
                    now.as_str(),
                    from_auto,
                    i64::from(auto_assigned)
                ],
            )
            .await?;
            switch_journal::finish_in(&conn, agent_id).await
        })
        .await
}
