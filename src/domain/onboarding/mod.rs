//! Onboarding: the five steps of `nxr init` and of the `/setup` web wizard, as domain functions both
//! surfaces call, so they end in the same database and disk state.
//!
//! 1. key choice — free (no key) or an OpenRouter key, validated with `GET /key` before it is stored;
//! 2. local tools — Ollama (`/api/tags`) and faster-whisper;
//! 3. catalog — a live refresh from OpenRouter (short timeouts), else the stored or embedded catalog;
//! 4. agents — the three defaults (PM, Engineer, Hermes) on the best free model per role; with Ollama,
//!    the auxiliary slots that suit a small local model go to it; with faster-whisper, `stt.provider: local`;
//! 5. finish — the record is completed; the summary tells the free tier's limits and how to add a key.
//!
//! The `onboarding` row is created at step 1 and completed at step 5. A completed record means "set up":
//! running again reports it and creates nothing; [`reset`] is the explicit way to start over.

pub mod whisper;

use crate::domain::agents::credentials::{self, CredentialError};
use crate::domain::agents::hermes::{self, ConfigValue, HermesError};
use crate::domain::agents::{self, Agent, AgentError, NewAgent};
use crate::domain::base::clock::{self, Clock};
use crate::domain::base::env::Env;
use crate::domain::base::roles::Role;
use crate::domain::catalog::ollama;
use crate::domain::catalog::openrouter::{
    KeyInfo, OpenRouterClient, OpenRouterError, RetryPolicy, Timeouts,
};
use crate::domain::catalog::{self, CatalogSource};
use crate::domain::store::secrets::{self, SecretError};
use crate::domain::store::{Store, StoreError};
use libsql::params;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;
use whisper::WhisperDetection;

mod agents_step;
mod catalog_step;
mod detect_step;
mod key_step;
mod record;

pub use agents_step::*;
pub use catalog_step::*;
pub use detect_step::*;
pub use key_step::*;
pub use record::*;

/// The three agents onboarding creates: (name, role).
pub const DEFAULT_AGENTS: [(&str, Role); 3] = [
    ("PM", Role::Pm),
    ("Engineer", Role::Engineer),
    ("Hermes", Role::Hermes),
];

/// Auxiliary slots routed to a local Ollama model when one is there. Each is a short, frequent call
/// where a small local model does well and where every call saved is one request less against the free
/// tier's 20/min and 50/day: `compression` (summarising old turns; also keeps the conversation local),
/// `approval` (a yes/no safety classification of a command), `title_generation` (a few words per
/// session) and `session_search` (older Hermes versions; newer ones ignore the key). Vision, web
/// extraction, the skills hub and MCP stay on the provider: they need vision support or long contexts.
pub const LOCAL_SLOTS: [&str; 4] = [
    "compression",
    "approval",
    "title_generation",
    "session_search",
];

/// What to pull when Ollama has no model.
pub const SUGGESTED_LOCAL_MODEL: &str = "qwen3:8b";

/// The step names, in order, as stored in `steps_completed`.
pub const STEPS: [&str; 5] = ["key", "detect", "catalog", "agents", "finish"];

/// The free tier, in words (shown at the end of onboarding and on /setup).
pub const FREE_TIER_NOTES: [&str; 3] = [
    "Free models on OpenRouter allow 20 requests per minute and 50 requests per day; a one-time purchase of 10 credits raises that to 1000 free-model requests per day.",
    "Running agents on OpenRouter's free models needs a free OpenRouter account key (no credits needed): create one at https://openrouter.ai/keys.",
    "Add the key with `nxr config set openrouter-key <key>` (stored in $HERMES_HOME/.env, mode 0600).",
];

#[derive(Debug, thiserror::Error)]
pub enum OnboardingError {
    #[error("{0} — nothing was created or stored")]
    InvalidKey(OpenRouterError),
    #[error("cannot check the OpenRouter key: {0} — nothing was created or stored")]
    KeyCheck(OpenRouterError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot set up the default agents: {0}")]
    Agent(#[from] AgentError),
    #[error("cannot write the Hermes configuration: {0}")]
    Hermes(#[from] HermesError),
    #[error("onboarding step {step:?} must come after {needs:?}")]
    OutOfOrder {
        step: &'static str,
        needs: &'static str,
    },
    #[error("nxr is already set up (completed {completed_at})")]
    AlreadyDone { completed_at: String },
}

impl From<libsql::Error> for OnboardingError {
    fn from(e: libsql::Error) -> Self {
        OnboardingError::Store(StoreError::Sql(e))
    }
}

pub type Result<T, E = OnboardingError> = std::result::Result<T, E>;

/// Free models only, or a key too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Free,
    Key,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Free => "free",
            Mode::Key => "key",
        }
    }
}

