//! Agents' tasks: `nxr run --agent NAME "prompt"` runs `hermes -p <profile> -z "prompt"` while the free
//! daily bucket has headroom, and otherwise stores the task in `task_queue` to run after the reset
//! (00:00 UTC). [`drain`] runs due tasks oldest first, at most [`PER_MINUTE`] started per minute
//! (OpenRouter's free per-minute limit), and only while the bucket has headroom.

use crate::domain::agents::hermes_run::{self, Verdict};
use crate::domain::agents::{self, Agent, AgentError};
use crate::domain::base::clock::{self, Clock};
use crate::domain::base::env::Env;
use crate::domain::budget;
use crate::domain::budget::run_gate::{self, BucketEmpty};
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

pub use crate::domain::agents::hermes_run::RunOutcome;

pub type RunFuture<'a> = Pin<Box<dyn Future<Output = RunOutcome> + Send + 'a>>;

/// Runs one prompt for one agent (the real one runs Hermes; tests record the order).
pub trait TaskRunner: Send + Sync {
    fn run<'a>(&'a self, env: &'a Env, agent: &'a Agent, prompt: &'a str) -> RunFuture<'a>;
}

/// How long one task may run through Hermes by default.
pub const TASK_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// Runs the prompt through Hermes ([`hermes_run::run_prompt`]) within `limit`.
pub struct HermesRunner {
    pub limit: std::time::Duration,
}

impl Default for HermesRunner {
    fn default() -> Self {
        HermesRunner {
            limit: TASK_TIME_LIMIT,
        }
    }
}

