//! Team mode: making this host's Hermes profiles agree with the database. The database says which
//! agents run on which host (`agents.host`) and what each should be (model, skills); every host
//! writes only its own files:
//!
//! - an agent assigned here without a profile gets one (model, fallback chain, persona, skills, the
//!   key in its `.env`), built as `agents create` builds it;
//! - a profile whose model or skills differ from its row is brought in step (a switch made on
//!   another host lands here);
//! - a profile nxr made for this database (its marker names the database) whose agent was deleted
//!   or moved to another host is moved to the backup folder, as `agents delete` does (its usage
//!   added first). A profile nxr did not make, or made for another database, is never touched;
//! - in team mode, auxiliary slot changes asked on other hosts are written and every agent's slots
//!   published ([`team_slots`](super::team_slots)); after a scan, stale fallback chains are rewritten;
//! - an agent from before hosts (no host) whose profile is here is claimed by this host.
//!
//! Runs under the agents lock, so it never sees a local change half done; every file write is
//! atomic (a kill leaves a profile before or after, never torn). `nxr serve` runs it every few
//! seconds and every command runs it at start when the database is shared (`NXR_DB_URL`).

use super::*;
use crate::domain::agents::leftovers::{MARKER_FILE, profile_backup_path};
use crate::domain::base::host::this_host;

/// The setting that names this database in the profiles nxr makes for it.
pub const DB_ID_SETTING: &str = "db.id";

/// What one reconcile did, by agent name.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Report {
    pub host: String,
    /// Agents from before hosts whose profile is here, now assigned to this host.
    pub claimed: Vec<String>,
    /// Profiles made here for agents assigned to this host.
    pub created: Vec<String>,
    /// Profiles whose model or skills were brought in step with the database.
    pub updated: Vec<String>,
    /// Profiles moved to the backup folder (the agent was deleted or moved away), with where to.
    pub removed: Vec<(String, String)>,
    /// Agents whose fallback chain was rewritten after a scan (made on any host) moved the ranking.
    pub chains_rewritten: Vec<String>,
    /// What could not be done, each naming the agent or profile and why.
    pub problems: Vec<String>,
}

impl Report {
    /// True when nothing changed and nothing failed.
    pub fn is_quiet(&self) -> bool {
        self.claimed.is_empty()
            && self.created.is_empty()
            && self.updated.is_empty()
            && self.removed.is_empty()
            && self.chains_rewritten.is_empty()
            && self.problems.is_empty()
    }

    /// One line per change or problem, for a log or stderr.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for n in &self.claimed {
            out.push(format!("agent {n:?} runs on this host ({})", self.host));
        }
        for n in &self.created {
            out.push(format!("made the Hermes profile of agent {n:?}"));
        }
        for n in &self.updated {
            out.push(format!(
                "brought agent {n:?}'s profile in step with the database"
            ));
        }
        for (n, to) in &self.removed {
            out.push(format!(
                "moved profile {n:?} to {to} (its agent was deleted or runs on another host now)"
            ));
        }
        for n in &self.chains_rewritten {
            out.push(format!(
                "rewrote agent {n:?}'s fallback chain after the last scan"
            ));
        }
        out.extend(self.problems.iter().cloned());
        out
    }
}

/// This database's id (made once, kept in `settings`).
pub async fn database_id(store: &Store) -> Result<String, AgentError> {
    if let Some(id) = store.setting(DB_ID_SETTING).await? {
        return Ok(id);
    }
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| AgentError::Other(format!("no randomness: {e}")))?;
    let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    store
        .conn()
        .execute(
            "INSERT INTO settings (\"key\", value, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT(\"key\") DO NOTHING",
            params![
                DB_ID_SETTING,
                id.as_str(),
                crate::domain::base::clock::to_db(store.now())
            ],
        )
        .await?;
    // Two hosts may have raced: the row that landed is the id.
    Ok(store.setting(DB_ID_SETTING).await?.unwrap_or(id))
}

