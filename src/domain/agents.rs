//! Agents: create, list, get, update, delete. Each agent is a Hermes profile (DESIGN.md §5) and a row in
//! `agents`; the two never disagree. Owner: the agents issue.
//! INTERFACE PINNED for other modules (onboarding, TUI, web): `NewAgent`, `Agent`, `AgentError`,
//! `create`, `list`, `get_by_name`, `get`, `set_model`, `set_skills`, `delete`. Fill in; keep signatures (extend if needed).

use crate::domain::env::Env;
use crate::domain::roles::Role;
use crate::domain::store::Store;
use serde::Serialize;

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

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("{0}")]
    InvalidName(String),
    #[error("an agent named {0:?} already exists; pick another name or remove the old agent")]
    Duplicate(String),
    #[error("no agent named {0:?}; `nxr agents list` shows the agents")]
    NotFound(String),
    #[error("{0}")]
    Other(String),
}

pub async fn create(_store: &Store, _env: &Env, _new: NewAgent) -> Result<Agent, AgentError> {
    Err(AgentError::Other("not built yet".into()))
}

pub async fn list(_store: &Store, _env: &Env) -> Result<Vec<Agent>, AgentError> {
    Err(AgentError::Other("not built yet".into()))
}
