//! Agents' tasks: `nxr run --agent NAME "prompt"` runs `hermes -p <profile> -z "prompt"` while the free
//! daily bucket has headroom, and otherwise stores the task in `task_queue` to run after the reset
//! (00:00 UTC). [`drain`] runs due tasks oldest first, at most [`PER_MINUTE`] started per minute
//! (OpenRouter's free per-minute limit), and only while the bucket has headroom.

use crate::domain::agents::{self, Agent, AgentError};
use crate::domain::budget;
use crate::domain::clock::{self, Clock};
use crate::domain::env::Env;
use crate::domain::store::{Store, StoreError};
use chrono::Duration;
use libsql::params;
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;

/// Free requests per minute OpenRouter allows an account.
pub const PER_MINUTE: u64 = 20;
/// The longest a task's output is kept.
const OUTPUT_KEEP: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    pub id: i64,
    pub agent: String,
    pub prompt: String,
    /// queued, running, done, failed or cancelled.
    pub status: String,
    pub queued_at: String,
    pub run_after: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub exit_code: Option<i64>,
    pub error: Option<String>,
}

/// What one run of Hermes gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunOutcome {
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl RunOutcome {
    pub fn ok(&self) -> bool {
        self.exit_code == Some(0)
    }
}

pub type RunFuture<'a> = Pin<Box<dyn Future<Output = RunOutcome> + Send + 'a>>;

/// Runs one prompt for one agent (the real one runs Hermes; tests record the order).
pub trait TaskRunner: Send + Sync {
    fn run<'a>(&'a self, env: &'a Env, agent: &'a Agent, prompt: &'a str) -> RunFuture<'a>;
}

/// `hermes -p <profile> -z "prompt"`, with `HERMES_HOME` set.
pub struct HermesRunner;

impl TaskRunner for HermesRunner {
    fn run<'a>(&'a self, env: &'a Env, agent: &'a Agent, prompt: &'a str) -> RunFuture<'a> {
        Box::pin(async move {
            let out = tokio::process::Command::new(&env.hermes_bin)
                .arg("-p")
                .arg(&agent.hermes_profile)
                .arg("-z")
                .arg(prompt)
                .env("HERMES_HOME", &env.hermes_home)
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true)
                .output()
                .await;
            match out {
                Ok(o) => RunOutcome {
                    exit_code: o.status.code(),
                    stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
                    stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
                },
                Err(e) => RunOutcome {
                    exit_code: None,
                    stdout: String::new(),
                    stderr: format!(
                        "cannot run {} ({e}); install Hermes Agent or set NXR_HERMES_BIN",
                        env.hermes_bin
                    ),
                },
            }
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error(transparent)]
    Agents(#[from] AgentError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the prompt is empty; say what the agent should do")]
    EmptyPrompt,
    #[error("no queued task with id {0}; `nxr queue list` shows them")]
    NotQueued(i64),
}

impl From<libsql::Error> for QueueError {
    fn from(e: libsql::Error) -> Self {
        QueueError::Store(e.into())
    }
}

/// What `nxr run` did.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Dispatch {
    Ran { agent: String, outcome: RunOutcome },
    Queued { task: Task, used: u64, limit: u64 },
}

const COLUMNS: &str = "id, agent_name, prompt, status, queued_at, run_after, started_at, finished_at, exit_code, error";

fn task(row: &libsql::Row) -> Result<Task, libsql::Error> {
    Ok(Task {
        id: row.get(0)?,
        agent: row.get(1)?,
        prompt: row.get(2)?,
        status: row.get(3)?,
        queued_at: row.get(4)?,
        run_after: row.get(5)?,
        started_at: row.get(6)?,
        finished_at: row.get(7)?,
        exit_code: row.get(8)?,
        error: row.get(9)?,
    })
}

/// Ingests usage, then runs `prompt` for `agent` when the free bucket has headroom, else queues it
/// for the next reset.
pub async fn run_or_queue(
    store: &Store,
    env: &Env,
    agent: &str,
    prompt: &str,
    runner: &dyn TaskRunner,
    clock: &dyn Clock,
) -> Result<Dispatch, QueueError> {
    if prompt.trim().is_empty() {
        return Err(QueueError::EmptyPrompt);
    }
    let agent = agents::resolve(store, env, agent).await?;
    crate::domain::usage::ingest(store, env, clock).await?;
    let b = budget::load(store, clock).await?;
    if b.used_today >= b.daily_limit {
        let task = enqueue(store, &agent, prompt, clock).await?;
        return Ok(Dispatch::Queued {
            task,
            used: b.used_today,
            limit: b.daily_limit,
        });
    }
    let outcome = runner.run(env, &agent, prompt).await;
    crate::domain::usage::ingest(store, env, clock).await?;
    let b = budget::load(store, clock).await?;
    crate::domain::guard::check(store, env, &b, clock).await?;
    Ok(Dispatch::Ran {
        agent: agent.name,
        outcome,
    })
}

/// Stores a task to run after the next reset.
pub async fn enqueue(
    store: &Store,
    agent: &Agent,
    prompt: &str,
    clock: &dyn Clock,
) -> Result<Task, QueueError> {
    let now = clock.now();
    store
        .conn()
        .execute(
            "INSERT INTO task_queue (agent_id, agent_name, prompt, queued_at, run_after) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                agent.id,
                agent.name.as_str(),
                prompt,
                clock::to_db(now),
                clock::to_db(budget::next_reset(now))
            ],
        )
        .await?;
    let id = store.conn().last_insert_rowid();
    get(store, id).await?.ok_or(QueueError::NotQueued(id))
}

