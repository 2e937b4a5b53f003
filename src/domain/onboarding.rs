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

use crate::domain::agents::{self, Agent, AgentError, NewAgent};
use crate::domain::catalog::{self, CatalogSource};
use crate::domain::clock::{self, Clock};
use crate::domain::credentials::{self, CredentialError};
use crate::domain::env::Env;
use crate::domain::hermes::{self, ConfigValue, HermesError};
use crate::domain::ollama;
use crate::domain::openrouter::{
    KeyInfo, OpenRouterClient, OpenRouterError, RetryPolicy, Timeouts,
};
use crate::domain::roles::Role;
use crate::domain::secrets::{self, SecretError};
use crate::domain::store::{Store, StoreError};
use crate::domain::whisper::{self, WhisperDetection};
use libsql::params;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

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
    #[error(
        "cannot check the OpenRouter key: {0} — nothing was created or stored; run `nxr init --free` now and add the key later with `nxr config set openrouter-key <key>`"
    )]
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
    #[error(
        "onboarding step {step:?} must come after {needs:?}; start again from /setup or `nxr init`"
    )]
    OutOfOrder {
        step: &'static str,
        needs: &'static str,
    },
    #[error(
        "nxr is already set up (completed {completed_at}); `nxr init --reset` starts over (agents are kept)"
    )]
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

// ---------------------------------------------------------------------------------------------------------
// The record
// ---------------------------------------------------------------------------------------------------------

fn json_list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

fn json_map(s: &str) -> BTreeMap<String, String> {
    serde_json::from_str(s).unwrap_or_default()
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

const RECORD_COLUMNS: &str = "id, mode, started_at, completed_at, agents_created, initial_free_models, ollama_detected, faster_whisper_detected, steps_completed";

fn record_from_row(row: &libsql::Row) -> Result<Record, libsql::Error> {
    let mode: String = row.get(1)?;
    Ok(Record {
        id: row.get(0)?,
        mode: if mode == "key" { Mode::Key } else { Mode::Free },
        started_at: row.get(2)?,
        completed_at: row.get::<Option<String>>(3)?,
        agents_created: json_list(&row.get::<String>(4)?),
        initial_free_models: json_map(&row.get::<String>(5)?),
        ollama_detected: row.get::<i64>(6)? != 0,
        faster_whisper_detected: row.get::<i64>(7)? != 0,
        steps_completed: json_list(&row.get::<String>(8)?),
    })
}

/// The latest onboarding record (complete or not).
pub async fn latest(store: &Store) -> Result<Option<Record>> {
    let mut rows = store
        .conn()
        .query(
            &format!("SELECT {RECORD_COLUMNS} FROM onboarding ORDER BY id DESC LIMIT 1"),
            (),
        )
        .await?;
    Ok(match rows.next().await? {
        Some(row) => Some(record_from_row(&row)?),
        None => None,
    })
}

/// The completed record, if nxr has been set up.
pub async fn completed(store: &Store) -> Result<Option<Record>> {
    Ok(latest(store).await?.filter(Record::is_complete))
}

/// Every onboarding record, oldest first.
pub async fn all_records(store: &Store) -> Result<Vec<Record>> {
    let mut rows = store
        .conn()
        .query(
            &format!("SELECT {RECORD_COLUMNS} FROM onboarding ORDER BY id"),
            (),
        )
        .await?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        out.push(record_from_row(&row)?);
    }
    Ok(out)
}

async fn record(store: &Store, id: i64) -> Result<Record> {
    let mut rows = store
        .conn()
        .query(
            &format!("SELECT {RECORD_COLUMNS} FROM onboarding WHERE id = ?1"),
            params![id],
        )
        .await?;
    match rows.next().await? {
        Some(row) => Ok(record_from_row(&row)?),
        None => Err(OnboardingError::OutOfOrder {
            step: "detect",
            needs: "key",
        }),
    }
}

/// The record a step continues: the latest incomplete one, which must have done `needs`.
async fn in_progress(store: &Store, step: &'static str, needs: &'static str) -> Result<Record> {
    match latest(store).await? {
        Some(r) if r.is_complete() => Err(OnboardingError::AlreadyDone {
            completed_at: r.completed_at.unwrap_or_default(),
        }),
        Some(r) if r.has_step(needs) => Ok(r),
        _ => Err(OnboardingError::OutOfOrder { step, needs }),
    }
}

fn with_step(steps: &[String], step: &str) -> Vec<String> {
    let mut out: Vec<String> = steps.to_vec();
    if !out.iter().any(|s| s == step) {
        out.push(step.to_string());
    }
    out
}