/// The note `agents create --host` gives for an agent made for another host.
pub async fn elsewhere_note(store: &Store, host: &str) -> String {
    let known = crate::domain::store::hosts::list(store, store.now())
        .await
        .unwrap_or_default();
    match known.iter().find(|h| h.name == host) {
        Some(h) if h.up && h.serving => format!(
            "the agent runs on host {host:?}: its nxr serve makes the Hermes profile there within seconds"
        ),
        Some(h) => format!(
            "the agent runs on host {host:?} (last seen {}): its profile is made there by the next nxr command or `nxr serve` on that host",
            h.last_seen
        ),
        None => format!(
            "no host named {host:?} has used this database yet: the agent's profile is made when nxr first runs there with NXR_HOST_NAME={host} (hosts: `nxr status`)"
        ),
    }
}

/// Why a host other than this one cannot be chosen: with a database file of this machine's own there
/// is one host.
pub fn needs_shared_database(host: &str) -> AgentError {
    AgentError::Other(format!(
        "agents run on another host ({host:?}) only in team mode, where every host shares one libSQL server; set NXR_DB_URL (and NXR_DB_TOKEN) on each host to that server (see docs/team.md)"
    ))
}

/// Moves an agent to run on `host`: its row says so at once; the host it leaves moves its profile
/// to the backup folder and `host` makes it, each at its next reconcile (the caller runs this
/// host's now: `watch::team::reconcile`).
pub async fn move_to(
    store: &Store,
    env: &Env,
    name_or_id: &str,
    host: &str,
) -> Result<Agent, AgentError> {
    let host = crate::domain::base::host::validate(host)
        .map_err(|e| AgentError::InvalidName(e.to_string()))?;
    if env.db_url.is_none() {
        return Err(needs_shared_database(&host));
    }
    let agent = resolve(store, env, name_or_id).await?;
    if agent.role == crate::domain::base::roles::Role::Hermes {
        return Err(AgentError::Other(format!(
            "agent {:?} uses the root Hermes profile of its host, which nxr never moves; create a hermes agent on {host:?} instead",
            echo(&agent.name)
        )));
    }
    let now = crate::domain::base::clock::to_db(store.now());
    store
        .conn()
        .execute(
            "UPDATE agents SET host = ?1, updated_at = ?2 WHERE id = ?3",
            params![host.as_str(), now, agent.id],
        )
        .await?;
    get(store, env, agent.id).await
}

/// Renames this host (`nxr config set host-name`): the name is kept in `$NXR_HOME/host-name`, and
/// the agents assigned to the old name follow it (one transaction), so no profile leaves. Returns
/// the old name, the new one (trimmed) and how many agents followed. `$NXR_HOST_NAME`, when set,
/// still wins.
pub async fn rename_host(
    store: &Store,
    env: &Env,
    new_name: &str,
) -> Result<(String, String, u64), AgentError> {
    use crate::domain::base::host;
    let new_name = host::validate(new_name).map_err(|e| AgentError::InvalidName(e.to_string()))?;
    let _lock = agents_lock(env).await;
    let mut file_env = env.clone();
    file_env.host_name = None;
    let old = host::this_host(&file_env);
    let (old_c, new_c) = (old.clone(), new_name.clone());
    let moved = store
        .in_transaction(|conn| async move {
            conn.execute(
                "UPDATE agents SET host = ?1 WHERE host = ?2",
                params![new_c.as_str(), old_c.as_str()],
            )
            .await
        })
        .await?;
    if let Err(e) = host::keep(env, &new_name) {
        // Put the agents back on the old name: the file still says it.
        let _ = store
            .conn()
            .execute(
                "UPDATE agents SET host = ?1 WHERE host = ?2",
                params![old.as_str(), new_name.as_str()],
            )
            .await;
        return Err(AgentError::Other(e.to_string()));
    }
    Ok((old, new_name, moved))
}

/// What the caller could not do before a reconcile: profiles that must stay (their usage was not
/// added yet) and the problems to record with it.
#[derive(Debug, Clone, Default)]
pub struct Held {
    pub profiles: Vec<String>,
    pub problems: Vec<String>,
}

