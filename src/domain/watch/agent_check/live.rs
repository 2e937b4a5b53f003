//! One real prompt per agent through the Hermes CLI ([`hermes_run`]): the answer, or why there was
//! none. Each prompt spends one request (of the free daily bucket on a free model), so only an
//! explicit `--live` runs it; when the bucket is used up ([`run_gate`]) no prompt is sent and the
//! reset time is the answer. Each prompt has a time limit. The stored key never appears in what is
//! returned.

use super::{AgentCheck, CheckKind, CheckLine};
use crate::domain::agents::Agent;
use crate::domain::agents::hermes_run::{self, Verdict};
use crate::domain::base::clock::Clock;
use crate::domain::base::env::Env;
use crate::domain::budget::run_gate::{self, BucketEmpty};
use crate::domain::catalog::ratelimit::RateLimitKind;
use crate::domain::store::Store;
use serde::Serialize;
use std::time::Duration;

/// The tiny prompt sent to each agent.
pub const PROMPT: &str = "Reply with the single word: pong";

/// How long one prompt may take by default (Hermes starts a Python runtime, then streams the
/// answer; it retries a failing request three times).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(90);

/// The longest answer or error text kept.
const MAX_TEXT: usize = 300;

/// What one prompt gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveAnswer {
    pub ok: bool,
    /// The agent's answer (trimmed, cut to 300 characters) when ok.
    pub answer: Option<String>,
    /// Why there was no answer, when not.
    pub error: Option<String>,
    /// The rate limit behind the failure, when it was one.
    pub rate_limit: Option<RateLimitKind>,
    /// Set when no prompt was sent because the free daily bucket is used up.
    pub bucket_empty: Option<BucketEmpty>,
    pub timed_out: bool,
    pub elapsed_ms: u64,
}

/// Cuts `text` to [`MAX_TEXT`] characters.
fn cut(text: &str) -> String {
    let out = text.trim();
    if out.chars().count() > MAX_TEXT {
        let c: String = out.chars().take(MAX_TEXT).collect();
        return format!("{c}…");
    }
    out.to_string()
}

/// Whether a model's requests count against the free daily bucket.
fn is_free_model(agent: &Agent) -> bool {
    agent.provider == "openrouter" && agent.model.ends_with(":free")
}

/// Sends [`PROMPT`] to the agent through Hermes within `timeout`, unless the agent is on a free
/// model and the free daily bucket is used up.
pub async fn prompt(
    store: &Store,
    env: &Env,
    agent: &Agent,
    timeout: Duration,
    clock: &dyn Clock,
) -> LiveAnswer {
    if is_free_model(agent)
        && let Ok(Some(empty)) = run_gate::free_bucket(store, env, clock).await
    {
        return LiveAnswer {
            ok: false,
            answer: None,
            error: Some(format!(
                "the free daily limit is used up ({} of {}); no prompt was sent, it resets at {}",
                empty.used, empty.limit, empty.resets_at
            )),
            rate_limit: Some(RateLimitKind::PerDay),
            bucket_empty: Some(empty),
            timed_out: false,
            elapsed_ms: 0,
        };
    }
    let out = hermes_run::run_prompt(env, agent, PROMPT, timeout).await;
    match out.verdict() {
        Verdict::Answered { answer } => LiveAnswer {
            ok: true,
            answer: Some(cut(&answer)),
            error: None,
            rate_limit: None,
            bucket_empty: None,
            timed_out: false,
            elapsed_ms: out.elapsed_ms,
        },
        Verdict::Failed(f) => {
            let _ = run_gate::record_failure(store, agent, &f, clock).await;
            // A prompt stopped by the time limit may have been waiting on a 429: ask the count again.
            let empty = if f.timed_out && is_free_model(agent) {
                run_gate::free_bucket(store, env, clock)
                    .await
                    .ok()
                    .flatten()
            } else {
                None
            };
            let error = match &empty {
                Some(e) => format!(
                    "{}; the free daily limit is used up ({} of {}), it resets at {}",
                    f.error, e.used, e.limit, e.resets_at
                ),
                None => f.error.clone(),
            };
            LiveAnswer {
                ok: false,
                answer: None,
                error: Some(cut(&error)),
                rate_limit: f
                    .rate_limit
                    .or(empty.as_ref().map(|_| RateLimitKind::PerDay)),
                bucket_empty: empty,
                timed_out: f.timed_out,
                elapsed_ms: out.elapsed_ms,
            }
        }
    }
}

/// Adds the live prompt's outcome to a check (a failed prompt makes the agent broken, unless the
/// static checks already said why).
pub fn add_to(check: &mut AgentCheck, answer: &LiveAnswer) {
    let line = if answer.ok {
        CheckLine::pass(
            CheckKind::Live,
            format!(
                "answered in {:.1} s: {}",
                answer.elapsed_ms as f64 / 1000.0,
                answer.answer.as_deref().unwrap_or("")
            ),
        )
    } else {
        let fix = if let Some(kind) = answer.rate_limit {
            kind.hint().to_string()
        } else if answer.timed_out {
            "a rate-limited or slow provider keeps Hermes waiting (it honours Retry-After up to 10 min): `nxr budget` shows the free bucket; try again later or give the check more time with --timeout".to_string()
        } else if check.checks.iter().all(|l| l.ok) {
            format!(
                "the model's provider failed the request: try again later, or move {} to another model (`nxr models best-free --role {}` shows one)",
                check.agent, check.role
            )
        } else {
            "fix the lines above first".to_string()
        };
        CheckLine::fail(
            CheckKind::Live,
            format!(
                "the prompt failed: {}",
                answer.error.as_deref().unwrap_or("no answer")
            ),
            fix,
        )
    };
    check.checks.push(line);
    check.settle();
}