/// Adds `step` to record `id` and sets `set` (`"col = ?1, col2 = ?2"`, numbered from 1) to `values`,
/// in one transaction. False when the record is gone or already completed (another run finished it).
async fn advance(
    store: &Store,
    id: i64,
    step: &'static str,
    set: &'static str,
    values: Vec<libsql::Value>,
) -> Result<bool> {
    Ok(store
        .in_transaction(move |conn| async move {
            let mut rows = conn
                .query(
                    "SELECT steps_completed FROM onboarding WHERE id = ?1 AND completed_at IS NULL",
                    params![id],
                )
                .await?;
            let steps = match rows.next().await? {
                Some(row) => json_list(&row.get::<String>(0)?),
                None => return Ok(false),
            };
            drop(rows);
            let n = values.len();
            let mut all = values;
            all.push(to_json(&with_step(&steps, step)).into());
            all.push(id.into());
            let sep = if set.is_empty() { "" } else { ", " };
            conn.execute(
                &format!(
                    "UPDATE onboarding SET {set}{sep}steps_completed = ?{} WHERE id = ?{}",
                    n + 1,
                    n + 2
                ),
                libsql::params_from_iter(all),
            )
            .await?;
            Ok(true)
        })
        .await?)
}

/// Completes record `id` with `steps`, and closes (removes) any other unfinished record, in one
/// transaction. False when the record is gone or was completed meanwhile.
async fn complete(store: &Store, id: i64, steps: Vec<String>, at: String) -> Result<bool> {
    Ok(store
        .in_transaction(move |conn| async move {
            let n = conn
                .execute(
                    "UPDATE onboarding SET completed_at = ?1, steps_completed = ?2 WHERE id = ?3 AND completed_at IS NULL",
                    params![at, to_json(&steps), id],
                )
                .await?;
            if n == 0 {
                return Ok(false);
            }
            conn.execute(
                "DELETE FROM onboarding WHERE completed_at IS NULL AND id <> ?1",
                params![id],
            )
            .await?;
            Ok(true)
        })
        .await?)
}

/// Forgets every onboarding record (agents, keys and config are kept). Returns how many were removed.
pub async fn reset(store: &Store) -> Result<u64> {
    Ok(store.conn().execute("DELETE FROM onboarding", ()).await?)
}

// ---------------------------------------------------------------------------------------------------------
// Step 1: key choice
// ---------------------------------------------------------------------------------------------------------

/// Validates a key with `GET /key` (401 → [`OnboardingError::InvalidKey`]) and returns what
/// OpenRouter says of it; stores nothing.
pub async fn validate_key(env: &Env, key: &str, timeouts: Timeouts) -> Result<KeyInfo> {
    secrets::check_value(secrets::OPENROUTER_KEY_VAR, key.trim())?;
    let client = OpenRouterClient::from_env(env, Some(key.trim().to_string()))
        .with_timeouts(timeouts)
        .with_retry(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        });
    match client.key().await {
        Ok(info) => Ok(info),
        Err(e @ OpenRouterError::Unauthorized { .. }) => Err(OnboardingError::InvalidKey(e)),
        Err(e) => Err(OnboardingError::KeyCheck(e)),
    }
}

/// Validates `key`, stores it in `$HERMES_HOME/.env` and in every agent profile's `.env` (0600; a
/// named Hermes profile reads only its own), then records what OpenRouter said of it that the budget
/// needs (its free-model daily limit). Nothing is stored when validation fails.
/// `nxr config set openrouter-key`, `nxr init --key` and `/setup` all come here.
pub async fn store_key(env: &Env, store: &Store, key: &str, timeouts: Timeouts) -> Result<KeyInfo> {
    let info = validate_key(env, key, timeouts).await?;
    credentials::set_openrouter_key(env, store, key.trim()).await?;
    crate::domain::budget::record_key_limits(store, &info).await?;
    Ok(info)
}

