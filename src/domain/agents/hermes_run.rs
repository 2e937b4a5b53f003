//! One prompt through the Hermes CLI for one agent, and the one judgement of what happened.
//!
//! [`run_prompt`] runs `hermes [-p <profile>] --usage-file <tmp> --oneshot=<prompt>` with
//! `HERMES_HOME` set, within a time limit (Hermes is stopped when it runs out). The
//! prompt goes in the `--oneshot=` form so a prompt that starts with `-` stays a prompt.
//!
//! hermes-agent 0.19.0 exits 0 when every API call failed: it prints its error ("API call failed
//! after 3 retries: HTTP 500 …") as the final answer. So [`RunOutcome::verdict`] judges a run by what
//! happened: the usage report Hermes writes even on failure (`"failed": true`), the error line it
//! printed, an empty answer, a non-zero exit, or the time limit; never by the exit code alone. A
//! failure that is a rate limit (429, or 402 for a negative balance) carries its kind
//! ([`RateLimitKind`]), so callers can queue a task when the free daily bucket ran out.
//! Every secret nxr manages is masked in what is returned.

use crate::domain::agents::Agent;
use crate::domain::base::env::Env;
use crate::domain::catalog::ratelimit::{self, RateLimitKind};
use crate::domain::store::secrets;
use serde::Serialize;
use std::time::Duration;

/// The beginnings of the final text Hermes prints when the run failed.
const ERROR_PREFIXES: &[&str] = &[
    "API call failed after",
    "Billing or credits exhausted",
    "hermes -z:",
    "Operation interrupted",
    "The model provider's safety filter blocked",
];

/// What Hermes' `--usage-file` report says (the fields nxr reads).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct UsageReport {
    #[serde(default)]
    pub failed: bool,
    #[serde(default)]
    pub completed: Option<bool>,
    #[serde(default)]
    pub api_calls: Option<u64>,
    #[serde(default)]
    pub failure: Option<String>,
}

/// What one run of Hermes gave.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunOutcome {
    /// The exit code (`None`: it could not start, was stopped, or died of a signal).
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Hermes' usage report, when it wrote one.
    pub usage: Option<UsageReport>,
    /// Set when the time limit ran out and Hermes was stopped (the limit in seconds).
    pub timed_out_after_s: Option<u64>,
    pub elapsed_ms: u64,
}

/// Why a run failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// What Hermes (or nxr) said, key masked.
    pub error: String,
    /// The rate limit behind it, when it was one.
    pub rate_limit: Option<RateLimitKind>,
    pub timed_out: bool,
}

/// The judgement of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Verdict {
    Answered { answer: String },
    Failed(Failure),
}

impl RunOutcome {
    /// An outcome for a run that never started (`error` says why).
    pub fn not_started(error: impl Into<String>) -> RunOutcome {
        RunOutcome {
            stderr: error.into(),
            ..RunOutcome::default()
        }
    }

    /// An answered run (for tests and other runners).
    pub fn answered(answer: impl Into<String>) -> RunOutcome {
        RunOutcome {
            exit_code: Some(0),
            stdout: answer.into(),
            ..RunOutcome::default()
        }
    }

    pub fn ok(&self) -> bool {
        matches!(self.verdict(), Verdict::Answered { .. })
    }