/// Makes this host's profiles agree with the database (see the module docs) and records how it
/// went in `hosts`, keeping `held`'s profiles. Errors with one agent are reported and the others
/// are still done. Every surface runs it through `watch::team::reconcile`, which adds the usage of
/// the profiles about to leave first.
pub async fn reconcile(store: &Store, env: &Env, held: Held) -> Result<Report, AgentError> {
    let lock = agents_lock(env).await;
    switch_journal::recover_locked(store, env).await?;
    let me = this_host(env);
    let db_id = database_id(store).await?;
    let mut report = Report {
        host: me.clone(),
        problems: held.problems,
        ..Report::default()
    };
    let mut agents = list_rows(store, env).await?;
    if env.db_url.is_some() {
        claim(store, &me, &mut agents, &mut report).await?;
    }
    let mut catalog = None;
    let here: Vec<&Agent> = agents.iter().filter(|a| a.host == me).collect();
    for agent in &here {
        if let Err(e) = bring_in_step(store, env, agent, &db_id, &mut catalog, &mut report).await {
            report.problems.push(format!(
                "agent {:?}: {e}; its profile was left as it was",
                echo(&agent.name)
            ));
        }
    }
    if env.db_url.is_some() {
        let slots = super::team_slots::sync_here(
            store,
            env,
            &agents,
            &here,
            &report.created,
            &mut report.problems,
        )
        .await;
        match slots {
            Ok(changed) => {
                for n in changed {
                    if !report.updated.contains(&n) {
                        report.updated.push(n);
                    }
                }
            }
            Err(e) => report
                .problems
                .push(format!("routing slots were not synced: {e}")),
        }
    }
    if lock.is_some() {
        // Without the lock a create in progress here could look like a deleted agent's profile.
        let mut keep: Vec<&str> = here.iter().map(|a| a.hermes_profile.as_str()).collect();
        keep.extend(held.profiles.iter().map(String::as_str));
        remove_departed(store, env, &db_id, &keep, &mut report);
    }
    drop(lock);
    if env.db_url.is_some() {
        chains_after_scan(store, env, &me, &mut report).await;
    }
    let problems = (!report.problems.is_empty()).then(|| report.problems.join("; "));
    crate::domain::store::hosts::reconciled(store, &me, store.now(), problems.as_deref()).await?;
    Ok(report)
}

/// The setting that keeps the scan this host last rewrote its agents' chains for.
fn chains_setting(host: &str) -> String {
    format!("fallbacks.scan_seen.{host}")
}

/// A scan (on whichever host took the lease) may have moved the ranking; the scanning host rewrote
/// the stale chains of its own agents only. Each host does its own once per scan
/// ([`fallbacks::refresh_all`](crate::domain::agents::fallbacks::refresh_all): a hand-edited chain is
/// kept). Takes the agents lock per agent, so it runs after the reconcile's.
async fn chains_after_scan(store: &Store, env: &Env, me: &str, report: &mut Report) {
    let key = chains_setting(me);
    let scanned = match crate::domain::store::heartbeat::last_scan_at(store).await {
        Ok(Some(at)) => crate::domain::base::clock::to_db(at),
        Ok(None) => return,
        Err(e) => {
            report
                .problems
                .push(format!("fallback chains were not checked: {e}"));
            return;
        }
    };
    if store.setting(&key).await.ok().flatten().as_deref() == Some(scanned.as_str()) {
        return;
    }
    let (changed, problems) = crate::domain::agents::fallbacks::refresh_all(store, env).await;
    report.chains_rewritten = changed;
    // Once per scan, problems too (they are reported now; the next scan tries again).
    report.problems.extend(problems);
    if let Err(e) = store.set_setting(&key, &scanned).await {
        report
            .problems
            .push(format!("fallback chains: cannot record the scan seen: {e}"));
    }
}