/// Step 1: takes the key choice (a key is validated, then stored in `$HERMES_HOME/.env`) and starts the
/// record. An unfinished earlier run is continued from here rather than duplicated. Refuses when nxr is
/// already set up.
pub async fn step_key(
    env: &Env,
    store: &Store,
    choice: &KeyChoice,
    probes: &Probes,
    clock: &dyn Clock,
) -> Result<Record> {
    if let Some(r) = latest(store).await?
        && r.is_complete()
    {
        return Err(OnboardingError::AlreadyDone {
            completed_at: r.completed_at.unwrap_or_default(),
        });
    }
    let mode = match choice {
        KeyChoice::Free => Mode::Free,
        KeyChoice::Key(key) => {
            store_key(env, store, key, probes.openrouter).await?;
            Mode::Key
        }
    };
    let now = clock::to_db(clock.now());
    let steps = to_json(&["key"]);
    // One transaction: runs at the same moment (two `nxr init`, the CLI and /setup) all continue the
    // newest unfinished record instead of each inserting one, and rows a crashed run left go away.
    let taken = store
        .in_transaction(move |conn| async move {
            let mut rows = conn
                .query(
                    "SELECT id, completed_at FROM onboarding ORDER BY id DESC LIMIT 1",
                    (),
                )
                .await?;
            let newest = match rows.next().await? {
                Some(row) => Some((row.get::<i64>(0)?, row.get::<Option<String>>(1)?)),
                None => None,
            };
            drop(rows);
            let id = match newest {
                Some((_, Some(completed_at))) => return Ok(Err(completed_at)),
                Some((id, None)) => {
                    conn.execute(
                        "UPDATE onboarding SET mode = ?1, started_at = ?2, steps_completed = ?3 WHERE id = ?4",
                        params![mode.as_str(), now, steps, id],
                    )
                    .await?;
                    id
                }
                None => {
                    conn.execute(
                        "INSERT INTO onboarding (mode, started_at, steps_completed) VALUES (?1, ?2, ?3)",
                        params![mode.as_str(), now, steps],
                    )
                    .await?;
                    conn.last_insert_rowid()
                }
            };
            conn.execute(
                "DELETE FROM onboarding WHERE completed_at IS NULL AND id <> ?1",
                params![id],
            )
            .await?;
            Ok(Ok(id))
        })
        .await?;
    let id = taken.map_err(|completed_at| OnboardingError::AlreadyDone { completed_at })?;
    record(store, id).await
}

// ---------------------------------------------------------------------------------------------------------
// Step 2: local tools
// ---------------------------------------------------------------------------------------------------------

/// Probes Ollama and faster-whisper at once (no side effects).
pub async fn detect_local_tools(env: &Env, store: &Store, probes: &Probes) -> Detections {
    let setting = store.setting(whisper::COMMAND_SETTING).await.ok().flatten();
    let probe = whisper::probe_command(setting.as_deref());
    let (ollama, faster_whisper) = tokio::join!(
        detect_ollama(&env.ollama_url, probes.ollama),
        whisper::detect(&probe, probes.whisper)
    );
    Detections {
        ollama,
        faster_whisper,
    }
}

/// `GET {url}/api/tags`, and the model local slots would use.
pub async fn detect_ollama(url: &str, timeout: Duration) -> OllamaDetection {
    match ollama::list_models(url, timeout).await {
        Ok(models) => {
            let local_model = local_model(&models);
            let detail = match &local_model {
                Some(m) => format!(
                    "found, {} model(s); local slots would use {m}",
                    models.len()
                ),
                None => format!(
                    "found, but no model is pulled; `ollama pull {SUGGESTED_LOCAL_MODEL}` gives nxr a local model"
                ),
            };
            OllamaDetection {
                url: url.to_string(),
                available: true,
                models,
                local_model,
                detail,
            }
        }
        Err(e) => OllamaDetection {
            url: url.to_string(),
            available: false,
            models: Vec::new(),
            local_model: None,
            detail: e.to_string(),
        },
    }
}

/// A Qwen model when Ollama has one (largest by the number in its name, then by name), else the first
/// model it lists.
pub fn local_model(models: &[String]) -> Option<String> {
    let size = |n: &str| billions_in_name(n);
    let mut qwens: Vec<&String> = models
        .iter()
        .filter(|n| n.to_ascii_lowercase().contains("qwen"))
        .collect();
    qwens.sort_by(|a, b| size(b).cmp(&size(a)).then(a.cmp(b)));
    qwens
        .first()
        .map(|s| s.to_string())
        .or_else(|| models.first().cloned())
}

/// The size in a model name such as `qwen3:8b` or `qwen2.5-coder:14b` (in tenths of billions; 0 when
/// there is none).
fn billions_in_name(name: &str) -> u64 {
    let lower = name.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut best = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'b' || i == 0 || bytes.get(i + 1).is_some_and(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        let start = lower[..i]
            .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
            .map_or(0, |p| p + 1);
        if let Ok(v) = lower[start..i].parse::<f64>() {
            best = best.max((v * 10.0) as u64);
        }
    }
    best
}

