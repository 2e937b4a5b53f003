//! Step 4, the agents: the three defaults (PM, Engineer, Hermes) on the best free model per role,
//! created through `domain::agents`; the local slots go to Ollama when it answers. An agent that
//! already exists is kept as it is, never recreated.

use super::*;

/// Why an agent is on a fallback (the router or a local model) rather than a ranked free model.
pub fn fallback_reason(a: &Agent) -> Option<String> {
    if a.model == crate::domain::scoring::OPENROUTER_FREE {
        Some(format!(
            "fallback: no free model in the catalog meets the {} requirements, so OpenRouter's free router picks one per request",
            a.role
        ))
    } else if a.provider == "ollama" {
        Some(format!(
            "fallback: no free model in the catalog meets the {} requirements and it has no openrouter/free router, so a local model through Ollama",
            a.role
        ))
    } else {
        None
    }
}

pub(super) fn default_view(a: &Agent, created: bool) -> DefaultAgent {
    DefaultAgent {
        fallback: fallback_reason(a),
        name: a.name.clone(),
        role: a.role,
        model: a.model.clone(),
        skills: a.skillset.clone(),
        hermes_profile: a.hermes_profile.clone(),
        created,
    }
}

/// The existing default agent for `(name, role)`: a default agent of that role, else one of that name.
pub(super) fn find_default<'a>(agents: &'a [Agent], name: &str, role: Role) -> Option<&'a Agent> {
    agents
        .iter()
        .find(|a| a.is_default && a.role == role)
        .or_else(|| agents.iter().find(|a| a.name.eq_ignore_ascii_case(name)))
}

/// Creates the default agents that do not exist yet (never one twice) and configures their Hermes
/// profiles for the local tools found.
pub async fn ensure_default_agents(
    env: &Env,
    store: &Store,
    found: &Detections,
) -> Result<AgentsStep> {
    let existing = check_configs_before_creating(env, store).await?;
    let (out, mut notes) = create_missing_defaults(env, store, &existing).await?;
    let base_url = ollama::openai_base_url(&found.ollama.url);
    let local = found
        .ollama
        .local_model
        .clone()
        .filter(|_| found.ollama.available);
    let stt_local = found.faster_whisper.available;
    if found.ollama.available && local.is_none() {
        notes.push(found.ollama.detail.clone());
    }
    store_first_scores(env, store, &out, &mut notes).await;
    let local_slots =
        route_to_local_tools(env, &out, local.as_deref(), &base_url, stt_local).await?;
    Ok(AgentsStep {
        agents: out,
        local_slots,
        local_base_url: local.as_ref().map(|_| base_url),
        local_model: local,
        stt_local,
        notes,
    })
}

/// Checks that every config.yaml this step may touch parses, and that the root profile (the Hermes
/// agent's) takes the edits that put it on a model, before anything is created; returns the agents
/// that exist now.
async fn check_configs_before_creating(env: &Env, store: &Store) -> Result<Vec<Agent>> {
    // Every config.yaml this step may touch must parse before anything is created, so a broken file
    // stops the step with nothing half done.
    let root = hermes::profile_named(&env.hermes_home, hermes::ROOT_PROFILE);
    hermes::get_config(&root.config_path(), "model")?;
    // The root profile is the Hermes agent's: the edits that put it on a model must be possible
    // (no list or alias where nxr writes) before any agent is created.
    let probe = agents::ModelChoice {
        id: "nxr/probe:free".into(),
        provider: "openrouter".into(),
        is_free: true,
        score: None,
        notes: Vec::new(),
        fallbacks: None,
    };
    hermes::check_config_edits(&root.config_path(), &agents::model_edits(env, &probe))?;
    crate::domain::base::fsutil::check_writable(&root.config_path())
        .map_err(|e| hermes::HermesError::io("write", &root.config_path(), e))?;
    let existing = agents::list(store, env).await?;
    for (name, role) in DEFAULT_AGENTS {
        if let Some(a) = find_default(&existing, name, role) {
            hermes::get_config(&a.profile().config_path(), "model")?;
        }
    }
    Ok(existing)
}