/// Assigns to `me` every agent without a host whose profile nxr made here.
async fn claim(
    store: &Store,
    me: &str,
    agents: &mut [Agent],
    report: &mut Report,
) -> Result<(), AgentError> {
    for agent in agents.iter_mut().filter(|a| a.host.is_empty()) {
        let Ok(profile) = agent.usable_profile() else {
            continue;
        };
        let ours = if profile.is_root() {
            hermes::get_config(&profile.config_path(), "model.default")
                .ok()
                .flatten()
                .is_some_and(|m| m == agent.model)
        } else {
            profile.dir.is_dir()
                && crate::domain::agents::leftovers::made_by_nxr(&profile, agent.role, &agent.name)
        };
        if !ours {
            continue;
        }
        let claimed = store
            .conn()
            .execute(
                "UPDATE agents SET host = ?1 WHERE id = ?2 AND host = ''",
                params![me, agent.id],
            )
            .await?;
        if claimed == 1 {
            agent.host = me.to_string();
            report.claimed.push(agent.name.clone());
        }
    }
    Ok(())
}

/// Makes one agent's profile (assigned here) agree with its row.
async fn bring_in_step(
    store: &Store,
    env: &Env,
    agent: &Agent,
    db_id: &str,
    catalog: &mut Option<Catalog>,
    report: &mut Report,
) -> Result<(), AgentError> {
    let profile = agent.usable_profile()?;
    let skillset = skills::validate(&agent.skillset)?;
    if !profile.is_root() && !profile.dir.exists() {
        let choice = row_choice(store, agent, catalog).await?;
        let mut disk = DiskTxn::default();
        if let Err(e) = super::create::write_profile(
            &mut disk,
            env,
            &profile,
            agent.role,
            &agent.name,
            &choice,
            &skillset,
            false,
        ) {
            disk.rollback();
            return Err(e);
        }
        disk.commit();
        if let Some(chain) = &choice.fallbacks {
            crate::domain::agents::fallbacks::remember(store, agent.id, &[], chain).await;
        }
        stamp(&profile, agent, db_id)?;
        report.created.push(agent.name.clone());
        return Ok(());
    }
    if !profile.is_root() && !leftovers::made_by_nxr(&profile, agent.role, &agent.name) {
        return Err(AgentError::Other(format!(
            "a Hermes profile {} exists here and nxr did not make it, so nxr will not change it; rename or remove it, or move the agent to another host (`nxr agents move`)",
            profile.dir.display()
        )));
    }
    let mut disk = DiskTxn::default();
    let mut changed = false;
    let configured = hermes::get_config(&profile.config_path(), "model.default")?;
    if configured.as_deref() != Some(agent.model.as_str()) {
        let mut choice = row_choice(store, agent, catalog).await?;
        if crate::domain::agents::fallbacks::edited_by_hand(store, agent, &profile.config_path())
            .await
        {
            choice.fallbacks = None;
        } else if let Some(chain) = &choice.fallbacks {
            let previous = hermes::fallback_models(&profile.config_path()).unwrap_or_default();
            crate::domain::agents::fallbacks::remember(store, agent.id, &previous, chain).await;
        }
        if let Err(e) = disk.set_config(&profile.config_path(), &model_edits(env, &choice)) {
            disk.rollback();
            return Err(e.into());
        }
        changed = true;
    }
    let on_disk: Vec<String> = hermes::skills_on_disk(&profile)
        .into_iter()
        .filter(|s| s.category == hermes::NXR_SKILL_CATEGORY && s.nxr_managed)
        .map(|s| s.name)
        .collect();
    let same_skills =
        on_disk.len() == skillset.len() && skillset.iter().all(|s| on_disk.contains(s));
    if !same_skills {
        if let Err(e) = super::update::write_skills(&mut disk, &profile, &skillset) {
            disk.rollback();
            return Err(e);
        }
        changed = true;
    }
    disk.commit();
    if !profile.is_root() {
        stamp(&profile, agent, db_id)?;
    }
    if changed {
        report.updated.push(agent.name.clone());
    }
    Ok(())
}

