//! Starting and stopping the Hermes gateway: `hermes gateway run` inside a detached tmux session
//! (`Env::gateway_session`, on the tmux server `Env::tmux_socket`), and stopping it by signalling the one
//! process its pid files name — only after checking that process is a Hermes gateway (its command line
//! says `gateway run`), never a process group, never a pid ≤ 1. The CLI (`nxr gateway`), Tab 1 and the
//! web /hermes page all call these functions.

use crate::domain::agents::gateway::{self, GatewayState, GatewayStatus};
use crate::domain::base::env::Env;
use serde::Serialize;
use std::process::Command;
use std::time::{Duration, Instant};

/// How long [`start`] waits for the gateway to write its pid, and [`stop`] for it to exit after SIGTERM.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("the Hermes gateway is already running (pid {pid})")]
    AlreadyRunning { pid: u32 },
    #[error(
        "a tmux session named {session:?} already exists; attach to it with `tmux{socket} attach -t {session}` and stop what runs there, or pick another name with NXR_GATEWAY_SESSION"
    )]
    SessionExists { session: String, socket: String },
    #[error("cannot run tmux: {0}; install tmux (e.g. apt-get install tmux)")]
    Tmux(String),
    #[error(
        "the gateway did not write a live pid to {home}/gateway.pid within {secs} s; look at the tmux session {session:?} (`tmux attach -t {session}`) or {home}/logs"
    )]
    StartTimeout {
        home: String,
        session: String,
        secs: u64,
    },
    #[error(
        "refusing to signal pid {pid}: {why}; the gateway files in {home} do not name a running Hermes gateway, so nothing was stopped"
    )]
    NotAGateway { pid: u32, why: String, home: String },
    #[error("cannot signal pid {pid}: {message}")]
    Signal { pid: u32, message: String },
    #[error("pid {pid} was still alive {secs} s after SIGKILL")]
    Unkillable { pid: u32, secs: u64 },
}

/// The live status plus what tmux knows: whether the session exists and who is attached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GatewayView {
    #[serde(flatten)]
    pub status: GatewayStatus,
    /// Seconds since the gateway process started (running only).
    pub uptime_secs: Option<i64>,
    pub tmux_session: String,
    pub tmux_session_exists: bool,
    /// Terminals attached to the session (`tmux list-clients`).
    pub tmux_viewers: Vec<String>,
}

/// How a stop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopHow {
    /// Nothing was running.
    NotRunning,
    /// Exited after SIGTERM.
    Terminated,
    /// Still alive after the timeout; SIGKILL ended it.
    Killed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StopOutcome {
    pub pid: Option<u32>,
    pub how: StopHow,
    pub waited_ms: u64,
}