/// Step 1's input.
#[derive(Clone, PartialEq, Eq)]
pub enum KeyChoice {
    Free,
    Key(String),
}

impl std::fmt::Debug for KeyChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyChoice::Free => f.write_str("Free"),
            KeyChoice::Key(k) => write!(f, "Key({})", secrets::mask(k)),
        }
    }
}

/// How long onboarding waits for the outside world. Short: offline onboarding must finish in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Probes {
    pub ollama: Duration,
    pub whisper: Duration,
    pub openrouter: Timeouts,
}

impl Default for Probes {
    fn default() -> Self {
        Probes {
            ollama: Duration::from_millis(800),
            whisper: whisper::DEFAULT_TIMEOUT,
            openrouter: Timeouts {
                connect: Duration::from_millis(1500),
                request: Duration::from_millis(3000),
            },
        }
    }
}

/// The `onboarding` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    pub id: i64,
    pub mode: Mode,
    pub started_at: String,
    pub completed_at: Option<String>,
    pub agents_created: Vec<String>,
    /// role → model id.
    pub initial_free_models: BTreeMap<String, String>,
    pub ollama_detected: bool,
    pub faster_whisper_detected: bool,
    pub steps_completed: Vec<String>,
}

impl Record {
    pub fn is_complete(&self) -> bool {
        self.completed_at.is_some()
    }

    pub fn has_step(&self, step: &str) -> bool {
        self.steps_completed.iter().any(|s| s == step)
    }

    /// The next step to run (`None` when complete).
    pub fn next_step(&self) -> Option<&'static str> {
        if self.is_complete() {
            return None;
        }
        STEPS.iter().copied().find(|s| !self.has_step(s))
    }
}

/// Step 2's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detections {
    pub ollama: OllamaDetection,
    pub faster_whisper: WhisperDetection,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OllamaDetection {
    pub url: String,
    pub available: bool,
    /// The pulled models (`/api/tags`).
    pub models: Vec<String>,
    /// The model the local slots would use (a Qwen when there is one).
    pub local_model: Option<String>,
    pub detail: String,
}

/// Step 3's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogStep {
    pub source: CatalogSource,
    /// True when this run fetched it from OpenRouter.
    pub live: bool,
    pub model_count: usize,
    pub free_count: usize,
    /// One line for the user: "catalog: embedded snapshot of 2026-05-01 (…)".
    pub description: String,
}

/// One default agent after step 4.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DefaultAgent {
    pub name: String,
    pub role: Role,
    pub model: String,
    pub skills: Vec<String>,
    pub hermes_profile: String,
    /// False when it already existed (nothing was created twice).
    pub created: bool,
    /// Why the agent is on a link of the fallback chain (`openrouter/free`, a local model), if it is.
    pub fallback: Option<String>,
}

/// Step 4's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentsStep {
    pub agents: Vec<DefaultAgent>,
    /// Slots routed to the local model, per Hermes profile.
    pub local_slots: BTreeMap<String, Vec<String>>,
    pub local_model: Option<String>,
    pub local_base_url: Option<String>,
    pub stt_local: bool,
    pub notes: Vec<String>,
}

/// The end state both surfaces show (`nxr init --json`, the /setup summary).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub record: Option<Record>,
    pub agents: Vec<DefaultAgent>,
    pub catalog: String,
    /// The stored key, masked (`sk-or-…abcd`), if any.
    pub openrouter_key: Option<String>,
    pub free_tier: Vec<String>,
}

/// Step 5: completes the record (and closes any other unfinished one).
pub async fn step_finish(store: &Store, clock: &dyn Clock) -> Result<Record> {
    let rec = in_progress(store, "finish", "agents").await?;
    let steps = with_step(&rec.steps_completed, "finish");
    complete(store, rec.id, steps, clock::to_db(clock.now())).await?;
    record(store, rec.id).await
}

/// The end state: the record, the default agents, the catalog in use, the key (masked) and the free tier.
pub async fn summary(env: &Env, store: &Store) -> Result<Summary> {
    let record = latest(store).await?;
    let all = agents::list(store, env).await.unwrap_or_default();
    let agents = DEFAULT_AGENTS
        .iter()
        .filter_map(|(name, role)| find_default(&all, name, *role))
        .map(|a| default_view(a, false))
        .collect();
    let catalog = catalog::load(store).await?.source.describe();
    let openrouter_key = secrets::openrouter_key(env)
        .ok()
        .flatten()
        .map(|k| secrets::mask(&k));
    Ok(Summary {
        record,
        agents,
        catalog,
        openrouter_key,
        free_tier: FREE_TIER_NOTES.iter().map(|s| s.to_string()).collect(),
    })
}