/// The model choice an agent's row describes: the catalog's entry when it has the model, else the
/// row's own model and provider (a local Ollama model, or one the catalog has dropped), with the
/// role's fallback chain for it.
async fn row_choice(
    store: &Store,
    agent: &Agent,
    catalog: &mut Option<Catalog>,
) -> Result<ModelChoice, AgentError> {
    if catalog.is_none() {
        *catalog = Some(crate::domain::catalog::load(store).await?);
    }
    let known = catalog
        .as_ref()
        .and_then(|c| choose_model(c, &agent.model).ok())
        .filter(|c| c.provider == agent.provider);
    let mut choice = known.unwrap_or_else(|| ModelChoice {
        id: agent.model.clone(),
        provider: agent.provider.clone(),
        is_free: agent.provider == "ollama" || agent.model.ends_with(":free"),
        score: agent.model_score,
        notes: Vec::new(),
        fallbacks: None,
    });
    choice.fallbacks = crate::domain::agents::fallbacks::chain_for(store, agent.role, &choice.id)
        .await
        .ok();
    Ok(choice)
}

/// Writes the profile's marker naming this database (atomically), when it does not say so yet.
fn stamp(profile: &Profile, agent: &Agent, db_id: &str) -> Result<(), AgentError> {
    let path = profile.dir.join(MARKER_FILE);
    let current = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
    if current
        .as_ref()
        .and_then(|v| v.get("db"))
        .and_then(|d| d.as_str())
        == Some(db_id)
    {
        return Ok(());
    }
    let mut text = serde_json::json!({
        "made_by": "nxr",
        "agent": agent.name,
        "role": agent.role.as_str(),
        "db": db_id,
    })
    .to_string();
    text.push('\n');
    hermes::write_atomic(&path, text.as_bytes(), 0o644)?;
    Ok(())
}

/// True when nxr made the profile in `dir` for the database `db_id` (its marker says so).
fn made_for(dir: &std::path::Path, db_id: &str) -> bool {
    std::fs::read_to_string(dir.join(MARKER_FILE))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|v| {
            v.get("made_by").and_then(|m| m.as_str()) == Some("nxr")
                && v.get("db").and_then(|d| d.as_str()) == Some(db_id)
        })
}

/// The profiles nxr made here for this database whose agents now run on another host, each with
/// its agent: what the next reconcile moves away. The caller adds their usage first
/// (`watch::team::reconcile`).
pub async fn leaving(
    store: &Store,
    env: &Env,
) -> Result<Vec<(Agent, std::path::PathBuf)>, AgentError> {
    let db_id = database_id(store).await?;
    let agents = list_rows(store, env).await?;
    let profiles = env.hermes_home.join("profiles");
    let here: Vec<&str> = agents
        .iter()
        .filter(|a| a.is_here(env))
        .map(|a| a.hermes_profile.as_str())
        .collect();
    Ok(agents
        .iter()
        .filter(|a| !a.is_here(env) && !a.host.is_empty() && !a.hermes_profile.is_empty())
        .filter(|a| !here.contains(&a.hermes_profile.as_str()))
        .map(|a| (a.clone(), profiles.join(&a.hermes_profile)))
        .filter(|(_, dir)| dir.is_dir() && made_for(dir, &db_id))
        .collect())
}

/// Moves to the backup folder every profile under `profiles/` that nxr made for this database and
/// that no agent assigned here has (`keep`).
fn remove_departed(store: &Store, env: &Env, db_id: &str, keep: &[&str], report: &mut Report) {
    let Ok(entries) = std::fs::read_dir(env.hermes_home.join("profiles")) else {
        return;
    };
    for entry in entries.flatten() {
        let dir = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if !dir.is_dir() || keep.contains(&name.as_str()) || name.starts_with('.') {
            continue;
        }
        if !made_for(&dir, db_id) {
            continue;
        }
        let to = profile_backup_path(&env.hermes_home, &name, store.now());
        let moved = to
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|_| std::fs::rename(&dir, &to));
        match moved {
            Ok(()) => report.removed.push((name, to.display().to_string())),
            Err(e) => report.problems.push(format!(
                "profile {name:?}: cannot move it to {} ({e}); it stays where it is",
                to.display()
            )),
        }
    }
}
