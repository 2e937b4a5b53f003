//! One real prompt per agent through the Hermes CLI (`hermes [-p <profile>] -z <prompt>`): the answer,
//! or the error Hermes gave. Each prompt spends one request (of the free daily bucket on a free model),
//! so only an explicit `--live` runs it. The stored key never appears in what is returned.

use super::{AgentCheck, CheckKind, CheckLine};
use crate::domain::agents::Agent;
use crate::domain::env::Env;
use crate::domain::secrets;
use serde::Serialize;
use std::time::Duration;

/// The tiny prompt sent to each agent.
pub const PROMPT: &str = "Reply with the single word: pong";

/// How long one prompt may take (Hermes starts a Python runtime, then streams the answer).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(180);

/// The longest answer or error text kept.
const MAX_TEXT: usize = 300;

/// What one prompt gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveAnswer {
    pub ok: bool,
    /// The agent's answer (trimmed, cut to 300 characters) when ok.
    pub answer: Option<String>,
    /// Hermes' error (its last lines) when not.
    pub error: Option<String>,
    pub elapsed_ms: u64,
}

/// Removes every secret nxr manages from `text` and cuts it to [`MAX_TEXT`] characters.
fn scrub(env: &Env, text: &str) -> String {
    let mut out = text.trim().to_string();
    if let Ok(Some(key)) = secrets::openrouter_key(env)
        && !key.is_empty()
    {
        out = out.replace(&key, &secrets::mask(&key));
    }
    if out.chars().count() > MAX_TEXT {
        let cut: String = out.chars().take(MAX_TEXT).collect();
        out = format!("{cut}…");
    }
    out
}

/// The last few non-empty lines of Hermes' output (where it says what failed).
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(3)..].join(" | ")
}

/// Sends [`PROMPT`] through `hermes -z` in the agent's profile (`HERMES_HOME` = nxr's Hermes home).
pub async fn prompt(env: &Env, agent: &Agent, timeout: Duration) -> LiveAnswer {
    let started = std::time::Instant::now();
    let mut cmd = tokio::process::Command::new(&env.hermes_bin);
    if !agent.profile().is_root() {
        cmd.arg("-p").arg(&agent.hermes_profile);
    }
    cmd.arg("-z")
        .arg(PROMPT)
        .env("HERMES_HOME", &env.hermes_home)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let elapsed = |s: std::time::Instant| s.elapsed().as_millis() as u64;
    let fail = |error: String| LiveAnswer {
        ok: false,
        answer: None,
        error: Some(scrub(env, &error)),
        elapsed_ms: elapsed(started),
    };
    if agent.usable_profile().is_err() {
        return fail("the agent has no usable Hermes profile".into());
    }
    let out = match tokio::time::timeout(timeout, cmd.output()).await {
        Err(_) => {
            return fail(format!(
                "no answer within {} s; check the model's provider status, or try again later",
                timeout.as_secs()
            ));
        }
        Ok(Err(e)) => {
            return fail(format!(
                "cannot run {}: {e}; install Hermes Agent (`pip install hermes-agent`) or set NXR_HERMES_BIN",
                env.hermes_bin
            ));
        }
        Ok(Ok(out)) => out,
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() && !stdout.trim().is_empty() {
        return LiveAnswer {
            ok: true,
            answer: Some(scrub(env, &stdout)),
            error: None,
            elapsed_ms: elapsed(started),
        };
    }
    let why = if stderr.trim().is_empty() {
        tail(&stdout)
    } else {
        tail(&stderr)
    };
    fail(if why.is_empty() {
        format!("hermes exited with {} and no answer", out.status)
    } else {
        why
    })
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
        let fix = if check.checks.iter().all(|l| l.ok) {
            "Hermes' own log in the profile (logs/errors.log, logs/agent.log) says more"
        } else {
            "fix the lines above first"
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_scrubbed_of_the_key_and_cut() {
        let dir = tempfile::tempdir().unwrap();
        let env = Env::for_dirs(dir.path().join("n"), dir.path().join("h"));
        secrets::set_openrouter_key(&env, "sk-or-v1-secret000000wxyz").unwrap();
        let s = scrub(&env, "401 for key sk-or-v1-secret000000wxyz");
        assert_eq!(s, "401 for key sk-or-…wxyz");
        assert!(scrub(&env, &"x".repeat(1000)).chars().count() <= MAX_TEXT + 1);
        assert_eq!(tail("a\n\nb\nc\nd\n"), "b | c | d");
    }
}