    /// Judges the run from what happened (see the module docs).
    pub fn verdict(&self) -> Verdict {
        let answer = self.stdout.trim();
        let fail = |error: String| {
            let error = one_line(&error);
            let rate_limit = rate_limit_of(&error);
            Verdict::Failed(Failure {
                error,
                rate_limit,
                timed_out: self.timed_out_after_s.is_some(),
            })
        };
        if let Some(secs) = self.timed_out_after_s {
            let mut why = format!("no answer within {secs} s, so nxr stopped Hermes");
            if !answer.is_empty() {
                why.push_str(&format!(" (it had printed: {})", tail(answer)));
            }
            return fail(why);
        }
        let error_text = first_line(answer).is_some_and(|l| {
            ERROR_PREFIXES.iter().any(|p| {
                l.trim_start_matches(|c: char| !c.is_alphanumeric())
                    .starts_with(p)
            })
        });
        let usage_failed = self.usage.as_ref().is_some_and(|u| u.failed);
        let exit_failed = self.exit_code != Some(0);
        if !(error_text || usage_failed || exit_failed || answer.is_empty()) {
            return Verdict::Answered {
                answer: answer.to_string(),
            };
        }
        let why = if error_text {
            answer.to_string()
        } else if usage_failed && !answer.is_empty() {
            format!(
                "Hermes reported the run as failed; it printed: {}",
                tail(answer)
            )
        } else if !self.stderr.trim().is_empty() {
            tail(&self.stderr)
        } else if let Some(f) = self.usage.as_ref().and_then(|u| u.failure.clone()) {
            f
        } else if !answer.is_empty() {
            tail(answer)
        } else {
            match self.exit_code {
                Some(0) => "Hermes gave no answer".to_string(),
                Some(c) => format!("Hermes exited with {c} and no answer"),
                None => "Hermes was stopped by a signal before it answered".to_string(),
            }
        };
        fail(why)
    }
}

/// `text` on one line (its non-empty lines joined by " | "), with control and invisible characters
/// escaped, so an error is shown as it is and never drives the terminal.
fn one_line(text: &str) -> String {
    let joined = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ");
    crate::domain::base::text::escape_invisible(&joined)
}

fn first_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).find(|l| !l.is_empty())
}

/// The last few non-empty lines of a text (where a program says what failed).
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(3)..].join(" | ")
}

/// The rate limit an error text names: an HTTP 429 (by its message, e.g. "free-models-per-day"),
/// or a 402 / exhausted credits.
pub fn rate_limit_of(error: &str) -> Option<RateLimitKind> {
    let lower = error.to_ascii_lowercase();
    if lower.contains("billing or credits exhausted")
        || lower.contains("http 402")
        || lower.contains("error code: 402")
    {
        return Some(RateLimitKind::Funding);
    }
    let limited = lower.contains("http 429")
        || lower.contains("error code: 429")
        || lower.contains("rate limit exceeded")
        || lower.contains("free-models-per-");
    limited.then(|| ratelimit::classify_message(error, lower.contains("provider_name\": \"")))
}

/// The arguments after the program name.
pub fn args(agent: &Agent, prompt: &str, usage_file: &std::path::Path) -> Vec<std::ffi::OsString> {
    let mut out: Vec<std::ffi::OsString> = Vec::new();
    if !agent.profile().is_root() {
        out.push("-p".into());
        out.push(agent.hermes_profile.clone().into());
    }
    out.push("--usage-file".into());
    out.push(usage_file.as_os_str().to_owned());
    out.push(format!("--oneshot={prompt}").into());
    out
}

/// Masks every secret nxr manages in `text`.
fn scrub(key: Option<&str>, text: &str) -> String {
    match key {
        Some(k) if !k.is_empty() => text.replace(k, &secrets::mask(k)),
        _ => text.to_string(),
    }
}

/// Runs `prompt` for `agent` through Hermes, stopping it (and whatever it started) after `limit`.
pub async fn run_prompt(env: &Env, agent: &Agent, prompt: &str, limit: Duration) -> RunOutcome {
    let started = std::time::Instant::now();
    let key = secrets::openrouter_key(env).ok().flatten();
    let mut out = run_unscrubbed(env, agent, prompt, limit).await;
    out.stdout = scrub(key.as_deref(), &out.stdout);
    out.stderr = scrub(key.as_deref(), &out.stderr);
    if let Some(u) = out.usage.as_mut() {
        u.failure = u.failure.as_deref().map(|f| scrub(key.as_deref(), f));
    }
    out.elapsed_ms = started.elapsed().as_millis() as u64;
    out
}