impl StopOutcome {
    /// One sentence for a user.
    pub fn describe(&self) -> String {
        match (self.how, self.pid) {
            (StopHow::NotRunning, _) => "the gateway was not running; nothing to stop".into(),
            (StopHow::Terminated, Some(p)) => format!(
                "stopped the gateway (pid {p}): it exited {:.1} s after SIGTERM",
                self.waited_ms as f64 / 1000.0
            ),
            (StopHow::Killed, Some(p)) => format!(
                "the gateway (pid {p}) ignored SIGTERM for {:.1} s; SIGKILL ended it",
                self.waited_ms as f64 / 1000.0
            ),
            (_, None) => "stopped the gateway".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StartOutcome {
    pub pid: u32,
    pub tmux_session: String,
}

fn tmux(env: &Env) -> Command {
    let mut c = Command::new("tmux");
    if let Some(sock) = &env.tmux_socket {
        c.arg("-L").arg(sock);
    }
    c
}

fn socket_flag(env: &Env) -> String {
    env.tmux_socket
        .as_ref()
        .map(|s| format!(" -L {s}"))
        .unwrap_or_default()
}

/// Does the gateway's tmux session exist? (`=` asks tmux for this exact name.)
pub fn session_exists(env: &Env) -> bool {
    tmux(env)
        .args(["has-session", "-t", &format!("={}", env.gateway_session)])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The terminals attached to the gateway's session (empty when none or no session).
pub fn viewers(env: &Env) -> Vec<String> {
    let out = tmux(env)
        .args([
            "list-clients",
            "-t",
            &format!("={}", env.gateway_session),
            "-F",
            "#{client_tty}",
        ])
        .stderr(std::process::Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// Is this pid a live (not zombie) process?
pub fn process_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Why `pid` is not a Hermes gateway process, or `None` when it is one (its command line holds
/// `gateway` followed by `run`, and a `hermes` word).
pub fn not_a_gateway(pid: u32) -> Option<String> {
    if pid <= 1 {
        return Some(format!("pid {pid} is never a gateway"));
    }
    let raw = match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(r) => r,
        Err(_) => return Some("no such process".into()),
    };
    let args: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let has_hermes = args.iter().any(|a| a.contains("hermes"));
    let runs_gateway = args.windows(2).any(|w| w[0] == "gateway" && w[1] == "run");
    if has_hermes && runs_gateway {
        None
    } else {
        Some(format!("its command line is {:?}", args.join(" ")))
    }
}

/// The gateway's status with uptime and tmux viewers; `model` is the main model from config.yaml.
pub fn view(env: &Env, model: Option<String>, now: chrono::DateTime<chrono::Utc>) -> GatewayView {
    let mut status = gateway::status(&env.hermes_home, model);
    if status.state == GatewayState::Running && status.pid.is_some_and(|p| !process_running(p)) {
        status.state = GatewayState::Stopped;
        status.started_at = None;
    }
    let uptime_secs = status
        .started_at
        .map(|t| (now - t).num_seconds().max(0))
        .filter(|_| status.state == GatewayState::Running);
    let exists = session_exists(env);
    GatewayView {
        status,
        uptime_secs,
        tmux_session: env.gateway_session.clone(),
        tmux_session_exists: exists,
        tmux_viewers: if exists { viewers(env) } else { Vec::new() },
    }
}

/// The main model from `$HERMES_HOME/config.yaml` (None when unset or unreadable).
pub fn main_model(env: &Env) -> Option<String> {
    crate::domain::agents::hermes::routing_slots(&env.hermes_home.join("config.yaml"))
        .ok()?
        .into_iter()
        .find(|s| s.name == crate::domain::agents::hermes::MAIN_SLOT)
        .and_then(|s| s.model)
}

/// The pid of the running gateway, when the files name a live gateway process.
fn running_pid(env: &Env) -> Option<u32> {
    let s = gateway::status(&env.hermes_home, None);
    s.pid
        .filter(|p| *p > 1 && process_running(*p) && s.state == GatewayState::Running)
}

/// Starts `hermes gateway run` in a detached tmux session and waits (up to `timeout`) until the
/// gateway's pid file names a live gateway process.
pub fn start(env: &Env, timeout: Duration) -> Result<StartOutcome, GatewayError> {
    if let Some(pid) = running_pid(env).filter(|p| not_a_gateway(*p).is_none()) {
        return Err(GatewayError::AlreadyRunning { pid });
    }
    if session_exists(env) {
        return Err(GatewayError::SessionExists {
            session: env.gateway_session.clone(),
            socket: socket_flag(env),
        });
    }
    let home = env.hermes_home.display().to_string();
    let out = tmux(env)
        .args(["new-session", "-d", "-s", &env.gateway_session, "-x", "160"])
        .args(["-y", "48", "-e", &format!("HERMES_HOME={home}"), "--"])
        .arg(&env.hermes_bin)
        .args(["gateway", "run"])
        .env("HERMES_HOME", &env.hermes_home)
        .output()
        .map_err(|e| GatewayError::Tmux(e.to_string()))?;
    if !out.status.success() {
        return Err(GatewayError::Tmux(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(pid) = running_pid(env).filter(|p| not_a_gateway(*p).is_none()) {
            return Ok(StartOutcome {
                pid,
                tmux_session: env.gateway_session.clone(),
            });
        }
        if Instant::now() >= deadline {
            return Err(GatewayError::StartTimeout {
                home,
                session: env.gateway_session.clone(),
                secs: timeout.as_secs(),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn signal(pid: u32, sig: libc::c_int) -> Result<(), GatewayError> {
    // Only a single positive pid > 1: never 0 / -1 / a negative process-group id.
    let Ok(p) = libc::pid_t::try_from(pid) else {
        return Err(GatewayError::Signal {
            pid,
            message: "pid out of range".into(),
        });
    };
    if p <= 1 {
        return Err(GatewayError::Signal {
            pid,
            message: "refusing to signal pid ≤ 1".into(),
        });
    }
    // SAFETY: kill(2) with a positive pid signals that one process; it touches no memory of ours.
    let rc = unsafe { libc::kill(p, sig) };
    if rc == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::ESRCH) {
        return Ok(());
    }
    Err(GatewayError::Signal {
        pid,
        message: e.to_string(),
    })
}

fn wait_gone(pid: u32, until: Instant) -> bool {
    loop {
        if !process_running(pid) {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops the running gateway: SIGTERM to the one pid the files name (after checking it is a gateway),
/// waits up to `timeout` for it to exit, then SIGKILL. Removes the tmux session if it outlived the
/// gateway.
pub fn stop(env: &Env, timeout: Duration) -> Result<StopOutcome, GatewayError> {
    let Some(pid) = running_pid(env) else {
        return Ok(StopOutcome {
            pid: None,
            how: StopHow::NotRunning,
            waited_ms: 0,
        });
    };
    if let Some(why) = not_a_gateway(pid) {
        return Err(GatewayError::NotAGateway {
            pid,
            why,
            home: env.hermes_home.display().to_string(),
        });
    }
    let started = Instant::now();
    signal(pid, libc::SIGTERM)?;
    let how = if wait_gone(pid, started + timeout) {
        StopHow::Terminated
    } else {
        // Re-check right before the hard kill: the pid must still be the gateway.
        if not_a_gateway(pid).is_none() {
            signal(pid, libc::SIGKILL)?;
        }
        if !wait_gone(pid, Instant::now() + Duration::from_secs(5)) {
            return Err(GatewayError::Unkillable { pid, secs: 5 });
        }
        StopHow::Killed
    };
    let waited_ms = started.elapsed().as_millis() as u64;
    if session_exists(env) {
        let _ = tmux(env)
            .args(["kill-session", "-t", &format!("={}", env.gateway_session)])
            .status();
    }
    Ok(StopOutcome {
        pid: Some(pid),
        how,
        waited_ms,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestartOutcome {
    pub stopped: StopOutcome,
    pub started: StartOutcome,
}

/// [`stop`] then [`start`].
pub fn restart(env: &Env, timeout: Duration) -> Result<RestartOutcome, GatewayError> {
    let stopped = stop(env, timeout)?;
    let started = start(env, timeout)?;
    Ok(RestartOutcome { stopped, started })
}

impl crate::domain::base::hint::Hinted for GatewayError {
    fn hints(&self) -> Vec<crate::domain::base::hint::Hint> {
        #[allow(unused_imports)]
        use crate::domain::base::hint::{Hint, Hinted};
        match self {
            GatewayError::AlreadyRunning { .. } => vec![Hint::StopOrRestartGateway],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_one_and_this_test_process_are_not_gateways() {
        assert!(not_a_gateway(1).is_some());
        assert!(not_a_gateway(0).is_some());
        assert!(not_a_gateway(std::process::id()).is_some());
        assert!(signal(1, 0).is_err());
    }

    #[test]
    fn stop_refuses_a_pid_that_is_not_a_gateway_and_leaves_it_alive() {
        let d = tempfile::tempdir().unwrap();
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        std::fs::write(d.path().join("gateway.pid"), child.id().to_string()).unwrap();
        let env = Env::for_dirs(d.path().join("nxr"), d.path());
        let err = stop(&env, Duration::from_secs(1)).unwrap_err();
        assert!(matches!(err, GatewayError::NotAGateway { .. }), "{err}");
        assert!(process_running(child.id()));
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