pub async fn get(store: &Store, id: i64) -> Result<Option<Task>, QueueError> {
    let mut rows = store
        .conn()
        .query(
            &format!("SELECT {COLUMNS} FROM task_queue WHERE id = ?1"),
            params![id],
        )
        .await?;
    Ok(match rows.next().await? {
        Some(r) => Some(task(&r)?),
        None => None,
    })
}

/// Queued (and running) tasks oldest first; with `all`, finished ones too (newest 200).
pub async fn list(store: &Store, all: bool) -> Result<Vec<Task>, QueueError> {
    let sql = if all {
        format!("SELECT {COLUMNS} FROM task_queue ORDER BY id DESC LIMIT 200")
    } else {
        format!(
            "SELECT {COLUMNS} FROM task_queue WHERE status IN ('queued', 'running') ORDER BY id"
        )
    };
    let mut rows = store.conn().query(&sql, ()).await?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().await? {
        out.push(task(&r)?);
    }
    Ok(out)
}

/// Cancels a queued task.
pub async fn cancel(store: &Store, id: i64, clock: &dyn Clock) -> Result<Task, QueueError> {
    let n = store
        .conn()
        .execute(
            "UPDATE task_queue SET status = 'cancelled', finished_at = ?1 WHERE id = ?2 AND status = 'queued'",
            params![clock::to_db(clock.now()), id],
        )
        .await?;
    if n == 0 {
        return Err(QueueError::NotQueued(id));
    }
    get(store, id).await?.ok_or(QueueError::NotQueued(id))
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DrainReport {
    pub ran: Vec<Task>,
    /// Due tasks left for a later minute (per-minute limit) or a later day (bucket empty).
    pub waiting: usize,
}

/// Runs due tasks oldest first: no more than [`PER_MINUTE`] started in any minute, and none while
/// the free bucket is used up.
pub async fn drain(
    store: &Store,
    env: &Env,
    runner: &dyn TaskRunner,
    clock: &dyn Clock,
) -> Result<DrainReport, QueueError> {
    let mut report = DrainReport::default();
    loop {
        let now = clock.now();
        let mut rows = store
            .conn()
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM task_queue WHERE status = 'queued' AND run_after <= ?1 ORDER BY id LIMIT 1"
                ),
                params![clock::to_db(now)],
            )
            .await?;
        let Some(next) = rows.next().await? else {
            break;
        };
        let next = task(&next)?;
        drop(rows);
        let started_last_minute = count_started_since(store, now - Duration::seconds(60)).await?;
        let b = budget::load(store, clock).await?;
        if started_last_minute >= PER_MINUTE || b.used_today >= b.daily_limit {
            report.waiting = count_due(store, now).await? as usize;
            break;
        }
        // Claim it (another nxr serve may drain the same queue).
        let claimed = store
            .conn()
            .execute(
                "UPDATE task_queue SET status = 'running', started_at = ?1 WHERE id = ?2 AND status = 'queued'",
                params![clock::to_db(now), next.id],
            )
            .await?;
        if claimed == 0 {
            continue;
        }
        let outcome = match agents::resolve(store, env, &next.agent).await {
            Ok(agent) => runner.run(env, &agent, &next.prompt).await,
            Err(e) => RunOutcome {
                exit_code: None,
                stdout: String::new(),
                stderr: e.to_string(),
            },
        };
        let output: String = outcome.stdout.chars().take(OUTPUT_KEEP).collect();
        let error =
            (!outcome.ok()).then(|| outcome.stderr.chars().take(OUTPUT_KEEP).collect::<String>());
        store
            .conn()
            .execute(
                "UPDATE task_queue SET status = ?1, finished_at = ?2, exit_code = ?3, output = ?4, error = ?5 WHERE id = ?6",
                params![
                    if outcome.ok() { "done" } else { "failed" },
                    clock::to_db(clock.now()),
                    outcome.exit_code.map(i64::from),
                    output,
                    error,
                    next.id
                ],
            )
            .await?;
        if let Some(t) = get(store, next.id).await? {
            report.ran.push(t);
        }
        crate::domain::usage::ingest(store, env, clock).await?;
    }
    Ok(report)
}

async fn count_started_since(
    store: &Store,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<u64, QueueError> {
    let mut rows = store
        .conn()
        .query(
            "SELECT COUNT(*) FROM task_queue WHERE started_at > ?1",
            params![clock::to_db(since)],
        )
        .await?;
    Ok(match rows.next().await? {
        Some(r) => r.get::<i64>(0)?.max(0) as u64,
        None => 0,
    })
}

async fn count_due(store: &Store, now: chrono::DateTime<chrono::Utc>) -> Result<u64, QueueError> {
    let mut rows = store
        .conn()
        .query(
            "SELECT COUNT(*) FROM task_queue WHERE status = 'queued' AND run_after <= ?1",
            params![clock::to_db(now)],
        )
        .await?;
    Ok(match rows.next().await? {
        Some(r) => r.get::<i64>(0)?.max(0) as u64,
        None => 0,
    })
}