/// What one step reported, for a surface that prints steps as they run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum StepReport {
    Key { mode: Mode },
    Detect(Detections),
    Catalog(CatalogStep),
    Agents(AgentsStep),
    Finish(Record),
}

/// The outcome of a whole run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InitOutcome {
    /// True when nxr was already set up and nothing was done.
    pub already_done: bool,
    pub summary: Summary,
}

/// All five steps in order (the CLI). `report` is called after each step.
pub async fn run(
    env: &Env,
    store: &Store,
    choice: &KeyChoice,
    probes: &Probes,
    clock: &dyn Clock,
    report: &mut (dyn FnMut(&StepReport) + Send),
) -> Result<InitOutcome> {
    if completed(store).await?.is_some() {
        return Ok(InitOutcome {
            already_done: true,
            summary: summary(env, store).await?,
        });
    }
    // The root profile's config.yaml must be readable (not broken, not a dangling link) before
    // anything is stored.
    hermes::get_config(
        &hermes::profile_named(&env.hermes_home, hermes::ROOT_PROFILE).config_path(),
        "model",
    )?;
    let rec = match step_key(env, store, choice, probes, clock).await {
        Err(OnboardingError::AlreadyDone { .. }) => return already_done(env, store).await,
        r => r?,
    };
    report(&StepReport::Key { mode: rec.mode });
    // The steps below continue this run's record by id. When another run (a second `nxr init`, the
    // /setup wizard) completes it first, this run stops there and reports nxr as set up: agents are
    // never created twice (see `ensure_default_agents`) and no second record is left behind.
    // Step 3's download needs no database: it runs while step 2 probes the local tools.
    let (found, fetched) = tokio::join!(
        detect_local_tools(env, store, probes),
        fetch_catalog(env, probes)
    );
    if !advance_detect(store, rec.id, &found).await? {
        return already_done(env, store).await;
    }
    report(&StepReport::Detect(found.clone()));
    let cat = apply_catalog(store, fetched, clock).await?;
    if !advance(store, rec.id, "catalog", "", Vec::new()).await? {
        return already_done(env, store).await;
    }
    report(&StepReport::Catalog(cat));
    let made = ensure_default_agents(env, store, &found).await?;
    if !advance_agents(store, rec.id, &made).await? {
        return already_done(env, store).await;
    }
    report(&StepReport::Agents(made));
    let steps = STEPS.iter().map(|s| s.to_string()).collect();
    if !complete(store, rec.id, steps, clock::to_db(clock.now())).await? {
        return already_done(env, store).await;
    }
    report(&StepReport::Finish(record(store, rec.id).await?));
    Ok(InitOutcome {
        already_done: false,
        summary: summary(env, store).await?,
    })
}

/// The outcome when another run completed the setup first; an error when the record is gone instead
/// (a reset meanwhile).
async fn already_done(env: &Env, store: &Store) -> Result<InitOutcome> {
    if completed(store).await?.is_none() {
        return Err(OnboardingError::OutOfOrder {
            step: "finish",
            needs: "key",
        });
    }
    Ok(InitOutcome {
        already_done: true,
        summary: summary(env, store).await?,
    })
}

impl crate::domain::base::hint::Hinted for OnboardingError {
    fn hints(&self) -> Vec<crate::domain::base::hint::Hint> {
        #[allow(unused_imports)]
        use crate::domain::base::hint::{Hint, Hinted};
        match self {
            OnboardingError::InvalidKey(e) => e.hints(),
            OnboardingError::KeyCheck(_) => vec![Hint::SetUpWithoutKey, Hint::AddOpenRouterKey],
            OnboardingError::OutOfOrder { .. } => vec![Hint::RestartSetup],
            OnboardingError::AlreadyDone { .. } => vec![Hint::StartSetupOver],
            OnboardingError::Store(e) => e.hints(),
            OnboardingError::Agent(e) => e.hints(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_model_prefers_the_largest_qwen() {
        let m = |v: &[&str]| local_model(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            m(&["llama3.2:3b", "qwen3:8b", "qwen2.5:14b"]).as_deref(),
            Some("qwen2.5:14b")
        );
        assert_eq!(
            m(&["llama3.2:3b", "qwen3:latest"]).as_deref(),
            Some("qwen3:latest")
        );
        assert_eq!(m(&["llama3.2:3b"]).as_deref(), Some("llama3.2:3b"));
        assert_eq!(m(&[]), None);
    }
}
