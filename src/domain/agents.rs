//! Agents: create, list, get, update, delete. Each agent is a Hermes profile (DESIGN.md §5) and a row in
//! `agents`; the two never disagree. The surfaces (CLI, TUI, onboarding, web) call `create`, `list`,
//! `get_by_name`, `get`, `set_model`, `set_skills` and `delete`; none of them edits a profile or the table itself.
//!
//! Every change follows one order so that an error leaves the database and the disk as they were:
//! validate everything first; write the disk (new profiles are built in a temp dir and renamed into place,
//! edits to existing files are atomic and remembered); then write the database in one transaction; if that
//! fails, undo the disk changes.

use crate::domain::catalog::Catalog;
use crate::domain::env::Env;
use crate::domain::hermes::{self, ConfigValue, HermesError, Profile};
use crate::domain::roles::Role;
use crate::domain::skills::{self, SkillError};
use crate::domain::store::Store;
use crate::domain::switch_journal;
use libsql::params;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct NewAgent {
    pub name: String,
    pub role: Role,
    /// Category template for custom agents (tech, creative, business, research, media, personal).
    pub category: Option<String>,
    /// None = the best free model for the role from the scorer.
    pub model: Option<String>,
    /// None = the role's (or category's) skill template.
    pub skills: Option<Vec<String>>,
    pub is_default: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Agent {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub model: String,
    pub provider: String,
    pub status: String,
    pub skillset: Vec<String>,
    pub model_score: Option<i64>,
    pub model_auto_assigned: bool,
    pub workspace_id: String,
    pub is_default: bool,
    /// The Hermes profile name (`hermes -p <profile>`); the `hermes` role uses the root profile ("default").
    pub hermes_profile: String,
    /// The directory of that profile.
    pub hermes_profile_path: String,
    pub created_at: String,
    pub updated_at: String,
}

impl Agent {
    /// The agent's Hermes profile.
    pub fn profile(&self) -> Profile {
        Profile {
            name: self.hermes_profile.clone(),
            dir: PathBuf::from(&self.hermes_profile_path),
        }
    }

    /// The profile, or an error when the stored name gives none (an agent from an older nxr), so
    /// that no disk change can land outside a real profile directory.
    pub fn usable_profile(&self) -> Result<Profile, AgentError> {
        if self.hermes_profile.is_empty() || self.hermes_profile_path.is_empty() {
            return Err(AgentError::InvalidName(format!(
                "agent {:?} has no usable Hermes profile name (it was stored by an older nxr), so nxr will not change files for it; create a new agent whose name has ASCII letters or digits",
                echo(&self.name)
            )));
        }
        Ok(self.profile())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("{0}")]
    InvalidName(String),
    #[error("an agent named {:?} already exists (or is being created right now); pick another name or remove the old agent", echo(.0))]
    Duplicate(String),
    #[error("no agent named {:?}; `nxr agents list` shows the agents", echo(.0))]
    NotFound(String),
    #[error("{0}")]
    Other(String),
    /// No free model, no router and no local model: no agent is put on a dead endpoint.
    #[error("{0}")]
    NoFreeModel(String),
    /// A model id that is malformed or not in the catalog.
    #[error("{0}")]
    InvalidModel(String),
    #[error(transparent)]
    Skills(#[from] SkillError),
    #[error(transparent)]
    Hermes(#[from] HermesError),
    #[error(transparent)]
    Secret(#[from] crate::domain::secrets::SecretError),
    #[error("database error: {0}; nothing was changed")]
    Db(String),
}

impl From<libsql::Error> for AgentError {
    fn from(e: libsql::Error) -> Self {
        AgentError::Db(e.to_string())
    }
}

impl From<crate::domain::store::StoreError> for AgentError {
    fn from(e: crate::domain::store::StoreError) -> Self {
        AgentError::Db(e.to_string())
    }
}

/// User input as echoed in an error message (inside `{:?}`, which escapes control characters): at most 60 characters, with
/// "…" when cut (a 10 KB name must not make a 10 KB error).
pub fn echo(input: &str) -> String {
    const MAX: usize = 60;
    if input.chars().count() > MAX {
        let cut: String = input.chars().take(MAX).collect();
        format!("{cut}…")
    } else {
        input.to_string()
    }
}

/// The longest agent name nxr accepts.
pub const MAX_NAME_LEN: usize = 64;

/// Checks an agent name: not empty, at most 64 characters, no path separators, no control characters, no
/// `..`, and usable as a Hermes profile name. Returns the trimmed name.
pub fn validate_name(name: &str) -> Result<String, AgentError> {
    let trimmed = name.trim();
    let bad = |why: &str| {
        Err(AgentError::InvalidName(format!(
            "invalid agent name {:?}: {why}; use letters, digits, spaces, `-` or `_` (e.g. \"pm-1\")",
            echo(name)
        )))
    };
    if trimmed.is_empty() {
        return bad("it is empty");
    }
    if trimmed.chars().count() > MAX_NAME_LEN {
        return bad(&format!(
            "it has {} characters, the limit is {MAX_NAME_LEN}",
            trimmed.chars().count()
        ));
    }
    if trimmed.chars().any(|c| c.is_control()) {
        return bad("it contains control characters or line breaks");
    }
    if let Some(c) = crate::domain::text::first_invisible(trimmed) {
        return bad(&format!(
            "it contains the invisible or text-direction character U+{:04X}, which would hide or reorder what people see",
            c as u32
        ));
    }
    if trimmed.contains('/') || trimmed.contains('\\') {
        return bad("it contains a path separator");
    }
    if trimmed.contains("..") {
        return bad("it contains `..`");
    }
    hermes::profile_slug(trimmed).map_err(|e| AgentError::InvalidName(e.to_string()))?;
    Ok(trimmed.to_string())
}

/// Checks a model id with the catalog's one rule ([`crate::domain::catalog::is_valid_model_id`]).
pub fn validate_model_syntax(model: &str) -> Result<(), AgentError> {
    if crate::domain::catalog::is_valid_model_id(model) {
        Ok(())
    } else {
        Err(AgentError::InvalidModel(format!(
            "invalid model id {:?}: a model id has only letters, digits and / . _ : - @ ~ + (e.g. \"meta-llama/llama-3.3-70b-instruct:free\"); `nxr models list` shows the ids",
            echo(model)
        )))
    }
}

/// A model nxr is about to put an agent on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelChoice {
    pub id: String,
    /// `openrouter` or `ollama`.
    pub provider: String,
    pub is_free: bool,
    pub score: Option<i64>,
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
            let hint = if close.is_empty() {
                String::new()
            } else {
                format!("; close ids: {}", close.join(", "))
            };
            Err(AgentError::InvalidModel(format!(
                "model {:?} is not in the catalog{hint}; `nxr models list` shows every id (`nxr catalog refresh` fetches the newest)",
                echo(model)
            )))
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
) -> Result<ModelChoice, AgentError> {
    let best = crate::domain::rescore::best_free(store, env, role, store.now())
        .await
        .map_err(|e| {
            AgentError::Other(format!("cannot pick a free model for the {role} role: {e}"))
        })?;
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
        return Err(AgentError::NoFreeModel(format!(
            "no model nxr can reach for the {role} role: no free model in the catalog meets its requirements, the catalog has no openrouter/free router, and Ollama at {} offers no local Qwen model{}; nxr put no agent on a model it cannot reach. Fetch a newer catalog (`nxr catalog refresh`), or start Ollama and `ollama pull {}`, or pick a model with --model",
            env.ollama_url,
            if why.is_empty() {
                String::new()
            } else {
                format!(" ({why})")
            },
            crate::domain::scoring::DEFAULT_LOCAL_QWEN
        )));
    }
    let is_free = pick.provider == "ollama"
        || catalog
            .get(&pick.model_id)
            .is_none_or(|m| m.is_free() || m.is_router());
    Ok(ModelChoice {
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

// ---------------------------------------------------------------------------------------------------------
// Disk changes that can be undone
// ---------------------------------------------------------------------------------------------------------

enum Undo {
    /// Put the file back as it was (`None` = it did not exist).
    RestoreFile(PathBuf, Option<Vec<u8>>),
    /// Remove a directory nxr created and filled (a profile, a skill).
    RemoveDir(PathBuf),
    /// Remove a directory nxr created on the way to something, if it is still empty: a concurrent
    /// caller may have put its own work there since (`profiles/` holding another new agent).
    RemoveEmptyDir(PathBuf),
    /// A directory moved aside: on undo move it back, on commit delete it.
    MovedAside { from: PathBuf, to: PathBuf },
    /// A directory moved to a place it stays in (a backup): on undo move it back.
    MovedTo { from: PathBuf, to: PathBuf },
}

/// The disk half of a change: remembers how to undo each step.
#[derive(Default)]
struct DiskTxn {
    undo: Vec<Undo>,
}

impl DiskTxn {
    /// Creates `dir` and any missing parents, remembering the ones it created.
    fn create_dir_all(&mut self, dir: &Path) -> Result<(), HermesError> {
        let mut missing = Vec::new();
        let mut cur = Some(dir);
        while let Some(d) = cur {
            if d.exists() {
                break;
            }
            missing.push(d.to_path_buf());
            cur = d.parent();
        }
        for d in missing.into_iter().rev() {
            match std::fs::create_dir(&d) {
                Ok(()) => self.undo.push(Undo::RemoveEmptyDir(d)),
                // Someone else (a concurrent create) made it meanwhile: fine, and not ours to undo.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && d.is_dir() => {}
                Err(source) => {
                    return Err(HermesError::Io {
                        action: "create the directory",
                        path: d.display().to_string(),
                        source,
                    });
                }
            }
        }
        Ok(())
    }

    fn remember_file(&mut self, path: &Path) -> Result<(), HermesError> {
        let before = match std::fs::read(path) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(HermesError::Io {
                    action: "read",
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        self.undo
            .push(Undo::RestoreFile(path.to_path_buf(), before));
        Ok(())
    }

    fn set_config(
        &mut self,
        path: &Path,
        edits: &[(String, ConfigValue)],
    ) -> Result<(), HermesError> {
        self.remember_file(path)?;
        hermes::set_config(path, edits)
    }

    fn write_new_file(&mut self, path: &Path, bytes: &[u8]) -> Result<(), HermesError> {
        self.remember_file(path)?;
        hermes::write_atomic(path, bytes, 0o644)
    }

    /// Moves a directory out of the way (into a fresh hidden sibling); deleted on commit, restored on undo.
    fn move_aside(&mut self, dir: &Path) -> Result<(), HermesError> {
        let parent = dir.parent().unwrap_or(Path::new("."));
        let holder = tempfile::Builder::new()
            .prefix(".nxr-old-")
            .tempdir_in(parent)
            .map_err(|source| HermesError::Io {
                action: "create a temp directory in",
                path: parent.display().to_string(),
                source,
            })?
            .keep();
        let aside = holder.join("moved");
        if let Err(source) = std::fs::rename(dir, &aside) {
            let _ = std::fs::remove_dir(&holder);
            return Err(HermesError::Io {
                action: "move aside",
                path: dir.display().to_string(),
                source,
            });
        }
        self.undo.push(Undo::MovedAside {
            from: dir.to_path_buf(),
            to: aside,
        });
        Ok(())
    }

    /// Moves a directory to `to` (its parents are created), where it stays on commit.
    fn move_to(&mut self, dir: &Path, to: &Path) -> Result<(), HermesError> {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|source| HermesError::Io {
                action: "create the directory",
                path: parent.display().to_string(),
                source,
            })?;
        }
        std::fs::rename(dir, to).map_err(|source| HermesError::Io {
            action: "move to a backup",
            path: dir.display().to_string(),
            source,
        })?;
        self.undo.push(Undo::MovedTo {
            from: dir.to_path_buf(),
            to: to.to_path_buf(),
        });
        Ok(())
    }

    /// A temp directory next to `dest` (same filesystem, so a rename moves it into place), with
    /// `dest`'s parents created (and remembered for undo).
    fn staging_dir(&mut self, dest: &Path) -> Result<tempfile::TempDir, HermesError> {
        let parent = dest.parent().unwrap_or(Path::new("."));
        self.create_dir_all(parent)?;
        tempfile::Builder::new()
            .prefix(".nxr-tmp-")
            .tempdir_in(parent)
            .map_err(|source| HermesError::Io {
                action: "create a temp directory in",
                path: parent.display().to_string(),
                source,
            })
    }

    /// Writes a whole skill directory: built next to its place, then renamed into it.
    fn write_skill_dir(&mut self, dir: &Path, skill_md: &str) -> Result<(), HermesError> {
        let tmp = self.staging_dir(dir)?;
        hermes::write_atomic(&tmp.path().join("SKILL.md"), skill_md.as_bytes(), 0o644)?;
        if dir.exists() {
            self.move_aside(dir)?;
        }
        let tmp_path = tmp.keep();
        std::fs::rename(&tmp_path, dir).map_err(|source| {
            let _ = std::fs::remove_dir_all(&tmp_path);
            HermesError::Io {
                action: "create",
                path: dir.display().to_string(),
                source,
            }
        })?;
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
        self.undo.push(Undo::RemoveDir(dir.to_path_buf()));
        Ok(())
    }

    /// Undoes every step, newest first. Best effort: it keeps going past a failing step.
    fn rollback(self) {
        for u in self.undo.into_iter().rev() {
            match u {
                Undo::RestoreFile(path, Some(bytes)) => {
                    let _ = hermes::write_atomic(&path, &bytes, 0o600);
                }
                Undo::RestoreFile(path, None) => {
                    // A symlink is the user's: never removed, whatever its target holds.
                    let is_link =
                        std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
                    if !is_link {
                        let _ = std::fs::remove_file(&path);
                    }
                }
                Undo::RemoveDir(dir) => {
                    let _ = std::fs::remove_dir_all(&dir);
                }
                Undo::RemoveEmptyDir(dir) => {
                    let _ = std::fs::remove_dir(&dir);
                }
                Undo::MovedTo { from, to } => {
                    let _ = std::fs::rename(&to, &from);
                }
                Undo::MovedAside { from, to } => {
                    let _ = std::fs::remove_dir_all(&from);
                    let _ = std::fs::rename(&to, &from);
                    if let Some(holder) = to.parent() {
                        let _ = std::fs::remove_dir(holder);
                    }
                }
            }
        }
    }

    /// Keeps the changes: deletes what was moved aside.
    fn commit(self) {
        for u in self.undo {
            if let Undo::MovedAside { to, .. } = u
                && let Some(holder) = to.parent()
            {
                let _ = std::fs::remove_dir_all(holder);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------------------

const COLUMNS: &str = "id, name, role, model, provider, status, skillset, model_score, model_auto_assigned, \
                       workspace_id, is_default, created_at, updated_at";

fn row_to_agent(env: &Env, row: &libsql::Row) -> Result<Agent, AgentError> {
    let name: String = row.get(1)?;
    let role_text: String = row.get(2)?;
    let role: Role = role_text.parse().unwrap_or(Role::Custom);
    let skillset_json: String = row.get(6)?;
    let skillset: Vec<String> = serde_json::from_str(&skillset_json).unwrap_or_default();
    // A name stored by an older nxr may give no valid profile name: the agent is listed with an empty
    // profile, and every disk change refuses it (`usable_profile`), so nothing outside it is touched.
    let profile = hermes::profile_for(&env.hermes_home, role, &name).unwrap_or_else(|_| Profile {
        name: String::new(),
        dir: PathBuf::new(),
    });
    Ok(Agent {
        id: row.get(0)?,
        name,
        role,
        model: row.get(3)?,
        provider: row.get(4)?,
        status: row.get(5)?,
        skillset,
        model_score: row.get::<Option<i64>>(7)?,
        model_auto_assigned: row.get::<i64>(8)? != 0,
        workspace_id: row.get(9)?,
        is_default: row.get::<i64>(10)? != 0,
        hermes_profile: profile.name,
        hermes_profile_path: profile.dir.display().to_string(),
        created_at: row.get(11)?,
        updated_at: row.get(12)?,
    })
}

/// Every agent, oldest first.
pub async fn list(store: &Store, env: &Env) -> Result<Vec<Agent>, AgentError> {
    // A model switch a killed process left half done is undone first, so no caller sees an agent
    // whose config.yaml and row disagree.
    switch_journal::recover(store, env).await?;
    let mut rows = store
        .conn()
        .query(&format!("SELECT {COLUMNS} FROM agents ORDER BY id"), ())
        .await?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        out.push(row_to_agent(env, &row)?);
    }
    Ok(out)
}

/// One agent by id.
pub async fn get(store: &Store, env: &Env, id: i64) -> Result<Agent, AgentError> {
    let mut rows = store
        .conn()
        .query(
            &format!("SELECT {COLUMNS} FROM agents WHERE id = ?1"),
            params![id],
        )
        .await?;
    match rows.next().await? {
        Some(row) => row_to_agent(env, &row),
        None => Err(AgentError::NotFound(id.to_string())),
    }
}

/// One agent by name (case-insensitive).
pub async fn get_by_name(store: &Store, env: &Env, name: &str) -> Result<Agent, AgentError> {
    let mut rows = store
        .conn()
        .query(
            &format!(
                "SELECT {COLUMNS} FROM agents WHERE lower(name) = lower(?1) ORDER BY id LIMIT 1"
            ),
            params![name.trim()],
        )
        .await?;
    match rows.next().await? {
        Some(row) => row_to_agent(env, &row),
        None => Err(AgentError::NotFound(name.to_string())),
    }
}

/// An agent by name, or by numeric id when no agent has that name.
pub async fn resolve(store: &Store, env: &Env, name_or_id: &str) -> Result<Agent, AgentError> {
    match get_by_name(store, env, name_or_id).await {
        Err(AgentError::NotFound(_)) => match name_or_id.trim().parse::<i64>() {
            Ok(id) => get(store, env, id)
                .await
                .map_err(|_| AgentError::NotFound(name_or_id.to_string())),
            Err(_) => Err(AgentError::NotFound(name_or_id.to_string())),
        },
        other => other,
    }
}

// ---------------------------------------------------------------------------------------------------------
// Creating
// ---------------------------------------------------------------------------------------------------------

/// How `create_with` treats a model the user chose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CreateOptions {
    /// Accept a model that fails the role's hard requirements or is a router.
    pub force: bool,
}

/// Creates an agent: validates everything, writes its Hermes profile (config.yaml model, SOUL.md persona,
/// skills), then the database row. On any error nothing is left behind. A chosen model that fails the
/// role's hard requirements is refused (see `create_with` to override).
pub async fn create(store: &Store, env: &Env, new: NewAgent) -> Result<Agent, AgentError> {
    create_with(store, env, new, CreateOptions::default())
        .await
        .map(|(agent, _)| agent)
}

/// A user-chosen model checked against the role: the model's score for the role, or an error naming the
/// hard requirements it fails (unless `force`).
pub async fn checked_choice(
    store: &Store,
    catalog: &Catalog,
    role: Role,
    model: &str,
    force: bool,
) -> Result<ModelChoice, AgentError> {
    let mut choice = choose_model(catalog, model)?;
    let inputs = crate::domain::rescore::inputs(store, store.now())
        .await
        .map_err(|e| AgentError::Other(format!("cannot score {:?}: {e}", choice.id)))?;
    let Some(m) = inputs.models.iter().find(|m| m.id == choice.id) else {
        return Ok(choice);
    };
    let scored = crate::domain::scoring::score(m, role, &inputs.health, &inputs.cfg);
    if !scored.passes && !force {
        let fails: Vec<&str> = scored
            .reasons
            .iter()
            .filter_map(|r| r.strip_prefix("excluded: "))
            .collect();
        let fails = if fails.is_empty() {
            "it does not meet the role's hard requirements".to_string()
        } else {
            fails.join("; ")
        };
        return Err(AgentError::InvalidModel(format!(
            "model {:?} fails {role}: {fails}; pick another model (`nxr models best-free --role {role}` shows the best free one, `nxr models explain {} --role {role}` the details), or pass --force to use it anyway",
            choice.id, choice.id
        )));
    }
    choice.score = Some(i64::from(scored.total));
    Ok(choice)
}

/// A warning for a paid OpenRouter model when `$HERMES_HOME/.env` has no OpenRouter key.
fn paid_without_key_warning(env: &Env, choice: &ModelChoice) -> Option<String> {
    if choice.is_free || choice.provider != "openrouter" {
        return None;
    }
    match crate::domain::secrets::openrouter_key(env) {
        Ok(Some(_)) => None,
        _ => Some(format!(
            "{} is a paid model and no OpenRouter key is set ({} has no OPENROUTER_API_KEY), so the agent's requests will fail until you add one: `nxr config set openrouter-key sk-or-…`",
            choice.id,
            crate::domain::secrets::env_file(env).display()
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
            crate::domain::leftovers::remove_staging_dirs(&home)
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
    let _lock = agents_lock(env).await;
    // 1. Validate everything before touching anything.
    let name = validate_name(&new.name)?;
    if get_by_name(store, env, &name).await.is_ok() {
        return Err(AgentError::Duplicate(name));
    }
    let profile = hermes::profile_for(&env.hermes_home, new.role, &name)?;
    for other in list(store, env).await? {
        if other.hermes_profile == profile.name {
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
    }
    let mut notes = Vec::new();
    let mut adopt = false;
    if !profile.is_root() && profile.dir.exists() {
        if crate::domain::leftovers::made_by_nxr(&profile, new.role, &name) {
            // nxr made this directory and no agent row has it. With the agents lock held, no other
            // nxr is creating it right now: it is left over from an interrupted change, and is
            // adopted (its model, persona and skills are set again; anything else in it is kept).
            // Without the lock, it may be another nxr's create in progress.
            if _lock.is_none() {
                return Err(AgentError::Duplicate(name));
            }
            adopt = true;
            notes.push(format!(
                "adopted the profile directory {} that an interrupted change left without its agent: its model, persona and skills were set again, anything else in it was kept",
                profile.dir.display()
            ));
        } else {
            return Err(AgentError::InvalidName(format!(
                "a Hermes profile named {:?} already exists at {} and nxr did not create it; pick another agent name, or remove that profile (`hermes profile delete {}`)",
                profile.name,
                profile.dir.display(),
                profile.name
            )));
        }
    }
    let skillset = match &new.skills {
        Some(list) => skills::validate(list)?,
        None => skills::default_skills(new.role, new.category.as_deref())?,
    };
    let catalog = crate::domain::catalog::load(store).await?;
    let (choice, auto) = match new.model.as_deref().map(str::trim) {
        Some(m) if !m.is_empty() => (
            checked_choice(store, &catalog, new.role, m, opts.force).await?,
            false,
        ),
        _ => (
            best_free_choice(store, env, &catalog, new.role).await?,
            true,
        ),
    };
    // A config.yaml already in the root profile must parse before anything is written; a model the
    // user chose there is kept (a dated backup of the file, and a record) so it can be restored.
    let mut user_model = None;
    if profile.is_root() {
        hermes::get_config(&profile.config_path(), "model")?;
        user_model = crate::domain::user_model::read(&profile.config_path())?
            .filter(|u| u.model != choice.id);
        let own = profile.nxr_skills_dir();
        for s in &skillset {
            check_skill_dir_is_ours(&own.join(s))?;
        }
    }

    // 2. Disk.
    let mut disk = DiskTxn::default();
    if let Some(user) = &mut user_model {
        let config = profile.config_path();
        match crate::domain::user_model::backup_config(&config, store.now()) {
            Ok(backup) => {
                disk.undo.push(Undo::RestoreFile(backup.clone(), None));
                notes.push(format!(
                    "{name} uses the root Hermes profile, whose model you set to {}: it changes to {} (in {}); your config.yaml was backed up to {}; `nxr agents revert {name}` goes back to your model",
                    user.describe(),
                    choice.id,
                    config.display(),
                    backup.display()
                ));
                user.config_backup = Some(backup.display().to_string());
            }
            Err(e) => return Err(e.into()),
        }
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
    )
    .await
    {
        Ok(id) => {
            disk.commit();
            notes.extend(paid_without_key_warning(env, &choice));
            Ok((get(store, env, id).await?, notes))
        }
        Err(e) => {
            disk.rollback();
            Err(e)
        }
    }
}

/// Writes an agent's profile: a new one is built whole in a temp dir and renamed into place; the root
/// profile and an adopted one (`adopt`) are edited in place, keeping what nxr does not own.
#[allow(clippy::too_many_arguments)]
fn write_profile(
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
                &profile.dir.join(crate::domain::leftovers::MARKER_FILE),
                crate::domain::leftovers::marker(role, name).as_bytes(),
            )?;
            // Like a new profile, an adopted one gets the secrets nxr manages in its own .env.
            disk.remember_file(&crate::domain::credentials::profile_env_file(profile))?;
            crate::domain::credentials::sync_profile(env, profile)?;
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
        &staged.dir.join(crate::domain::leftovers::MARKER_FILE),
        crate::domain::leftovers::marker(role, name).as_bytes(),
        0o644,
    )?;
    // A named profile reads only its own .env: it starts with the secrets nxr manages (the key).
    let seed = crate::domain::credentials::seed_for_new_profile(env)?;
    crate::domain::secrets::write_private(
        &crate::domain::credentials::profile_env_file(&staged),
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
fn place_profile(staged: &Path, dest: &Path, name: &str) -> Result<(), AgentError> {
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

fn write_skill(disk: &mut DiskTxn, profile: &Profile, skill: &str) -> Result<(), AgentError> {
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
fn check_skill_dir_is_ours(dir: &Path) -> Result<(), AgentError> {
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
async fn insert_row(
    store: &Store,
    name: &str,
    role: Role,
    choice: &ModelChoice,
    auto: bool,
    skillset: &[String],
    is_default: bool,
    user_model: Option<&crate::domain::user_model::UserModel>,
) -> Result<i64, AgentError> {
    let now = crate::domain::clock::to_db(store.now());
    let skillset_json =
        serde_json::to_string(skillset).map_err(|e| AgentError::Other(e.to_string()))?;
    // One transaction on a connection of its own: `last_insert_rowid()` must be read on the connection
    // that ran the INSERT, and the shared connection may be running other callers' statements.
    let outcome = store
        .in_transaction(|conn| async move {
            conn.execute(
                "INSERT INTO agents (name, model, provider, status, created_at, updated_at, role, skillset, \
                 model_score, model_auto_assigned, workspace_id, is_default) \
                 VALUES (?1, ?2, ?3, 'active', ?4, ?4, ?5, ?6, ?7, ?8, 'default', ?9)",
                params![
                    name,
                    choice.id.as_str(),
                    choice.provider.as_str(),
                    now.as_str(),
                    role.as_str(),
                    skillset_json.as_str(),
                    choice.score,
                    i64::from(auto),
                    i64::from(is_default)
                ],
            )
            .await?;
            let id = conn.last_insert_rowid();
            conn.execute(
                "INSERT INTO agent_model_history (agent_id, from_model, to_model, reason, changed_at) \
                 VALUES (?1, NULL, ?2, ?3, ?4)",
                params![
                    id,
                    choice.id.as_str(),
                    if auto {
                        "created: best free model for the role"
                    } else {
                        "created: chosen by the user"
                    },
                    now.as_str()
                ],
            )
            .await?;
            if let Some(user) = user_model {
                crate::domain::user_model::record(&conn, id, user, &now).await?;
            }
            Ok(id)
        })
        .await;
    match outcome {
        Ok(id) => Ok(id),
        Err(e) if e.to_string().contains("UNIQUE") => Err(AgentError::Duplicate(name.to_string())),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Updating
// ---------------------------------------------------------------------------------------------------------

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
    switch_journal::recover_locked(store).await?;
    validate_model_syntax(&choice.id)?;
    let agent = resolve(store, env, name_or_id).await?;
    let profile = agent.usable_profile()?;
    // The journal row goes first: a crash after the file write is undone by the next nxr.
    switch_journal::begin(store, agent.id, &profile.config_path(), &choice.id).await?;
    let mut disk = DiskTxn::default();
    if let Err(e) = disk
        .create_dir_all(&profile.dir)
        .and_then(|_| disk.set_config(&profile.config_path(), &model_edits(env, choice)))
    {
        disk.rollback();
        switch_journal::abandon(store, agent.id).await;
        return Err(e.into());
    }
    let now = crate::domain::clock::to_db(store.now());
    let (agent_id, from_model) = (agent.id, agent.model.as_str());
    let result = store
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
                "INSERT INTO agent_model_history (agent_id, from_model, to_model, reason, changed_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    agent_id,
                    from_model,
                    choice.id.as_str(),
                    reason,
                    now.as_str()
                ],
            )
            .await?;
            switch_journal::finish_in(&conn, agent_id).await
        })
        .await;
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
    let profile = agent.usable_profile()?;
    let own = profile.nxr_skills_dir();
    for s in &desired {
        check_skill_dir_is_ours(&own.join(s))?;
    }
    let stale: Vec<PathBuf> = hermes::skills_on_disk(&profile)
        .into_iter()
        .filter(|s| s.category == hermes::NXR_SKILL_CATEGORY && s.nxr_managed)
        .filter(|s| !desired.contains(&s.name))
        .filter_map(|s| s.path.parent().map(Path::to_path_buf))
        .collect();

    let mut disk = DiskTxn::default();
    let written = async {
        for dir in &stale {
            disk.move_aside(dir)?;
        }
        for s in &desired {
            write_skill(&mut disk, &profile, s)?;
        }
        Ok::<(), AgentError>(())
    }
    .await;
    if let Err(e) = written {
        disk.rollback();
        return Err(e);
    }
    let now = crate::domain::clock::to_db(store.now());
    let json = serde_json::to_string(&desired).map_err(|e| AgentError::Other(e.to_string()))?;
    let updated = store
        .conn()
        .execute(
            "UPDATE agents SET skillset = ?1, updated_at = ?2 WHERE id = ?3",
            params![json.as_str(), now.as_str(), agent.id],
        )
        .await;
    match updated {
        Ok(_) => {
            disk.commit();
            // An empty skills/nxr dir is left by removing the last skill; tidy it.
            let _ = std::fs::remove_dir(&own);
            get(store, env, agent.id).await
        }
        Err(e) => {
            disk.rollback();
            Err(e.into())
        }
    }
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
    let moved = if agent.usable_profile().is_err() || opts.keep_profile {
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
        let to = crate::domain::leftovers::profile_backup_path(
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
            if !opts.keep_profile {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(validate_name("PM 1").is_ok());
        for bad in [
            "",
            "   ",
            "a/b",
            "a\\b",
            "x..y",
            "bad\nname",
            "tab\tname",
            "!!!",
        ] {
            assert!(validate_name(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(validate_name(&"a".repeat(65)).is_err());
        assert!(validate_name(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn hostile_model_ids_are_refused() {
        for bad in ["", "a b", "x\ny", "m: {x}", "a#b", "\"q\"", "a'b"] {
            assert!(validate_model_syntax(bad).is_err(), "{bad:?}");
        }
        assert!(validate_model_syntax("meta-llama/llama-3.3-70b-instruct:free").is_ok());
    }

    #[test]
    fn a_profile_placed_first_by_another_create_is_a_duplicate_not_a_permissions_problem() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("pm");
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("SOUL.md"), "the winner's").unwrap();
        let staged = root.path().join(".nxr-tmp-x");
        std::fs::create_dir(&staged).unwrap();
        std::fs::write(staged.join("SOUL.md"), "the loser's").unwrap();
        let err = place_profile(&staged, &dest, "Same").unwrap_err();
        assert!(
            matches!(err, AgentError::Duplicate(ref n) if n == "Same"),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains("already exists (or is being created right now)"),
            "{text}"
        );
        assert!(!text.contains("writable"), "{text}");
        assert!(!staged.exists(), "the loser's temp dir is removed");
        assert_eq!(
            std::fs::read_to_string(dest.join("SOUL.md")).unwrap(),
            "the winner's"
        );
    }

    #[test]
    fn echoed_input_is_cut_to_sixty_characters() {
        let long = "é".repeat(10_000);
        let err = validate_name(&long).unwrap_err().to_string();
        assert!(err.len() < 400, "{} bytes: {err}", err.len());
        assert!(err.contains(&format!("{}…", "é".repeat(60))), "{err}");
        assert!(err.contains("10000 characters"), "{err}");
        let err = AgentError::NotFound("x".repeat(10_000)).to_string();
        assert!(err.len() < 200, "{err}");
        let err = validate_model_syntax(&"m ".repeat(5_000))
            .unwrap_err()
            .to_string();
        assert!(err.len() < 400, "{err}");
        assert_eq!(echo("short"), "short");
    }

    #[test]
    fn non_ascii_names_are_transliterated_for_the_profile() {
        let home = Path::new("/h");
        let p = hermes::profile_for(home, Role::Pm, "Ünï").unwrap();
        assert_eq!(p.name, "uni");
        assert_eq!(validate_name("Ünï").unwrap(), "Ünï");
        assert_eq!(
            hermes::profile_for(home, Role::Pm, "Café Crème")
                .unwrap()
                .name,
            "cafe-creme"
        );
        // Letters of other scripts are letters: they name a profile too.
        assert!(validate_name("默认").is_ok());
        assert!(
            !hermes::profile_for(home, Role::Pm, "默认")
                .unwrap()
                .name
                .is_empty()
        );
        // Nothing ASCII left: say so accurately.
        let err = validate_name("!!!").unwrap_err().to_string();
        assert!(
            err.contains("needs at least one ASCII letter or digit"),
            "{err}"
        );
        assert!(!err.contains("has no letters"), "{err}");
    }
}
