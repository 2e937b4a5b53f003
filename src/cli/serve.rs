//! `nxr serve`: starts the web control plane and prints its sign-in URL once.

use super::Ctx;
use clap::Args;
use color_eyre::Result;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to bind. Non-loopback addresses need --allow-remote.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    /// Port (0 picks a free one).
    #[arg(long, default_value_t = 7878)]
    pub port: u16,
    /// Allow binding to a non-loopback address.
    #[arg(long)]
    pub allow_remote: bool,
    /// In team mode (NXR_DB_URL), how often this host makes its agents' profiles agree with the
    /// database, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub reconcile_every: u64,
}

pub async fn run(ctx: &Ctx, args: ServeArgs) -> Result<()> {
    let store = Arc::new(ctx.store().await?);
    let store_bg = store.clone();
    let store_end = store.clone();
    let holder = crate::domain::watch::scanner::holder_id();
    let holder_bg = holder.clone();
    let rt = tokio::runtime::Handle::current();
    let env = ctx.env.clone();
    let (bind, port, allow_remote) = (args.bind.clone(), args.port, args.allow_remote);
    // Binding is blocking work; keep it off the async workers.
    let mut handle = tokio::task::spawn_blocking(move || {
        crate::web::server::start(env, store, rt, &bind, port, allow_remote)
    })
    .await??;
    let relay = start_relay(ctx, &store_end).await;
    if ctx.json {
        super::print_json(&serde_json::json!({
            "url": handle.login_url(),
            "addr": handle.addr.to_string(),
            "relay": relay.as_ref().map(|(r, _)| r.base_url()),
        }))?;
    } else {
        if let Some((r, l)) = &relay {
            outln!(
                "nxr serve: relay on {} for the agents ({} free requests a minute, {} a day)",
                r.base_url(),
                l.per_minute,
                l.per_day
            );
        }
        outln!("nxr serve: listening on {}", handle.base_url());
        outln!("Open this URL once to sign in (it sets a session cookie):");
        outln!("  {}", handle.login_url());
        outln!("Stop with Ctrl-C.");
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let background = tokio::spawn(background(ctx.env.clone(), store_bg, holder_bg));
    let team = ctx.env.db_url.is_some().then(|| {
        tokio::spawn(team_loop(
            ctx.env.clone(),
            store_end.clone(),
            std::time::Duration::from_secs(args.reconcile_every),
        ))
    });
    wait_for_shutdown().await;
    background.abort();
    if let Some(team) = team {
        team.abort();
        let me = crate::domain::base::host::this_host(&ctx.env);
        let _ = crate::domain::store::hosts::beat(&store_end, &me, false, store_end.now()).await;
    }
    if let Err(e) =
        crate::domain::store::heartbeat::stop(&store_end, &holder, store_end.now()).await
    {
        tracing::warn!("could not record that nxr serve stopped: {e}");
    }
    errln!("nxr serve: stopping");
    tokio::task::spawn_blocking(move || {
        handle.stop();
        drop(relay);
    })
    .await?;
    Ok(())
}

/// The relay, when `nxr relay enable` pointed the agents at one: started on its port with the
/// account's limits. A relay that cannot start is reported and the web server runs on.
async fn start_relay(
    ctx: &Ctx,
    store: &Arc<crate::domain::store::Store>,
) -> Option<(
    crate::web::relay::RelayHandle,
    crate::domain::budget::pacer::Limits,
)> {
    use crate::domain::agents::relay_route::SETTING_PORT;
    let port = match store.setting(SETTING_PORT).await {
        Ok(Some(p)) => p.trim().parse::<u16>().ok()?,
        Ok(None) => return None,
        Err(e) => {
            errln!("nxr serve: cannot read whether the relay is enabled: {e}");
            return None;
        }
    };
    let limits = |daily| crate::domain::budget::pacer::Limits {
        per_day: daily,
        ..Default::default()
    };
    match super::relay::start(ctx, store.clone(), port, limits).await {
        Ok(started) => Some(started),
        Err(e) => {
            errln!(
                "nxr serve: the relay the agents point at could not start: {e}; their free requests fail until it runs (`nxr relay run --port {port}`), or take them off it with `nxr relay disable`"
            );
            None
        }
    }
}

/// Team mode: every `every`, this host beats in `hosts` (as serving) and makes its agents' profiles
/// agree with the database; each change and each problem goes to stderr once.
async fn team_loop(
    env: crate::domain::base::env::Env,
    store: Arc<crate::domain::store::Store>,
    every: std::time::Duration,
) {
    let me = crate::domain::base::host::this_host(&env);
    let mut last_error = String::new();
    loop {
        let beat = crate::domain::store::hosts::beat(&store, &me, true, store.now()).await;
        let result = match beat {
            Ok(()) => crate::domain::watch::team::reconcile(&store, &env)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match result {
            Ok(report) => {
                let problems = report.problems.join("; ");
                for line in report.lines() {
                    // A problem that stays is said once, not every few seconds.
                    if !report.problems.contains(&line) || problems != last_error {
                        errln!("nxr serve: {line}");
                    }
                }
                last_error = problems;
            }
            Err(e) if e != last_error => {
                errln!("nxr serve: cannot bring this host's agents in step: {e}");
                last_error = e;
            }
            Err(_) => {}
        }
        tokio::time::sleep(every).await;
    }
}

/// Ctrl-C or SIGTERM.
pub(super) async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Every minute: the beat that says `nxr serve` runs (`domain::store::heartbeat`), usage, the account's count, the budget thresholds, the task queue, and the scan
/// when it is due (one instance per interval in team mode). Reports go to stderr.
async fn background(
    env: crate::domain::base::env::Env,
    store: Arc<crate::domain::store::Store>,
    holder: String,
) {
    use crate::domain::watch::scheduler::{self, ScanDecision, TickState};
    let key = crate::domain::store::secrets::openrouter_key(&env)
        .ok()
        .flatten();
    let client = crate::domain::catalog::openrouter::OpenRouterClient::from_env(&env, key);
    let clock = store.clock();
    let runner = crate::domain::budget::queue::HermesRunner::default();
    let mut state = TickState::default();
    let mut first = true;
    loop {
        if let Err(e) = crate::domain::store::heartbeat::beat(&store, &holder, clock.now()).await {
            errln!("nxr serve: cannot record that it runs: {e}");
        }
        match scheduler::tick(&store, &env, &client, &runner, clock, &holder, &mut state).await {
            Ok(r) => {
                match &r.scan {
                    Some(ScanDecision::Ran { report }) => errln!(
                        "nxr serve: scan done at {}: {} models, {} new notification(s)",
                        report.scanned_at,
                        report.models,
                        report.notifications.len()
                    ),
                    Some(ScanDecision::Failed { error }) => {
                        errln!("nxr serve: scan failed: {error}")
                    }
                    Some(ScanDecision::Skipped { holder }) => {
                        errln!("nxr serve: scan skipped: another nxr ({holder}) is scanning")
                    }
                    Some(ScanDecision::NotDue { last, next }) if first => errln!(
                        "nxr serve: scan skipped: the last scan ran at {last}; the next is due at {next}"
                    ),
                    _ => {}
                }
                for a in &r.alerts {
                    errln!(
                        "nxr serve: free budget at {} % ({} of {})",
                        a.threshold,
                        a.used,
                        a.limit
                    );
                }
                if !r.drained.ran.is_empty() {
                    errln!("nxr serve: ran {} queued task(s)", r.drained.ran.len());
                }
                for w in &r.warnings {
                    tracing::warn!("{w}");
                }
            }
            Err(e) => errln!("nxr serve: background work failed: {e}"),
        }
        first = false;
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    }
}
