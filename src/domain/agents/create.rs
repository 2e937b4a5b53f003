//! Creating an agent: validate the name, model and skills, build the Hermes profile in a staging
//! directory, rename it into place, then insert the row; a failed insert removes the new profile.
//! Agent changes are serialised by an advisory lock on `$NXR_HOME/agents.lock` (`agents_lock`).

use super::*;

/// How `create_with` treats a model the user chose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CreateOptions {
    /// Accept a model that fails the role's hard requirements or is a router.
    pub force: bool,
    /// Let the automatic pick land on a model with a caveat (logs prompts, stealth, announced
    /// removal), as the `allow_stealth_models` setting does.
    pub allow_stealth: bool,
}

/// Creates an agent: validates everything, writes its Hermes profile (config.yaml model, SOUL.md persona,
/// skills), then the database row. On any error nothing is left behind. A chosen model that fails the
/// role's hard requirements is refused (see `create_with` to override).
pub async fn create(store: &Store, env: &Env, new: NewAgent) -> Result<Agent, AgentError> {
    create_with(store, env, new, CreateOptions::default())
        .await
        .map(|(agent, _)| agent)
}

/// A user-chosen model checked against the role: the model's score for the role, or
/// [`AgentError::ModelFailsRole`] with the hard requirements it fails (unless `force`).
pub async fn checked_choice(
    store: &Store,
    catalog: &Catalog,
    role: Role,
    model: &str,
    force: bool,
) -> Result<ModelChoice, AgentError> {
    let mut choice = choose_model(catalog, model)?;
    let inputs = crate::domain::scoring::rescore::inputs(store, store.now())
        .await
        .map_err(|e| AgentError::Other(format!("cannot score {:?}: {e}", choice.id)))?;
    let Some(m) = inputs.models.iter().find(|m| m.id == choice.id) else {
        return Ok(choice);
    };
    let scored = crate::domain::scoring::score(m, role, &inputs.health, &inputs.cfg);
    if !scored.passes && !force {
        return Err(AgentError::ModelFailsRole {
            model: choice.id,
            role,
            exclusions: scored.exclusions,
        });
    }
    choice.score = Some(i64::from(scored.total));
    Ok(choice)
}

/// A warning for a paid OpenRouter model when `$HERMES_HOME/.env` has no OpenRouter key.
pub(super) fn paid_without_key_warning(env: &Env, choice: &ModelChoice) -> Option<String> {
    if choice.is_free || choice.provider != "openrouter" {
        return None;
    }
    match crate::domain::store::secrets::openrouter_key(env) {
        Ok(Some(_)) => None,
        _ => Some(format!(
            "{} is a paid model and no OpenRouter key is set ({} has no OPENROUTER_API_KEY), so the agent's requests will fail until you add one: `nxr config set openrouter-key sk-or-…`",
            choice.id,
            crate::domain::store::secrets::env_file(env).display()
        )),
    }
}

/// Serialises every change to agents (their Hermes profiles on disk and their rows) across nxr
/// processes and threads: two `nxr init`s, the TUI and `nxr serve` may create or edit agents at the
/// same moment, and the root profile is edited in place. An advisory lock on `$NXR_HOME/agents.lock`,
/// released when the returned file is dropped. When the lock cannot be taken (NXR_HOME not writable,
/// a filesystem without locks) the change goes ahead unserialised, as before, and the log says so.
/// Not re-entrant: never call an agent change while holding it.
pub async fn agents_lock(env: &Env) -> Option<std::fs::File> {
    let path = env.nxr_home.join("agents.lock");
    let taken = tokio::task::spawn_blocking(move || {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok::<_, std::io::Error>(file)
    })
    .await;
    if let Ok(Ok(_)) = &taken {
        // With the lock held no other change is in progress: staging dirs found now are left over
        // from one that was interrupted.
        let home = env.hermes_home.clone();
        let _ = tokio::task::spawn_blocking(move || {
            crate::domain::agents::leftovers::remove_staging_dirs(&home)
        })
        .await;
    }
    match taken {
        Ok(Ok(file)) => Some(file),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "cannot take the agents lock; going ahead without it");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot take the agents lock; going ahead without it");
            None
        }
    }
}