/// Step 2: detects the local tools and records what was found.
pub async fn step_detect(env: &Env, store: &Store, probes: &Probes) -> Result<Detections> {
    in_progress(store, "detect", "key").await?;
    let found = detect_local_tools(env, store, probes).await;
    record_detect(store, &found).await?;
    Ok(found)
}

/// Records step 2's findings in the row in progress.
async fn record_detect(store: &Store, found: &Detections) -> Result<()> {
    let rec = in_progress(store, "detect", "key").await?;
    advance_detect(store, rec.id, found).await?;
    Ok(())
}

async fn advance_detect(store: &Store, id: i64, found: &Detections) -> Result<bool> {
    advance(
        store,
        id,
        "detect",
        "ollama_detected = ?1, faster_whisper_detected = ?2",
        vec![
            (found.ollama.available as i64).into(),
            (found.faster_whisper.available as i64).into(),
        ],
    )
    .await
}

// ---------------------------------------------------------------------------------------------------------
// Step 3: catalog
// ---------------------------------------------------------------------------------------------------------

/// A catalog fetched from OpenRouter (or the reason it could not be), not stored yet. Fetching needs no
/// database, so `nxr init` starts it while step 2 probes the local tools.
#[derive(Debug)]
pub struct Fetched {
    result: std::result::Result<catalog::ParsedCatalog, OpenRouterError>,
    origin: String,
}

/// `GET /models` with onboarding's short timeouts and a single attempt.
pub async fn fetch_catalog(env: &Env, probes: &Probes) -> Fetched {
    let client = OpenRouterClient::from_env(env, None)
        .with_timeouts(probes.openrouter)
        .with_retry(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        });
    Fetched {
        result: client.models().await,
        origin: client.base_url().to_string(),
    }
}

/// Stores a fetched catalog; when the fetch failed (or cannot be stored), the stored catalog (or the
/// embedded snapshot) is used and the reason is said.
pub async fn apply_catalog(
    store: &Store,
    fetched: Fetched,
    clock: &dyn Clock,
) -> Result<CatalogStep> {
    let why = match fetched.result {
        Ok(parsed) => {
            let at = clock::to_db(clock.now());
            match catalog::save(store, &parsed, &at, &fetched.origin).await {
                Ok(()) => None,
                Err(e) => Some(format!("the fetched catalog could not be stored: {e}")),
            }
        }
        Err(e) => Some(e.to_string()),
    };
    let cat = catalog::load(store).await?;
    let live = why.is_none();
    let free_count = cat.models.iter().filter(|m| m.is_free()).count();
    let description = match why {
        None => format!(
            "catalog: live from OpenRouter ({} models, {free_count} free)",
            cat.models.len()
        ),
        Some(why) => format!(
            "{} ({} models, {free_count} free; a live refresh failed: {why})",
            cat.source.describe(),
            cat.models.len()
        ),
    };
    Ok(CatalogStep {
        source: cat.source.clone(),
        live,
        model_count: cat.models.len(),
        free_count,
        description,
    })
}

/// Refreshes the catalog (see [`fetch_catalog`], [`apply_catalog`]).
pub async fn load_catalog(
    env: &Env,
    store: &Store,
    probes: &Probes,
    clock: &dyn Clock,
) -> Result<CatalogStep> {
    apply_catalog(store, fetch_catalog(env, probes).await, clock).await
}

/// Step 3.
pub async fn step_catalog(
    env: &Env,
    store: &Store,
    probes: &Probes,
    clock: &dyn Clock,
) -> Result<CatalogStep> {
    in_progress(store, "catalog", "detect").await?;
    let fetched = fetch_catalog(env, probes).await;
    record_catalog(store, fetched, clock).await
}

async fn record_catalog(store: &Store, fetched: Fetched, clock: &dyn Clock) -> Result<CatalogStep> {
    let rec = in_progress(store, "catalog", "detect").await?;
    let step = apply_catalog(store, fetched, clock).await?;
    advance(store, rec.id, "catalog", "", Vec::new()).await?;
    Ok(step)
}

// ---------------------------------------------------------------------------------------------------------
// Step 4: agents
// ---------------------------------------------------------------------------------------------------------

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

