//! Changing an agent's skills and deleting an agent. Skills nxr did not write are never touched;
//! deleting removes the row and (unless asked to keep it) the profile directory.

use super::*;

/// Makes the agent's nxr-managed skills exactly `desired` (known skill names), on disk
/// (`skills/nxr/<skill>/SKILL.md`) and in `agents.skillset`. Skills nxr did not write are never touched.
pub async fn set_skills(
    store: &Store,
    env: &Env,
    name_or_id: &str,
    desired: &[String],
) -> Result<Agent, AgentError> {
    let _lock = agents_lock(env).await;
    let agent = resolve(store, env, name_or_id).await?;
    let desired = skills::validate(desired)?;
    if !agent.is_here(env) {
        // Another host keeps this agent's profile: its reconcile writes the skills.
        record_skills(store, agent.id, &desired).await?;
        return get(store, env, agent.id).await;
    }
    let profile = agent.usable_profile()?;
    let own = profile.nxr_skills_dir();
    let mut disk = DiskTxn::default();
    if let Err(e) = write_skills(&mut disk, &profile, &desired) {
        disk.rollback();
        return Err(e);
    }
    match record_skills(store, agent.id, &desired).await {
        Ok(_) => {
            disk.commit();
            // An empty skills/nxr dir is left by removing the last skill; tidy it.
            let _ = std::fs::remove_dir(&own);
            get(store, env, agent.id).await
        }
        Err(e) => {
            disk.rollback();
            Err(e)
        }
    }
}

/// Makes the nxr-managed skills in `profile` exactly `desired` (stale ones moved aside, undone by
/// `disk`'s rollback); refuses a skill dir nxr did not write.
pub(super) fn write_skills(
    disk: &mut DiskTxn,
    profile: &Profile,
    desired: &[String],
) -> Result<(), AgentError> {
    let own = profile.nxr_skills_dir();
    for s in desired {
        check_skill_dir_is_ours(&own.join(s))?;
    }
    let stale: Vec<PathBuf> = hermes::skills_on_disk(profile)
        .into_iter()
        .filter(|s| s.category == hermes::NXR_SKILL_CATEGORY && s.nxr_managed)
        .filter(|s| !desired.contains(&s.name))
        .filter_map(|s| s.path.parent().map(Path::to_path_buf))
        .collect();
    for dir in &stale {
        disk.move_aside(dir)?;
    }
    for s in desired {
        write_skill(disk, profile, s)?;
    }
    Ok(())
}

/// The agent's skill set in its row.
async fn record_skills(store: &Store, agent_id: i64, desired: &[String]) -> Result<(), AgentError> {
    let now = crate::domain::base::clock::to_db(store.now());
    let json = serde_json::to_string(desired).map_err(|e| AgentError::Other(e.to_string()))?;
    store
        .conn()
        .execute(
            "UPDATE agents SET skillset = ?1, updated_at = ?2 WHERE id = ?3",
            params![json.as_str(), now.as_str(), agent_id],
        )
        .await?;
    Ok(())
}

/// How [`delete_with`] treats the agent's profile directory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeleteOptions {
    /// Leave the profile directory where it is (only the row goes).
    pub keep_profile: bool,
}

/// What [`delete_with`] did.
#[derive(Debug, Clone, Serialize)]
pub struct Deleted {
    pub agent: Agent,
    /// Where the profile directory was moved (a dated backup), when it was.
    pub profile_backup: Option<PathBuf>,
}

/// Deletes an agent (see [`delete_with`]): its row, and its profile directory moved to a dated backup.
pub async fn delete(store: &Store, env: &Env, name_or_id: &str) -> Result<Agent, AgentError> {
    delete_with(store, env, name_or_id, DeleteOptions::default())
        .await
        .map(|d| d.agent)
}

/// Deletes an agent: its database row, and its Hermes profile directory, which is moved to a dated
/// backup under `$HERMES_HOME/.nxr-backups/profiles/` (never deleted outright), or left in place with
/// `keep_profile`. The `hermes` agent lives in the root profile, which is never moved: only nxr's
/// skills go.
pub async fn delete_with(
    store: &Store,
    env: &Env,
    name_or_id: &str,
    opts: DeleteOptions,
) -> Result<Deleted, AgentError> {
    let _lock = agents_lock(env).await;
    let agent = resolve(store, env, name_or_id).await?;
    let profile = agent.profile();
    let mut disk = DiskTxn::default();
    let mut backup = None;
    // An agent without a usable profile (from an older nxr) loses only its row: no directory is its own.
    // An agent of another host loses its row here; that host's reconcile moves its profile to the
    // backup folder.
    let moved = if agent.usable_profile().is_err() || opts.keep_profile || !agent.is_here(env) {
        Ok(())
    } else if profile.is_root() {
        let mut r = Ok(());
        for s in hermes::skills_on_disk(&profile)
            .into_iter()
            .filter(|s| s.category == hermes::NXR_SKILL_CATEGORY && s.nxr_managed)
        {
            if let Some(dir) = s.path.parent()
                && let Err(e) = disk.move_aside(dir)
            {
                r = Err(e);
                break;
            }
        }
        r
    } else if profile.dir.exists() {
        let to = crate::domain::agents::leftovers::profile_backup_path(
            &env.hermes_home,
            &profile.name,
            store.now(),
        );
        backup = Some(to.clone());
        disk.move_to(&profile.dir, &to)
    } else {
        Ok(())
    };
    if let Err(e) = moved {
        disk.rollback();
        return Err(e.into());
    }
    // The row and everything pointing at it go together, in one transaction. The dependants are
    // handled explicitly (as the foreign keys' CASCADE / SET NULL would) because a remote database's
    // connection does not necessarily enforce foreign keys.
    let id = agent.id;
    let result = store
        .in_transaction(|conn| async move {
            conn.execute(
                "DELETE FROM agent_model_history WHERE agent_id = ?1",
                params![id],
            )
            .await?;
            conn.execute(
                "DELETE FROM agent_user_models WHERE agent_id = ?1",
                params![id],
            )
            .await?;
            for table in ["usage_events", "notifications"] {
                conn.execute(
                    &format!("UPDATE {table} SET agent_id = NULL WHERE agent_id = ?1"),
                    params![id],
                )
                .await?;
            }
            conn.execute("DELETE FROM agents WHERE id = ?1", params![id])
                .await
        })
        .await;
    match result {
        Ok(_) => {
            disk.commit();
            if !opts.keep_profile && agent.is_here(env) {
                let _ = std::fs::remove_dir(profile.nxr_skills_dir());
            }
            Ok(Deleted {
                agent,
                profile_backup: backup,
            })
        }
        Err(e) => {
            disk.rollback();
            Err(e.into())
        }
    }
}
