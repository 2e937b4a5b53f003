//! Hermes gateway status (read-only): `$HERMES_HOME/gateway_state.json` (written by `hermes gateway run`)
//! and `gateway.pid`. A recorded pid only counts as running when that process is alive.

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GatewayState {
    Running,
    Stopped,
    /// No gateway files at all: the gateway was never started from this HERMES_HOME.
    NeverStarted,
}

impl GatewayState {
    /// In words: "running", "stopped", "not started".
    pub fn label(self) -> &'static str {
        match self {
            GatewayState::Running => "running",
            GatewayState::Stopped => "stopped",
            GatewayState::NeverStarted => "not started",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GatewayStatus {
    pub state: GatewayState,
    pub pid: Option<u32>,
    pub started_at: Option<DateTime<Utc>>,
    /// `gateway_state` as Hermes wrote it ("running", "starting", "stopped", …).
    pub reported_state: Option<String>,
    /// The main model from config.yaml.
    pub model: Option<String>,
    /// Why the status is what it is, when that is not obvious (a stale pid, an unreadable file).
    pub note: Option<String>,
}

impl GatewayStatus {
    pub fn never_started() -> GatewayStatus {
        GatewayStatus {
            state: GatewayState::NeverStarted,
            pid: None,
            started_at: None,
            reported_state: None,
            model: None,
            note: None,
        }
    }
}

fn pid_from(v: &serde_json::Value) -> Option<u32> {
    v.get("pid")
        .and_then(|p| {
            p.as_u64()
                .or_else(|| p.as_str().and_then(|s| s.trim().parse().ok()))
        })
        .and_then(|p| u32::try_from(p).ok())
        .filter(|p| *p > 0)
}

fn read_pid_file(path: &Path) -> Option<u32> {
    let raw = std::fs::read_to_string(path).ok()?;
    let raw = raw.trim();
    if let Ok(p) = raw.parse::<u32>() {
        return Some(p).filter(|p| *p > 0);
    }
    pid_from(&serde_json::from_str(raw).ok()?)
}

use crate::domain::base::fsutil::process_alive;

/// When the process started, from /proc (boot time + start ticks); None elsewhere.
pub fn process_started_at(pid: u32) -> Option<DateTime<Utc>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; fields after the closing paren are space separated.
    let after = stat.rsplit_once(')')?.1;
    let start_ticks: u64 = after.split_whitespace().nth(19)?.parse().ok()?;
    let btime: i64 = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    // USER_HZ is 100 on every mainstream Linux.
    let secs = btime + (start_ticks / 100) as i64;
    Utc.timestamp_opt(secs, 0).single()
}

/// Reads the gateway's files under `hermes_home`; `model` is the main model (from config.yaml).
pub fn status(hermes_home: &Path, model: Option<String>) -> GatewayStatus {
    let state_path = hermes_home.join("gateway_state.json");
    let pid_path = hermes_home.join("gateway.pid");
    let state_json: Option<serde_json::Value> = std::fs::read_to_string(&state_path)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok());
    let mut note = None;
    if state_path.exists() && state_json.is_none() {
        note = Some(format!("{} is not valid JSON", state_path.display()));
    }
    let reported_state = state_json
        .as_ref()
        .and_then(|v| v.get("gateway_state"))
        .and_then(|s| s.as_str())
        .map(str::to_string);
    let pid = read_pid_file(&pid_path).or_else(|| state_json.as_ref().and_then(pid_from));
    if pid.is_none() && state_json.is_none() && note.is_none() {
        return GatewayStatus {
            model,
            ..GatewayStatus::never_started()
        };
    }
    let alive = pid.is_some_and(process_alive);
    let stopped_by_report = matches!(
        reported_state.as_deref(),
        Some("stopped" | "startup_failed")
    );
    let state = if alive && !stopped_by_report {
        GatewayState::Running
    } else {
        if let Some(p) = pid
            && !alive
            && note.is_none()
        {
            note = Some(format!("pid {p} is not running (stale gateway files)"));
        }
        GatewayState::Stopped
    };
    GatewayStatus {
        state,
        pid,
        started_at: if state == GatewayState::Running {
            pid.and_then(process_started_at)
        } else {
            None
        },
        reported_state,
        model,
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_files_means_never_started() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(status(d.path(), None).state, GatewayState::NeverStarted);
    }

    #[test]
    fn own_pid_is_running_and_dead_pid_is_stopped() {
        let d = tempfile::tempdir().unwrap();
        let me = std::process::id();
        std::fs::write(
            d.path().join("gateway_state.json"),
            format!(r#"{{"pid": {me}, "kind": "hermes-gateway", "gateway_state": "running"}}"#),
        )
        .unwrap();
        let s = status(d.path(), Some("m".into()));
        assert_eq!(s.state, GatewayState::Running);
        assert_eq!(s.pid, Some(me));
        assert!(s.started_at.is_some());
        std::fs::write(d.path().join("gateway.pid"), "999999999").unwrap();
        let s = status(d.path(), None);
        assert_eq!(s.state, GatewayState::Stopped);
        assert!(s.note.unwrap().contains("999999999"));
    }
}