/// `create` with options; also returns warnings for the user (e.g. a paid model without an OpenRouter key).
pub async fn create_with(
    store: &Store,
    env: &Env,
    new: NewAgent,
    opts: CreateOptions,
) -> Result<(Agent, Vec<String>), AgentError> {
    let lock = agents_lock(env).await;
    // 1. Validate everything before touching anything.
    let (name, profile) = check_name_free(store, env, &new).await?;
    let here = crate::domain::base::host::this_host(env);
    let host = match new.host.as_deref() {
        Some(h) => crate::domain::base::host::validate(h)
            .map_err(|e| AgentError::InvalidName(e.to_string()))?,
        None => here.clone(),
    };
    if host != here {
        if env.db_url.is_none() {
            return Err(crate::domain::agents::reconcile::needs_shared_database(
                &host,
            ));
        }
        return create_elsewhere(store, env, &new, opts, &name, &host).await;
    }
    let mut notes = Vec::new();
    let adopt = adopt_leftover(&profile, new.role, &name, lock.is_some(), &mut notes)?;
    let skillset = match &new.skills {
        Some(list) => skills::validate(list)?,
        None => skills::default_skills(new.role, new.category.as_deref())?,
    };
    let (choice, auto) = pick_model(store, env, &new, opts).await?;
    let mut user_model = check_root_profile(&profile, &choice, &skillset)?;

    // 2. Disk.
    let mut disk = DiskTxn::default();
    if let Some(user) = &mut user_model {
        notes.push(back_up_user_config(
            &mut disk,
            &profile,
            &name,
            &choice,
            user,
            store.now(),
        )?);
    }
    let written = write_profile(
        &mut disk, env, &profile, new.role, &name, &choice, &skillset, adopt,
    );
    if let Err(e) = written {
        disk.rollback();
        return Err(e);
    }

    // 3. Database, in one transaction; undo the disk if it fails.
    match insert_row(
        store,
        &name,
        new.role,
        &choice,
        auto,
        &skillset,
        new.is_default,
        user_model.as_ref(),
        &host,
    )
    .await
    {
        Ok(id) => {
            disk.commit();
            if let Some(chain) = &choice.fallbacks {
                crate::domain::agents::fallbacks::remember(store, id, &[], chain).await;
            }
            notes.extend(choice.notes.iter().cloned());
            notes.extend(paid_without_key_warning(env, &choice));
            Ok((get(store, env, id).await?, notes))
        }
        Err(e) => {
            disk.rollback();
            Err(e)
        }
    }
}

/// `create_with` for an agent that runs on another host: everything is checked as for one made
/// here, and only the row is written; that host's reconcile makes the profile.
async fn create_elsewhere(
    store: &Store,
    env: &Env,
    new: &NewAgent,
    opts: CreateOptions,
    name: &str,
    host: &str,
) -> Result<(Agent, Vec<String>), AgentError> {
    let skillset = match &new.skills {
        Some(list) => skills::validate(list)?,
        None => skills::default_skills(new.role, new.category.as_deref())?,
    };
    let (choice, auto) = pick_model(store, env, new, opts).await?;
    let id = insert_row(
        store,
        name,
        new.role,
        &choice,
        auto,
        &skillset,
        new.is_default,
        None,
        host,
    )
    .await?;
    let mut notes = vec![crate::domain::agents::reconcile::elsewhere_note(store, host).await];
    notes.extend(choice.notes.iter().cloned());
    Ok((get(store, env, id).await?, notes))
}

/// The new agent's validated name and its Hermes profile, refused when an agent of that name exists
/// or another agent already has that profile.
async fn check_name_free(
    store: &Store,
    env: &Env,
    new: &NewAgent,
) -> Result<(String, Profile), AgentError> {
    let name = check_new_name(&new.name, new.role, &list(store, env).await?)?;
    let profile = hermes::profile_for(&env.hermes_home, new.role, &name)?;
    Ok((name, profile))
}

