//! `nxr service install|uninstall|status`: the user-level service that runs `nxr serve`
//! (`domain::setup::service`): a systemd user unit on Linux, a launchd agent on macOS.

use super::Ctx;
use crate::domain::setup::doctor::{self, Mark};
use crate::domain::setup::service::{self, Manager};
use clap::Subcommand;
use color_eyre::Result;
use color_eyre::eyre::{bail, eyre};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum ServiceCmd {
    /// Write the service that runs `nxr serve` (restarts it on failure, logs to $NXR_HOME/logs/serve.log)
    /// with this shell's NXR_HOME, HERMES_HOME, URLs and PATH, and start it. Safe to run again.
    Install {
        /// The port `nxr serve` listens on.
        #[arg(long, default_value_t = 7878)]
        port: u16,
        /// Only write the files; do not ask systemd / launchd to start the service.
        #[arg(long)]
        no_start: bool,
    },
    /// Stop the service and remove exactly the files `nxr service install` wrote.
    Uninstall {
        /// Only remove the files; do not ask systemd / launchd to stop the service first.
        #[arg(long)]
        no_stop: bool,
    },
    /// Whether the service is installed and runs, whether an `nxr serve` runs, and the last scan's age.
    Status,
}

fn unit_path(manager: Manager) -> Result<PathBuf> {
    let home = directories::BaseDirs::new()
        .map(|d| d.home_dir().to_path_buf())
        .ok_or_else(|| eyre!("cannot find your home directory; set HOME"))?;
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    Ok(service::unit_path(manager, &home, xdg.as_deref()))
}

fn current_spec(ctx: &Ctx, port: u16) -> Result<service::Spec> {
    let exe = std::env::current_exe()?;
    let exe = std::fs::canonicalize(&exe).unwrap_or(exe);
    let path = std::env::var("PATH").ok();
    Ok(service::spec(
        &ctx.env,
        Manager::current(),
        exe,
        port,
        path,
    )?)
}

/// The token file's lines, when the database is a server reached with credentials.
fn db_secret(ctx: &Ctx) -> Option<String> {
    let url = ctx.env.db_url.as_ref()?;
    let mut text = format!("NXR_DB_URL={url}\n");
    if let Some(t) = &ctx.env.db_token {
        text.push_str(&format!("NXR_DB_TOKEN={t}\n"));
    }
    Some(text)
}

pub async fn run(ctx: &Ctx, cmd: ServiceCmd) -> Result<()> {
    let manager = Manager::current();
    let unit = unit_path(manager)?;
    match cmd {
        ServiceCmd::Install { port, no_start } => {
            let spec = current_spec(ctx, port)?;
            let done = service::install(&ctx.env, &spec, &unit, db_secret(ctx).as_deref())?;
            if ctx.json {
                super::print_json(&done)?;
            } else if done.changed {
                outln!("wrote {}:", unit.display());
                super::write_stdout(&done.text)?;
            } else {
                outln!("{} already says this (unchanged):", unit.display());
                super::write_stdout(&done.text)?;
            }
            if no_start {
                let how = service::start_commands(manager, &unit)
                    .iter()
                    .map(|c| format!("`{}`", c.join(" ")))
                    .collect::<Vec<_>>()
                    .join(" then ");
                errln!("not started (--no-start); {how} starts it");
                return Ok(());
            }
            match service::run_commands(&service::start_commands(manager, &unit)) {
                Ok(()) => errln!("started: `nxr service status` shows it"),
                Err(e) => bail!(
                    "wrote the service, but could not start it: {e}; start it by hand when your session has a service manager, or run `nxr serve` in a terminal"
                ),
            }
            Ok(())
        }
        ServiceCmd::Uninstall { no_stop } => {
            if !no_stop
                && unit.exists()
                && let Err(e) = service::run_commands(&service::stop_commands(manager, &unit))
            {
                errln!("could not stop the service ({e}); removing its files anyway");
            }
            let removed = service::uninstall(&ctx.env)?;
            if ctx.json {
                return super::print_json(&removed);
            }
            if removed.is_empty() {
                outln!("no service installed by nxr: nothing to remove");
            }
            for p in &removed {
                outln!("removed {}", p.display());
            }
            if !no_stop && manager == Manager::Systemd && !removed.is_empty() {
                let _ = service::run_commands(&[vec![
                    "systemctl".into(),
                    "--user".into(),
                    "daemon-reload".into(),
                ]]);
            }
            Ok(())
        }
        ServiceCmd::Status => status(ctx, manager, &unit).await,
    }
}

async fn status(ctx: &Ctx, manager: Manager, unit: &std::path::Path) -> Result<()> {
    let installed = std::fs::read_to_string(unit).ok();
    let mut lines = Vec::new();
    match &installed {
        Some(text) if text.contains(service::MARKER) => {
            let port = service::read_record(&ctx.env)?
                .and_then(|r| r.port)
                .unwrap_or(7878);
            let now = service::render(&current_spec(ctx, port)?);
            lines.push(if &now == text {
                format!("✓ service: installed at {}", unit.display())
            } else {
                format!(
                    "✗ service: {} differs from what this shell would write (another nxr, home or URL)\n    fix: `nxr service install` writes it again",
                    unit.display()
                )
            });
            lines.push(match service::is_active(manager) {
                Some(true) => "✓ service manager: active".to_string(),
                Some(false) => "✗ service manager: not running\n    fix: `nxr service install` starts it; its log is $NXR_HOME/logs/serve.log".to_string(),
                None => "– service manager: cannot be asked (no user session bus?)".to_string(),
            });
        }
        Some(_) => lines.push(format!(
            "✗ service: {} exists but was not written by nxr",
            unit.display()
        )),
        None => lines.push(format!(
            "– service: not installed (`nxr service install` writes {})",
            unit.display()
        )),
    }
    let store = ctx.store_read().await?;
    for l in [
        doctor::state::serve_line(&ctx.env, &store).await,
        doctor::state::last_scan_line(&store).await,
    ] {
        let mut s = format!("{} {}: {}", l.mark.symbol(), l.topic.label(), l.detail);
        if let (Mark::Fail, Some(fix)) = (l.mark, &l.fix) {
            s.push_str(&format!("\n    fix: {fix}"));
        }
        lines.push(s);
    }
    for l in lines {
        outln!("{l}");
    }
    Ok(())
}