fn default_view(a: &Agent, created: bool) -> DefaultAgent {
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
fn find_default<'a>(agents: &'a [Agent], name: &str, role: Role) -> Option<&'a Agent> {
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
    // Every config.yaml this step may touch must parse before anything is created, so a broken file
    // stops the step with nothing half done.
    let root = hermes::profile_named(&env.hermes_home, hermes::ROOT_PROFILE);
    hermes::get_config(&root.config_path(), "model")?;
    crate::domain::fsutil::check_writable(&root.config_path())
        .map_err(|e| hermes::HermesError::io("write", &root.config_path(), e))?;
    let existing = agents::list(store, env).await?;
    for (name, role) in DEFAULT_AGENTS {
        if let Some(a) = find_default(&existing, name, role) {
            hermes::get_config(&a.profile().config_path(), "model")?;
        }
    }
    // The defaults' models, spread over near-equal models unless `spread_default_agents` is off.
    // A role that was not spread is created exactly as `agents create` would (its best free model).
    let picks = crate::domain::spread::stored_default_picks(store, store.now())
        .await
        .unwrap_or_default();
    let mut spread_notes = Vec::new();
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for (name, role) in DEFAULT_AGENTS {
        if let Some(a) = find_default(&existing, name, role) {
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
        };
        match agents::create_with(store, env, new, agents::CreateOptions::default()).await {
            Ok((a, said)) => {
                if spread.is_some() {
                    // nxr chose the spread model, as it chooses the best one: still auto-assigned.
                    store
                        .conn()
                        .execute(
                            "UPDATE agents SET model_auto_assigned = 1 WHERE id = ?1",
                            params![a.id],
                        )
                        .await?;
                }
                out.push(default_view(&a, true));
                notes.extend(said);
            }
            // Created meanwhile by the other surface: report it, do not create it twice.
            // Another run (a second `nxr init`, the web wizard) may be half-way through creating
            // it: its profile is on disk but its row is not committed yet. Wait for that row (a
            // bounded wait on the condition), then report the agent as existing.
            Err(AgentError::Duplicate(_)) => {
                let mut found = None;
                for _ in 0..100 {
                    let now = agents::list(store, env).await?;
                    if let Some(a) = find_default(&now, name, role) {
                        found = Some(default_view(a, false));
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                match found {
                    Some(view) => out.push(view),
                    None => return Err(AgentError::Duplicate(name.to_string()).into()),
                }
            }
            Err(e) => return Err(e.into()),
        }
    }

    let mut notes: Vec<String> = spread_notes.into_iter().chain(notes).collect();
    let mut local_slots = BTreeMap::new();
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
    // The same lock as every agent change, so a model change from the TUI or CLI cannot land between
    // this read and write of a profile's config.yaml.
    let _lock = agents::agents_lock(env).await;
    for agent in &out {
        let profile = hermes::profile_named(&env.hermes_home, &agent.hermes_profile);
        let mut edits: Vec<(String, ConfigValue)> = Vec::new();
        if let Some(model) = &local {
            for slot in LOCAL_SLOTS {
                let base = format!("auxiliary.{slot}");
                edits.push((
                    format!("{base}.provider"),
                    ConfigValue::Str("custom".into()),
                ));
                edits.push((format!("{base}.model"), ConfigValue::Str(model.clone())));
                edits.push((
                    format!("{base}.base_url"),
                    ConfigValue::Str(base_url.clone()),
                ));
                // Ollama ignores the key; Hermes wants one for a custom endpoint.
                edits.push((format!("{base}.api_key"), ConfigValue::Str("ollama".into())));
            }
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
    Ok(AgentsStep {
        agents: out,
        local_slots,
        local_base_url: local.as_ref().map(|_| base_url),
        local_model: local,
        stt_local,
        notes,
    })
}

/// Step 4: the default agents (and local routing), recorded in the row.
pub async fn step_agents(env: &Env, store: &Store, found: &Detections) -> Result<AgentsStep> {
    let rec = in_progress(store, "agents", "catalog").await?;
    let step = ensure_default_agents(env, store, found).await?;
    advance_agents(store, rec.id, &step).await?;
    Ok(step)
}

async fn advance_agents(store: &Store, id: i64, step: &AgentsStep) -> Result<bool> {
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

// ---------------------------------------------------------------------------------------------------------
// Step 5: finish
// ---------------------------------------------------------------------------------------------------------

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
pub struct Outcome {
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
) -> Result<Outcome> {
    if completed(store).await?.is_some() {
        return Ok(Outcome {
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
    Ok(Outcome {
        already_done: false,
        summary: summary(env, store).await?,
    })
}

/// The outcome when another run completed the setup first; an error when the record is gone instead
/// (a reset meanwhile).
async fn already_done(env: &Env, store: &Store) -> Result<Outcome> {
    if completed(store).await?.is_none() {
        return Err(OnboardingError::OutOfOrder {
            step: "finish",
            needs: "key",
        });
    }
    Ok(Outcome {
        already_done: true,
        summary: summary(env, store).await?,
    })
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