/// The name a new agent of `role` gets (trimmed), or why it cannot have it: not a valid name, the
/// name of an agent in `existing` (letters compared without case, as the database looks names up),
/// or a name whose Hermes profile already belongs to another agent. Every surface asks this one
/// rule before it offers to create (the TUI wizard as the name is typed).
pub fn check_new_name(name: &str, role: Role, existing: &[Agent]) -> Result<String, AgentError> {
    let name = validate_name(name)?;
    if existing.iter().any(|a| a.name.eq_ignore_ascii_case(&name)) {
        return Err(AgentError::Duplicate(name));
    }
    // Only the profile's name matters here: where it lives does not.
    let profile = hermes::profile_for(std::path::Path::new(""), role, &name)?;
    if let Some(other) = existing.iter().find(|o| o.hermes_profile == profile.name) {
        return Err(AgentError::InvalidName(format!(
            "the agent name {name:?} would share the Hermes profile {:?} with agent {:?}; each agent needs its own profile, so pick a name that differs in more than case or punctuation{}",
            profile.name,
            other.name,
            if profile.is_root() {
                " (only one agent can have the hermes role: it uses the root profile)"
            } else {
                ""
            }
        )));
    }
    Ok(name)
}

/// Whether the agent's named profile directory, already on disk, is adopted: true for one nxr made
/// that an interrupted change left behind (said in `notes`), false when there is none (or for the
/// root profile); an error for a directory nxr did not make, or when `locked` is false.
fn adopt_leftover(
    profile: &Profile,
    role: Role,
    name: &str,
    locked: bool,
    notes: &mut Vec<String>,
) -> Result<bool, AgentError> {
    if profile.is_root() || !profile.dir.exists() {
        return Ok(false);
    }
    if crate::domain::agents::leftovers::made_by_nxr(profile, role, name) {
        // nxr made this directory and no agent row has it. With the agents lock held, no other
        // nxr is creating it right now: it is left over from an interrupted change, and is
        // adopted (its model, persona and skills are set again; anything else in it is kept).
        // Without the lock, it may be another nxr's create in progress.
        if !locked {
            return Err(AgentError::Duplicate(name.to_string()));
        }
        notes.push(format!(
            "adopted the profile directory {} that an interrupted change left without its agent: its model, persona and skills were set again, anything else in it was kept",
            profile.dir.display()
        ));
        Ok(true)
    } else {
        Err(AgentError::InvalidName(format!(
            "a Hermes profile named {:?} already exists at {} and nxr did not create it; pick another agent name, or remove that profile (`hermes profile delete {}`)",
            profile.name,
            profile.dir.display(),
            profile.name
        )))
    }
}

/// The new agent's model with its fallback chain, and whether nxr picked it: the user's model
/// (checked against the role) when given, else the best free model for the role.
async fn pick_model(
    store: &Store,
    env: &Env,
    new: &NewAgent,
    opts: CreateOptions,
) -> Result<(ModelChoice, bool), AgentError> {
    let catalog = crate::domain::catalog::load(store).await?;
    let (mut choice, auto) = match new.model.as_deref().map(str::trim) {
        Some(m) if !m.is_empty() => (
            checked_choice(store, &catalog, new.role, m, opts.force).await?,
            false,
        ),
        _ => (
            best_free_choice(store, env, &catalog, new.role, opts.allow_stealth).await?,
            true,
        ),
    };
    choice.fallbacks = crate::domain::agents::fallbacks::chain_for(store, new.role, &choice.id)
        .await
        .ok();
    Ok((choice, auto))
}

/// For the root profile: checks that its config.yaml parses and that no skill dir nxr would write is
/// the user's, and returns the model the user set there (when it differs from `choice`), to keep.
fn check_root_profile(
    profile: &Profile,
    choice: &ModelChoice,
    skillset: &[String],
) -> Result<Option<crate::domain::agents::user_model::UserModel>, AgentError> {
    // A config.yaml already in the root profile must parse before anything is written; a model the
    // user chose there is kept (a dated backup of the file, and a record) so it can be restored.
    if !profile.is_root() {
        return Ok(None);
    }
    hermes::get_config(&profile.config_path(), "model")?;
    let user_model = crate::domain::agents::user_model::read(&profile.config_path())?
        .filter(|u| u.model != choice.id);
    let own = profile.nxr_skills_dir();
    for s in skillset {
        check_skill_dir_is_ours(&own.join(s))?;
    }
    Ok(user_model)
}

