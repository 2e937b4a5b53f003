//! Agents: create, list, get, update, delete. Each agent is a Hermes profile (docs/design.md §5) and a row in
//! `agents`; the two never disagree. The surfaces (CLI, TUI, onboarding, web) call `create`, `list`,
//! `get_by_name`, `get`, `set_model`, `set_skills` and `delete`; none of them edits a profile or the table itself.
//!
//! Every change follows one order so that an error leaves the database and the disk as they were:
//! validate everything first; write the disk (new profiles are built in a temp dir and renamed into place,
//! edits to existing files are atomic and remembered); then write the database in one transaction; if that
//! fails, undo the disk changes.

pub mod credentials;
pub mod fallbacks;
pub mod gateway;
pub mod gateway_control;
pub mod hermes;
pub mod hermes_run;
pub mod leftovers;
pub mod reconcile;
pub mod relay_route;
pub mod skills;
pub mod switch_journal;
pub mod team_slots;
pub mod user_model;

use crate::domain::base::env::Env;
use crate::domain::base::roles::Role;
use crate::domain::catalog::Catalog;
use crate::domain::store::Store;
use hermes::{ConfigValue, HermesError, Profile};
use libsql::params;
use serde::Serialize;
use skills::SkillError;
use std::path::{Path, PathBuf};

mod create;
mod disk;
mod model;
mod update;

pub use create::*;
use disk::*;
pub use model::*;
pub use update::*;

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
    /// The host the agent runs on; None = this host (`base::host`).
    pub host: Option<String>,
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
    /// The host the agent runs on (its Hermes profile lives there; see `base::host`); empty for an
    /// agent from before hosts that no host has claimed yet.
    pub host: String,
}

impl Agent {
    /// True when this machine keeps the agent's profile: always with a database file of this
    /// machine's own (there is one host), else when the agent is assigned to this host. Changes to
    /// an agent that is not here go to the database only; its own host makes its files agree.
    pub fn is_here(&self, env: &Env) -> bool {
        env.db_url.is_none() || self.host == crate::domain::base::host::this_host(env)
    }

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
    #[error("no agent named {:?}", echo(.0))]
    NotFound(String),
    #[error("{0}")]
    Other(String),
    /// No free model, no router and no local model: no agent is put on a dead endpoint.
    #[error(
        "no model nxr can reach for the {role} role: no free model in the catalog meets its requirements, the catalog has no openrouter/free router, and Ollama at {ollama_url} offers no local Qwen model{}; nxr put no agent on a model it cannot reach",
        aside(.why)
    )]
    NoReachableModel {
        role: Role,
        ollama_url: String,
        /// Why each link of the chain was passed over.
        why: String,
        /// The local model Ollama would need.
        local_model: String,
    },
    /// A model id that is malformed.
    #[error(
        "invalid model id {:?}: a model id has only letters, digits and / . _ : - @ ~ + (e.g. \"meta-llama/llama-3.3-70b-instruct:free\")",
        echo(.0)
    )]
    InvalidModel(String),
    /// A well-formed model id the catalog does not have.
    #[error("model {:?} is not in the catalog{}", echo(.model), close_ids(.close))]
    NotInCatalog {
        model: String,
        /// Catalog ids that look alike.
        close: Vec<String>,
    },
    /// Going back to a model nxr never recorded.
    #[error("{}", match .kind {
        RevertKind::UserModel => format!("nxr did not replace a model of yours for agent {:?} (it recorded none when it set the agent up), so there is nothing to go back to", echo(.agent)),
        RevertKind::Earlier => format!("{} has no earlier model to go back to (its model was never changed)", .agent),
    })]
    NothingToRevert { agent: String, kind: RevertKind },
    /// A model that fails the role's hard requirements, chosen without forcing it. Each surface words
    /// its own way past it (another model, or forcing it).
    #[error("model {model:?} fails {role}: {}", crate::domain::scoring::describe_exclusions(.exclusions))]
    ModelFailsRole {
        model: String,
        role: Role,
        exclusions: Vec<crate::domain::scoring::Exclusion>,
    },
    #[error(transparent)]
    Skills(#[from] SkillError),
    #[error(transparent)]
    Hermes(#[from] HermesError),
    #[error(transparent)]
    Secret(#[from] crate::domain::store::secrets::SecretError),
    #[error("database error: {0}; nothing was changed")]
    Db(String),
}

/// Which earlier model a revert looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevertKind {
    /// The user's own model, from before nxr set the agent up.
    UserModel,
    /// The model before the last change.
    Earlier,
}

fn aside(why: &str) -> String {
    if why.is_empty() {
        String::new()
    } else {
        format!(" ({why})")
    }
}

fn close_ids(close: &[String]) -> String {
    if close.is_empty() {
        String::new()
    } else {
        format!("; close ids: {}", close.join(", "))
    }
}

impl crate::domain::base::hint::Hinted for AgentError {
    fn hints(&self) -> Vec<crate::domain::base::hint::Hint> {
        use crate::domain::base::hint::Hint;
        match self {
            AgentError::NotFound(_) => vec![Hint::ListAgents],
            AgentError::InvalidModel(_) => vec![Hint::ListModels],
            AgentError::NotInCatalog { .. } => vec![Hint::ListModels, Hint::RefreshCatalog],
            AgentError::NoReachableModel { local_model, .. } => vec![
                Hint::RefreshCatalog,
                Hint::PullLocalModel {
                    model: local_model.clone(),
                },
                Hint::PickModel,
            ],
            AgentError::NothingToRevert { agent, kind } => match kind {
                RevertKind::UserModel => vec![Hint::ListAgents],
                RevertKind::Earlier => vec![Hint::ChooseModelFor {
                    agent: agent.clone(),
                }],
            },
            AgentError::ModelFailsRole { model, role, .. } => vec![
                Hint::OtherModelForRole {
                    model: model.clone(),
                    role: *role,
                },
                Hint::ForceModel,
            ],
            AgentError::InvalidName(_)
            | AgentError::Skills(_)
            | AgentError::Duplicate(_)
            | AgentError::Other(_)
            | AgentError::Hermes(_)
            | AgentError::Secret(_)
            | AgentError::Db(_) => Vec::new(),
        }
    }
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
    if let Some(c) = crate::domain::base::text::first_invisible(trimmed) {
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
        Err(AgentError::InvalidModel(model.to_string()))
    }
}

const COLUMNS: &str = "id, name, role, model, provider, status, skillset, model_score, model_auto_assigned, \
                       workspace_id, is_default, created_at, updated_at, host";

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
        host: row.get(13)?,
    })
}

/// Every agent, oldest first.
pub async fn list(store: &Store, env: &Env) -> Result<Vec<Agent>, AgentError> {
    // A model switch a killed process left half done is undone first, so no caller sees an agent
    // whose config.yaml and row disagree.
    switch_journal::recover(store, env).await?;
    list_rows(store, env).await
}

/// Every agent, oldest first, as the database has them (no journal recovery: for a caller that
/// holds the agents lock).
pub(crate) async fn list_rows(store: &Store, env: &Env) -> Result<Vec<Agent>, AgentError> {
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