impl TaskRunner for HermesRunner {
    fn run<'a>(&'a self, env: &'a Env, agent: &'a Agent, prompt: &'a str) -> RunFuture<'a> {
        Box::pin(hermes_run::run_prompt(env, agent, prompt, self.limit))
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
    #[error("no queued task with id {0}")]
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
    /// Hermes ran; `verdict` says whether it answered.
    Ran {
        agent: String,
        verdict: Verdict,
        outcome: RunOutcome,
    },
    /// The task waits for the free bucket's reset.
    Queued {
        task: Task,
        used: u64,
        limit: u64,
        why: QueuedBecause,
    },
}

/// Why a task was queued instead of run.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum QueuedBecause {
    /// The count says the free daily bucket is used up, or OpenRouter answered its per-day 429
    /// earlier today; Hermes was not started.
    BucketEmpty(BucketEmpty),
    /// Hermes ran and OpenRouter answered with its per-day 429 (`error` is what Hermes said).
    DailyLimitHit { error: String },
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
    crate::domain::budget::usage::ingest(store, env, clock).await?;
    if let Some(empty) = run_gate::free_bucket(store, env, clock).await? {
        let task = enqueue(store, &agent, prompt, clock).await?;
        return Ok(Dispatch::Queued {
            task,
            used: empty.used,
            limit: empty.limit,
            why: QueuedBecause::BucketEmpty(empty),
        });
    }
    let outcome = runner.run(env, &agent, prompt).await;
    let verdict = outcome.verdict();
    crate::domain::budget::usage::ingest(store, env, clock).await?;
    let b = budget::load(store, clock).await?;
    crate::domain::budget::guard::check(store, env, &b, clock).await?;
    let daily_limit_hit = match &verdict {
        Verdict::Answered { .. } => None,
        Verdict::Failed(f) => {
            let per_day = run_gate::record_failure(store, &agent, f, clock).await?
                == Some(crate::domain::catalog::ratelimit::RateLimitKind::PerDay);
            // A run stopped by the time limit may have been waiting on a 429: ask the count again.
            (per_day || (f.timed_out && run_gate::free_bucket(store, env, clock).await?.is_some()))
                .then_some(f)
        }
    };
    if let Some(f) = daily_limit_hit {
        let task = enqueue(store, &agent, prompt, clock).await?;
        return Ok(Dispatch::Queued {
            task,
            used: b.used_today,
            limit: b.daily_limit,
            why: QueuedBecause::DailyLimitHit {
                error: f.error.clone(),
            },
        });
    }
    Ok(Dispatch::Ran {
        agent: agent.name,
        verdict,
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
    /// Why the due tasks wait, when some do.
    pub held_by: Option<Hold>,
    /// Tasks put back to wait for the reset because OpenRouter answered with its per-day 429.
    pub requeued: Vec<Task>,
    /// Queued tasks whose time has not come yet (the requeued ones included).
    pub not_due: usize,
    /// The earliest time one of them may run.
    pub next_run_after: Option<String>,
}

/// What holds due tasks back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hold {
    /// [`PER_MINUTE`] tasks started in the last minute.
    PerMinute,
    /// The free daily bucket is used up (until the next reset).
    DailyLimit,
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
    // Team mode: a task runs on the host of its agent, where the agent's profile is.
    let host = env
        .db_url
        .is_some()
        .then(|| crate::domain::base::host::this_host(env));
    loop {
        let now = clock.now();
        let Some(next) = next_due(store, now, host.as_deref()).await? else {
            break;
        };
        if let Some(hold) = hold(store, clock, now).await? {
            report.waiting = count_due(store, now).await? as usize;
            report.held_by = Some(hold);
            break;
        }
        // Claim it (another nxr serve may drain the same queue).
        if !claim(store, next.id, now).await? {
            continue;
        }
        if run_claimed(store, env, runner, clock, &next).await? {
            // OpenRouter's free daily bucket ran out: the task waits for the reset, and so do the rest.
            if let Some(t) = get(store, next.id).await? {
                report.requeued.push(t);
            }
            report.waiting = count_due(store, clock.now()).await? as usize;
            report.held_by = Some(Hold::DailyLimit);
            break;
        }
        if let Some(t) = get(store, next.id).await? {
            report.ran.push(t);
        }
        crate::domain::budget::usage::ingest(store, env, clock).await?;
    }
    let (not_due, next) = not_yet_due(store, clock.now()).await?;
    report.not_due = not_due as usize;
    report.next_run_after = next;
    Ok(report)
}

/// The oldest queued task due at `now`, if any; with `host`, only tasks of agents assigned to it (or
/// of agents deleted since, which fail wherever they run).
async fn next_due(
    store: &Store,
    now: chrono::DateTime<chrono::Utc>,
    host: Option<&str>,
) -> Result<Option<Task>, QueueError> {
    let mut rows = store
        .conn()
        .query(
            &format!(
                "SELECT {COLUMNS} FROM task_queue WHERE status = 'queued' AND run_after <= ?1 \
                 AND (?2 IS NULL OR agent_id IS NULL OR agent_id NOT IN (SELECT id FROM agents) \
                      OR agent_id IN (SELECT id FROM agents WHERE host = ?2)) \
                 ORDER BY id LIMIT 1"
            ),
            params![clock::to_db(now), host],
        )
        .await?;
    Ok(match rows.next().await? {
        Some(row) => Some(task(&row)?),
        None => None,
    })
}

/// What keeps a task from starting at `now`: the free bucket used up (it wins), or
/// [`PER_MINUTE`] tasks started in the last minute; `None` when it may start.
async fn hold(
    store: &Store,
    clock: &dyn Clock,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Hold>, QueueError> {
    let started_last_minute = count_started_since(store, now - Duration::seconds(60)).await?;
    let empty = run_gate::stored_bucket(store, clock).await?.is_some();
    Ok(if empty {
        Some(Hold::DailyLimit)
    } else if started_last_minute >= PER_MINUTE {
        Some(Hold::PerMinute)
    } else {
        None
    })
}

/// Marks the queued task `id` running, started at `now`; false when it is no longer queued.
async fn claim(
    store: &Store,
    id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, QueueError> {
    let claimed = store
        .conn()
        .execute(
            "UPDATE task_queue SET status = 'running', started_at = ?1 WHERE id = ?2 AND status = 'queued'",
            params![clock::to_db(now), id],
        )
        .await?;
    Ok(claimed != 0)
}

/// Runs a claimed task with its agent and records the result. True when OpenRouter answered with
/// its per-day 429: the task is queued again to run after the next reset, with the error. Else
/// it ends done or failed with its exit code, output and error (each cut to [`OUTPUT_KEEP`]).
async fn run_claimed(
    store: &Store,
    env: &Env,
    runner: &dyn TaskRunner,
    clock: &dyn Clock,
    next: &Task,
) -> Result<bool, QueueError> {
    let (outcome, agent) = match agents::resolve(store, env, &next.agent).await {
        Ok(agent) => (runner.run(env, &agent, &next.prompt).await, Some(agent)),
        Err(e) => (RunOutcome::not_started(e.to_string()), None),
    };
    let verdict = outcome.verdict();
    let output: String = outcome.stdout.chars().take(OUTPUT_KEEP).collect();
    let failure = match &verdict {
        Verdict::Answered { .. } => None,
        Verdict::Failed(f) => Some(f),
    };
    let per_day = match (failure, &agent) {
        (Some(f), Some(a)) => {
            run_gate::record_failure(store, a, f, clock).await?
                == Some(crate::domain::catalog::ratelimit::RateLimitKind::PerDay)
        }
        _ => false,
    };
    if per_day {
        store
            .conn()
            .execute(
                "UPDATE task_queue SET status = 'queued', started_at = NULL, run_after = ?1, error = ?2 WHERE id = ?3",
                params![
                    clock::to_db(budget::next_reset(clock.now())),
                    failure.map(|f| f.error.clone()),
                    next.id
                ],
            )
            .await?;
        return Ok(true);
    }
    let error = failure.map(|f| f.error.chars().take(OUTPUT_KEEP).collect::<String>());
    store
        .conn()
        .execute(
            "UPDATE task_queue SET status = ?1, finished_at = ?2, exit_code = ?3, output = ?4, error = ?5 WHERE id = ?6",
            params![
                if failure.is_none() { "done" } else { "failed" },
                clock::to_db(clock.now()),
                outcome.exit_code.map(i64::from),
                output,
                error,
                next.id
            ],
        )
        .await?;
    Ok(false)
}

/// How many queued tasks are not due at `now`, and the earliest time one becomes due.
async fn not_yet_due(
    store: &Store,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(u64, Option<String>), QueueError> {
    let mut rows = store
        .conn()
        .query(
            "SELECT COUNT(*), MIN(run_after) FROM task_queue WHERE status = 'queued' AND run_after > ?1",
            params![clock::to_db(now)],
        )
        .await?;
    Ok(match rows.next().await? {
        Some(r) => (r.get::<i64>(0)?.max(0) as u64, r.get::<Option<String>>(1)?),
        None => (0, None),
    })
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

impl crate::domain::base::hint::Hinted for QueueError {
    fn hints(&self) -> Vec<crate::domain::base::hint::Hint> {
        #[allow(unused_imports)]
        use crate::domain::base::hint::{Hint, Hinted};
        match self {
            QueueError::Agents(e) => e.hints(),
            QueueError::Store(e) => e.hints(),
            QueueError::NotQueued(_) => vec![Hint::ListQueue],
            QueueError::EmptyPrompt => Vec::new(),
        }
    }
}