/// Backs up the root profile's config.yaml, whose model the user set (restored by `disk`'s
/// rollback), records the backup in `user`, and returns the note telling the user.
fn back_up_user_config(
    disk: &mut DiskTxn,
    profile: &Profile,
    name: &str,
    choice: &ModelChoice,
    user: &mut crate::domain::agents::user_model::UserModel,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, AgentError> {
    let config = profile.config_path();
    let backup = crate::domain::agents::user_model::backup_config(&config, now)?;
    disk.undo.push(Undo::RestoreFile(backup.clone(), None));
    let note = format!(
        "{name} uses the root Hermes profile, whose model you set to {}: it changes to {} (in {}); your config.yaml was backed up to {}; `nxr agents revert {name}` goes back to your model",
        user.describe(),
        choice.id,
        config.display(),
        backup.display()
    );
    user.config_backup = Some(backup.display().to_string());
    Ok(note)
}

/// Writes an agent's profile: a new one is built whole in a temp dir and renamed into place; the root
/// profile and an adopted one (`adopt`) are edited in place, keeping what nxr does not own.
#[allow(clippy::too_many_arguments)]
pub(super) fn write_profile(
    disk: &mut DiskTxn,
    env: &Env,
    profile: &Profile,
    role: Role,
    name: &str,
    choice: &ModelChoice,
    skillset: &[String],
    adopt: bool,
) -> Result<(), AgentError> {
    if profile.is_root() || adopt {
        disk.create_dir_all(&profile.dir)?;
        disk.set_config(&profile.config_path(), &model_edits(env, choice))?;
        if !profile.soul_path().exists() {
            disk.write_new_file(&profile.soul_path(), skills::persona(role, name).as_bytes())?;
        }
        if adopt {
            disk.write_new_file(
                &profile
                    .dir
                    .join(crate::domain::agents::leftovers::MARKER_FILE),
                crate::domain::agents::leftovers::marker(role, name).as_bytes(),
            )?;
            // Like a new profile, an adopted one gets the secrets nxr manages in its own .env.
            disk.remember_file(&crate::domain::agents::credentials::profile_env_file(
                profile,
            ))?;
            crate::domain::agents::credentials::sync_profile(env, profile)?;
        }
        for s in skillset {
            write_skill(disk, profile, s)?;
        }
        return Ok(());
    }
    // A new profile is built whole in a temp dir next to its place, then renamed into it.
    let tmp = disk.staging_dir(&profile.dir)?;
    let staged = Profile {
        name: profile.name.clone(),
        dir: tmp.path().to_path_buf(),
    };
    hermes::set_config(&staged.config_path(), &model_edits(env, choice))?;
    hermes::write_atomic(
        &staged.soul_path(),
        skills::persona(role, name).as_bytes(),
        0o644,
    )?;
    hermes::write_atomic(
        &staged
            .dir
            .join(crate::domain::agents::leftovers::MARKER_FILE),
        crate::domain::agents::leftovers::marker(role, name).as_bytes(),
        0o644,
    )?;
    // A named profile reads only its own .env: it starts with the secrets nxr manages (the key).
    let seed = crate::domain::agents::credentials::seed_for_new_profile(env)?;
    crate::domain::store::secrets::write_private(
        &crate::domain::agents::credentials::profile_env_file(&staged),
        seed.as_bytes(),
    )?;
    let mut scratch = DiskTxn::default();
    for s in skillset {
        write_skill(&mut scratch, &staged, s)?;
    }
    scratch.commit();
    let tmp_path = tmp.keep();
    place_profile(&tmp_path, &profile.dir, name)?;
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(&profile.dir, std::fs::Permissions::from_mode(0o755));
    disk.undo.push(Undo::RemoveDir(profile.dir.clone()));
    Ok(())
}

/// Renames a staged profile into place (the temp dir is removed on failure). The place was free when
/// checked, so finding it taken means another nxr creating the same agent got there first.
pub(super) fn place_profile(staged: &Path, dest: &Path, name: &str) -> Result<(), AgentError> {
    let Err(source) = std::fs::rename(staged, dest) else {
        return Ok(());
    };
    let _ = std::fs::remove_dir_all(staged);
    if matches!(
        source.kind(),
        std::io::ErrorKind::DirectoryNotEmpty | std::io::ErrorKind::AlreadyExists
    ) {
        return Err(AgentError::Duplicate(name.to_string()));
    }
    Err(HermesError::Io {
        action: "create the profile directory",
        path: dest.display().to_string(),
        source,
    }
    .into())
}

pub(super) fn write_skill(
    disk: &mut DiskTxn,
    profile: &Profile,
    skill: &str,
) -> Result<(), AgentError> {
    let def = skills::find(skill).ok_or_else(|| {
        AgentError::Skills(SkillError::UnknownSkill {
            given: skill.to_string(),
            hint: String::new(),
            valid: skills::all_names().join(", "),
        })
    })?;
    let dir = profile.nxr_skills_dir().join(def.name);
    let md = skills::render_skill_md(def);
    if std::fs::read_to_string(dir.join("SKILL.md")).is_ok_and(|t| t == md) {
        return Ok(());
    }
    disk.write_skill_dir(&dir, &md)?;
    Ok(())
}

/// A skill dir under `skills/nxr/` that exists but was not written by nxr is the user's: refuse to touch it.
pub(super) fn check_skill_dir_is_ours(dir: &Path) -> Result<(), AgentError> {
    if !dir.exists() {
        return Ok(());
    }
    let ours = std::fs::read_to_string(dir.join("SKILL.md"))
        .ok()
        .and_then(|t| hermes::front_matter(&t))
        .and_then(|fm| {
            fm.get("metadata")
                .and_then(|m| m.get("nxr"))
                .and_then(|n| n.get("managed"))
                .and_then(|v| v.as_bool())
        })
        .unwrap_or(false);
    if ours {
        Ok(())
    } else {
        Err(AgentError::Other(format!(
            "{} exists but nxr did not write it, so nxr will not replace it; move it elsewhere (e.g. skills/local/) and try again",
            dir.display()
        )))
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn insert_row(
    store: &Store,
    name: &str,
    role: Role,
    choice: &ModelChoice,
    auto: bool,
    skillset: &[String],
    is_default: bool,
    user_model: Option<&crate::domain::agents::user_model::UserModel>,
    host: &str,
) -> Result<i64, AgentError> {
    let now = crate::domain::base::clock::to_db(store.now());
    let skillset_json =
        serde_json::to_string(skillset).map_err(|e| AgentError::Other(e.to_string()))?;
    // One transaction on a connection of its own: `last_insert_rowid()` must be read on the connection
    // that ran the INSERT, and the shared connection may be running other callers' statements.
    let outcome = store
        .in_transaction(|conn| async move {
            // The name is checked in the transaction that inserts it (the constraint's own rule:
            // exact text), so a duplicate is told as one rather than as a failed write.
            let mut taken = conn
                .query("SELECT 1 FROM agents WHERE name = ?1", params![name])
                .await?;
            if taken.next().await?.is_some() {
                return Ok(None);
            }
            drop(taken);
            conn.execute(
                "INSERT INTO agents (name, model, provider, status, created_at, updated_at, role, skillset, \
                 model_score, model_auto_assigned, workspace_id, is_default, host) \
                 VALUES (?1, ?2, ?3, 'active', ?4, ?4, ?5, ?6, ?7, ?8, 'default', ?9, ?10)",
                params![
                    name,
                    choice.id.as_str(),
                    choice.provider.as_str(),
                    now.as_str(),
                    role.as_str(),
                    skillset_json.as_str(),
                    choice.score,
                    i64::from(auto),
                    i64::from(is_default),
                    host
                ],
            )
            .await?;
            let id = conn.last_insert_rowid();
            conn.execute(
                "INSERT INTO agent_model_history (agent_id, from_model, to_model, reason, changed_at, \
                 to_auto_assigned) VALUES (?1, NULL, ?2, ?3, ?4, ?5)",
                params![
                    id,
                    choice.id.as_str(),
                    if auto {
                        "created: best free model for the role"
                    } else {
                        "created: chosen by the user"
                    },
                    now.as_str(),
                    i64::from(auto)
                ],
            )
            .await?;
            if let Some(user) = user_model {
                crate::domain::agents::user_model::record(&conn, id, user, &now).await?;
            }
            Ok(Some(id))
        })
        .await?;
    outcome.ok_or_else(|| AgentError::Duplicate(name.to_string()))
}