/// Creates each default agent missing from `existing` (an existing one is reported as kept), on
/// its spread model where the defaults are spread; returns the agents and the notes for the user
/// (the spread notes first).
async fn create_missing_defaults(
    env: &Env,
    store: &Store,
    existing: &[Agent],
) -> Result<(Vec<DefaultAgent>, Vec<String>)> {
    // The defaults' models, spread over near-equal models unless `spread_default_agents` is off.
    // A role that was not spread is created exactly as `agents create` would (its best free model).
    let picks = crate::domain::scoring::spread::stored_default_picks(store, store.now())
        .await
        .unwrap_or_default();
    let mut spread_notes = Vec::new();
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for (name, role) in DEFAULT_AGENTS {
        if let Some(a) = find_default(existing, name, role) {
            out.push(default_view(a, false));
            continue;
        }
        let spread = picks.get(&role).filter(|p| p.spread_from.is_some());
        if let Some(note) = spread.and_then(|p| p.note()) {
            spread_notes.push(note);
        }
        let new = NewAgent {
            name: name.to_string(),
            role,
            category: None,
            model: spread.map(|p| p.model_id.clone()),
            skills: None,
            is_default: true,
            host: None,
        };
        match agents::create_with(store, env, new, agents::CreateOptions::default()).await {
            Ok((a, said)) => {
                if spread.is_some() {
                    mark_auto_assigned(store, a.id).await?;
                }
                out.push(default_view(&a, true));
                notes.extend(said);
            }
            // Created meanwhile by the other surface: report it, do not create it twice.
            Err(AgentError::Duplicate(_)) => {
                out.push(wait_for_other_creator(env, store, name, role).await?);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok((out, spread_notes.into_iter().chain(notes).collect()))
}

/// Marks an agent's model as chosen by nxr: the spread model is nxr's choice, as the best one is,
/// so the agent stays auto-assigned.
async fn mark_auto_assigned(store: &Store, id: i64) -> Result<()> {
    store
        .conn()
        .execute(
            "UPDATE agents SET model_auto_assigned = 1 WHERE id = ?1",
            params![id],
        )
        .await?;
    Ok(())
}

/// The default agent `(name, role)` that another run (a second `nxr init`, the web wizard) is
/// creating: its profile is on disk but its row may not be committed yet. Waits for that row (a
/// bounded wait on the condition) and reports the agent as existing; still a duplicate when the row
/// never shows.
async fn wait_for_other_creator(
    env: &Env,
    store: &Store,
    name: &str,
    role: Role,
) -> Result<DefaultAgent> {
    for _ in 0..100 {
        let now = agents::list(store, env).await?;
        if let Some(a) = find_default(&now, name, role) {
            return Ok(default_view(a, false));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Err(AgentError::Duplicate(name.to_string()).into())
}

/// Stores the scores the agents were picked by as a rescore run (when an agent was created), so the
/// first `nxr agents rescore` compares with them (and reports no change when nothing changed); a
/// failure is a note.
async fn store_first_scores(
    env: &Env,
    store: &Store,
    agents: &[DefaultAgent],
    notes: &mut Vec<String>,
) {
    if agents.iter().any(|a| a.created)
        && let Err(e) = crate::domain::scoring::rescore::rescore(store, env, store.now()).await
    {
        notes.push(format!(
            "the model scores were not stored ({e}); `nxr agents rescore` stores them"
        ));
    }
}

/// Points each agent's Hermes profile at the local tools found: the local slots at the Ollama
/// model, speech-to-text at faster-whisper. Returns the slots given to the local model, per profile.
async fn route_to_local_tools(
    env: &Env,
    agents: &[DefaultAgent],
    local: Option<&str>,
    base_url: &str,
    stt_local: bool,
) -> Result<BTreeMap<String, Vec<String>>> {
    let mut local_slots = BTreeMap::new();
    // The same lock as every agent change, so a model change from the TUI or CLI cannot land between
    // this read and write of a profile's config.yaml.
    let _lock = agents::agents_lock(env).await;
    for agent in agents {
        let profile = hermes::profile_named(&env.hermes_home, &agent.hermes_profile);
        let mut edits: Vec<(String, ConfigValue)> = Vec::new();
        if let Some(model) = local {
            edits.extend(local_slot_edits(model, base_url));
            local_slots.insert(
                agent.hermes_profile.clone(),
                LOCAL_SLOTS.iter().map(|s| s.to_string()).collect(),
            );
        }
        if stt_local {
            edits.push(("stt.provider".into(), ConfigValue::Str("local".into())));
        }
        if !edits.is_empty() {
            hermes::set_config(&profile.config_path(), &edits)?;
        }
    }
    Ok(local_slots)
}

/// The config.yaml edits that send every local slot to `model` on the Ollama endpoint `base_url`.
fn local_slot_edits(model: &str, base_url: &str) -> Vec<(String, ConfigValue)> {
    let mut edits = Vec::new();
    for slot in LOCAL_SLOTS {
        let base = format!("auxiliary.{slot}");
        edits.push((
            format!("{base}.provider"),
            ConfigValue::Str("custom".into()),
        ));
        edits.push((format!("{base}.model"), ConfigValue::Str(model.to_string())));
        edits.push((
            format!("{base}.base_url"),
            ConfigValue::Str(base_url.to_string()),
        ));
        // Ollama ignores the key; Hermes wants one for a custom endpoint.
        edits.push((format!("{base}.api_key"), ConfigValue::Str("ollama".into())));
    }
    edits
}

/// Step 4: the default agents (and local routing), recorded in the row.
pub async fn step_agents(env: &Env, store: &Store, found: &Detections) -> Result<AgentsStep> {
    let rec = in_progress(store, "agents", "catalog").await?;
    let step = ensure_default_agents(env, store, found).await?;
    advance_agents(store, rec.id, &step).await?;
    Ok(step)
}

pub(super) async fn advance_agents(store: &Store, id: i64, step: &AgentsStep) -> Result<bool> {
    let names: Vec<&str> = step.agents.iter().map(|a| a.name.as_str()).collect();
    let models: BTreeMap<&str, &str> = step
        .agents
        .iter()
        .map(|a| (a.role.as_str(), a.model.as_str()))
        .collect();
    advance(
        store,
        id,
        "agents",
        "agents_created = ?1, initial_free_models = ?2",
        vec![to_json(&names).into(), to_json(&models).into()],
    )
    .await
}
