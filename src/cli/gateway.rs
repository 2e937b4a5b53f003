//! `nxr gateway start|stop|restart|status`: the Hermes gateway in its tmux session
//! (`domain::agents::gateway_control`, the same functions Tab 1 and the web /hermes page call).

use super::Ctx;
use crate::domain::agents::gateway::GatewayState;
use crate::domain::agents::gateway_control::{self, DEFAULT_TIMEOUT};
use clap::Subcommand;
use color_eyre::Result;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum GatewayCmd {
    /// Run `hermes gateway run` in a detached tmux session (refuses when one already runs).
    Start(TimeoutArg),
    /// SIGTERM the gateway, wait for it to exit, SIGKILL after the timeout.
    Stop(TimeoutArg),
    /// Stop, then start.
    Restart(TimeoutArg),
    /// PID, uptime, model, state and tmux viewers.
    Status,
}

#[derive(Debug, clap::Args)]
pub struct TimeoutArg {
    /// Seconds to wait for the gateway to start or to exit.
    #[arg(long, default_value_t = DEFAULT_TIMEOUT.as_secs())]
    pub timeout: u64,
}

pub async fn run(ctx: &Ctx, cmd: GatewayCmd) -> Result<()> {
    let env = ctx.env.clone();
    let json = ctx.json;
    // The status's uptime is measured against the store's clock.
    let now = match cmd {
        GatewayCmd::Status => Some(ctx.store_read().await?.now()),
        _ => None,
    };
    tokio::task::spawn_blocking(move || run_blocking(&env, json, cmd, now)).await?
}

fn run_blocking(
    env: &crate::domain::base::env::Env,
    json: bool,
    cmd: GatewayCmd,
    now: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<()> {
    match cmd {
        GatewayCmd::Start(t) => {
            let out = gateway_control::start(env, Duration::from_secs(t.timeout))?;
            if json {
                return super::print_json(&out);
            }
            outln!(
                "started the Hermes gateway (pid {}) in tmux session {:?}",
                out.pid,
                out.tmux_session
            );
        }
        GatewayCmd::Stop(t) => {
            let out = gateway_control::stop(env, Duration::from_secs(t.timeout))?;
            if json {
                return super::print_json(&out);
            }
            outln!("{}", out.describe());
        }
        GatewayCmd::Restart(t) => {
            let out = gateway_control::restart(env, Duration::from_secs(t.timeout))?;
            if json {
                return super::print_json(&out);
            }
            outln!("{}", out.stopped.describe());
            outln!(
                "started the Hermes gateway (pid {}) in tmux session {:?}",
                out.started.pid,
                out.started.tmux_session
            );
        }
        GatewayCmd::Status => {
            let now = now.unwrap_or_else(|| crate::domain::base::clock::system().now());
            let v = gateway_control::view(env, gateway_control::main_model(env), now);
            if json {
                return super::print_json(&v);
            }
            let state = match v.status.state {
                GatewayState::Running => "running",
                GatewayState::Stopped => "stopped",
                GatewayState::NeverStarted => "never started",
            };
            outln!("gateway: {state}");
            if let Some(p) = v.status.pid {
                outln!("pid: {p}");
            }
            if let Some(u) = v.uptime_secs {
                outln!("uptime: {}", crate::domain::view::duration_text(u));
            }
            outln!(
                "model: {}",
                v.status.model.as_deref().unwrap_or("(not set)")
            );
            if let Some(r) = &v.status.reported_state {
                outln!("reported state: {r}");
            }
            outln!(
                "tmux session {:?}: {} ({} viewer{})",
                v.tmux_session,
                if v.tmux_session_exists {
                    "open"
                } else {
                    "none"
                },
                v.tmux_viewers.len(),
                if v.tmux_viewers.len() == 1 { "" } else { "s" }
            );
            if let Some(n) = &v.status.note {
                outln!("note: {n}");
            }
        }
    }
    Ok(())
}