async fn run_unscrubbed(env: &Env, agent: &Agent, prompt: &str, limit: Duration) -> RunOutcome {
    if let Err(e) = agent.usable_profile() {
        return RunOutcome::not_started(format!("the agent has no usable Hermes profile: {e}"));
    }
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            return RunOutcome::not_started(format!(
                "cannot make a temporary directory for Hermes' usage report: {e}"
            ));
        }
    };
    let usage_path = dir.path().join("usage.json");
    let mut cmd = tokio::process::Command::new(&env.hermes_bin);
    cmd.args(args(agent, prompt, &usage_path))
        .env("HERMES_HOME", &env.hermes_home)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        // Hermes stays in nxr's process group, so a Ctrl-C at the terminal stops it too.
        .kill_on_drop(true);
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return RunOutcome::not_started(format!(
                "cannot run {} ({e}); install Hermes Agent (`pip install hermes-agent`) or set NXR_HERMES_BIN",
                env.hermes_bin
            ));
        }
    };
    let read_usage = || {
        std::fs::read_to_string(&usage_path)
            .ok()
            .and_then(|t| serde_json::from_str::<UsageReport>(&t).ok())
    };
    match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(Ok(o)) => RunOutcome {
            exit_code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            usage: read_usage(),
            timed_out_after_s: None,
            elapsed_ms: 0,
        },
        Ok(Err(e)) => RunOutcome::not_started(format!("lost track of Hermes while it ran: {e}")),
        // The timed-out future is dropped here, which kills Hermes (`kill_on_drop`).
        Err(_) => RunOutcome {
            timed_out_after_s: Some(limit.as_secs()),
            ..RunOutcome::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ran(code: i32, stdout: &str, failed: Option<bool>) -> RunOutcome {
        RunOutcome {
            exit_code: Some(code),
            stdout: stdout.into(),
            usage: failed.map(|f| UsageReport {
                failed: f,
                ..UsageReport::default()
            }),
            ..RunOutcome::default()
        }
    }

    #[test]
    fn a_run_is_judged_by_what_happened_not_the_exit_code() {
        assert!(ran(0, "pong\n", Some(false)).ok());
        assert!(ran(0, "pong\n", None).ok());
        let e = "API call failed after 3 retries: HTTP 500: Internal Server Error";
        for o in [
            ran(0, e, Some(true)),
            ran(0, e, None),
            ran(0, "x", Some(true)),
        ] {
            assert!(!o.ok(), "{o:?}");
        }
        assert!(!ran(0, "  \n", None).ok());
        assert!(!ran(2, "pong", None).ok());
        let Verdict::Failed(f) = ran(0, e, Some(true)).verdict() else {
            panic!()
        };
        assert_eq!(f.error, e);
        assert_eq!(f.rate_limit, None);
    }

    #[test]
    fn rate_limits_are_told_apart_in_hermes_error_text() {
        assert_eq!(
            rate_limit_of(
                "API call failed after 3 retries: HTTP 429: Rate limit exceeded: free-models-per-day. Add 10 credits"
            ),
            Some(RateLimitKind::PerDay)
        );
        assert_eq!(
            rate_limit_of(
                "API call failed after 3 retries: HTTP 429: Rate limit exceeded: free-models-per-min."
            ),
            Some(RateLimitKind::PerMinute)
        );
        assert_eq!(
            rate_limit_of("Billing or credits exhausted: HTTP 402"),
            Some(RateLimitKind::Funding)
        );
        assert_eq!(rate_limit_of("HTTP 500: boom"), None);
    }

    #[test]
    fn the_time_limit_is_a_failure_that_says_so() {
        let o = RunOutcome {
            timed_out_after_s: Some(30),
            ..RunOutcome::default()
        };
        let Verdict::Failed(f) = o.verdict() else {
            panic!()
        };
        assert!(f.timed_out && f.error.contains("30 s"), "{f:?}");
    }
}
