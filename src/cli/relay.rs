//! `nxr relay run`: the loopback relay that paces every agent's free OpenRouter requests.

use super::Ctx;
use crate::domain::budget::pacer::{DEFAULT_PER_MINUTE, Limits};
use crate::domain::store::Store;
use clap::{Args, Subcommand};
use color_eyre::Result;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum RelayCmd {
    /// Serve the relay on 127.0.0.1 until stopped: agents point at
    /// http://127.0.0.1:PORT/agents/NAME/v1 and their free requests share one paced budget.
    Run(RunArgs),
    /// Ask a running relay for its counts: free requests today, requests held now, and per agent
    /// and model what was forwarded, answered, held, refused and limited.
    Status(StatusArgs),
    /// Point every agent's Hermes profile (main model and fallback chain) at the running relay;
    /// each profile's config.yaml is kept first, so `disable` puts it back byte for byte.
    Enable(StatusArgs),
    /// Take every agent's profile off the relay: the kept config.yaml comes back unless the profile
    /// was changed since (then the change stays).
    Disable,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The relay's port.
    #[arg(long, default_value_t = 7879)]
    pub port: u16,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Port (0 picks a free one).
    #[arg(long, default_value_t = 7879)]
    pub port: u16,
    /// Free requests a minute the account may send (OpenRouter: 20).
    #[arg(long, default_value_t = DEFAULT_PER_MINUTE, value_parser = clap::value_parser!(u32).range(1..))]
    pub per_minute: u32,
    /// Free requests a day; by default the account's daily limit as the budget knows it (from
    /// OpenRouter's `/key` when a key is stored: 50, or 1000 once credits were bought).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub per_day: Option<u32>,
    /// The length of the per-minute window in seconds (shorter only to try the pacing out).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub minute_seconds: u64,
    /// The longest a request is held for a slot before it is answered 429, in seconds.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub max_wait_seconds: u64,
}

pub async fn run(ctx: &Ctx, cmd: RelayCmd) -> Result<()> {
    match cmd {
        RelayCmd::Run(args) => serve_relay(ctx, args).await,
        RelayCmd::Status(args) => status(ctx, args).await,
        RelayCmd::Enable(args) => enable(ctx, args).await,
        RelayCmd::Disable => disable(ctx).await,
    }
}

async fn enable(ctx: &Ctx, args: StatusArgs) -> Result<()> {
    use crate::domain::agents::relay_route;
    // Agents pointed at a relay that is not there cannot answer: refuse before changing anything.
    crate::web::relay::fetch_status(args.port).await?;
    let store = ctx.store().await?;
    let base = format!("http://127.0.0.1:{}", args.port);
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for agent in crate::domain::agents::list(&store, &ctx.env).await? {
        let profile = agent.profile();
        match relay_route::point(&ctx.env, &profile, &base) {
            Ok(changed) => rows.push(serde_json::json!({
                "agent": agent.name,
                "profile": profile.name,
                "url": relay_route::agent_url(&base, &profile.name),
                "changed": changed,
            })),
            Err(e) => failed.push(format!("{}: {e}", agent.name)),
        }
    }
    store
        .set_setting(relay_route::SETTING_PORT, &args.port.to_string())
        .await?;
    if ctx.json {
        super::print_json(&serde_json::json!({"pointed": rows, "failed": failed}))?;
    } else {
        for r in &rows {
            outln!(
                "{:<14} → {}{}",
                r["agent"].as_str().unwrap_or(""),
                r["url"].as_str().unwrap_or(""),
                if r["changed"] == true {
                    ""
                } else {
                    " (already)"
                }
            );
        }
    }
    if !failed.is_empty() {
        color_eyre::eyre::bail!(
            "could not point {} at the relay: {}; the others are pointed — fix the file and run `nxr relay enable` again, or `nxr relay disable`",
            failed.len(),
            failed.join("; ")
        );
    }
    Ok(())
}

async fn disable(ctx: &Ctx) -> Result<()> {
    use crate::domain::agents::relay_route::{self, Unpointed};
    let store = ctx.store().await?;
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for agent in crate::domain::agents::list(&store, &ctx.env).await? {
        match relay_route::unpoint(&ctx.env, &agent.profile()) {
            Ok(done) => rows.push((agent.name, done)),
            Err(e) => failed.push(format!("{}: {e}", agent.name)),
        }
    }
    if failed.is_empty() {
        store.delete_setting(relay_route::SETTING_PORT).await?;
    }
    if ctx.json {
        let list: Vec<_> = rows
            .iter()
            .map(|(name, done)| serde_json::json!({"agent": name, "result": done}))
            .collect();
        super::print_json(&serde_json::json!({"unpointed": list, "failed": failed}))?;
    } else {
        for (name, done) in &rows {
            let what = match done {
                Unpointed::Restored => "back on its own config.yaml (as before the relay)",
                Unpointed::KeptChanged => "changed since it was pointed: kept as it is",
                Unpointed::NotPointed => "was not on the relay",
            };
            outln!("{name:<14} {what}");
        }
    }
    if !failed.is_empty() {
        color_eyre::eyre::bail!(
            "could not take {} off the relay: {}; run `nxr relay disable` again",
            failed.len(),
            failed.join("; ")
        );
    }
    Ok(())
}

async fn status(ctx: &Ctx, args: StatusArgs) -> Result<()> {
    let s = crate::web::relay::fetch_status(args.port).await?;
    if ctx.json {
        return super::print_json(&s);
    }
    outln!(
        "relay on 127.0.0.1:{}: {} of {} free requests used today, {} held now ({} a minute)",
        args.port,
        s.free_today,
        s.per_day,
        s.waiting,
        s.per_minute
    );
    for (agent, models) in &s.agents {
        for (model, c) in models {
            let mut limited: Vec<String> =
                c.limited.iter().map(|(k, n)| format!("{k} {n}")).collect();
            limited.extend(
                c.upstream_errors
                    .iter()
                    .map(|(s, n)| format!("HTTP {s} {n}")),
            );
            outln!(
                "  {agent:<14} {model:<40} forwarded {} answered {} held {} ({} ms) refused {}{}",
                c.forwarded,
                c.answered,
                c.held,
                c.held_ms,
                c.refused,
                if limited.is_empty() {
                    String::new()
                } else {
                    format!(" not answered: {}", limited.join(", "))
                }
            );
        }
    }
    Ok(())
}

/// The relay's pacing from the budget: the account's daily limit (unless `per_day` says
/// otherwise), with the free requests already made today counted.
pub(super) async fn start(
    ctx: &Ctx,
    store: std::sync::Arc<Store>,
    port: u16,
    limits: impl FnOnce(u32) -> Limits,
) -> Result<(crate::web::relay::RelayHandle, Limits)> {
    let key = crate::domain::store::secrets::openrouter_key(&ctx.env)?;
    let budget = crate::domain::budget::load(&store, store.clock()).await?;
    let limits = limits(u32::try_from(budget.daily_limit).unwrap_or(u32::MAX));
    let cfg = crate::web::relay::RelayConfig {
        upstream: ctx.env.openrouter_url.clone(),
        key,
        limits,
        store: Some(store),
    };
    let used = u32::try_from(budget.used_today).unwrap_or(u32::MAX);
    let rt = tokio::runtime::Handle::current();
    let handle = tokio::task::spawn_blocking(move || {
        crate::web::relay::start(cfg, rt, port).inspect(|h| h.seed_today(used))
    })
    .await??;
    Ok((handle, limits))
}

async fn serve_relay(ctx: &Ctx, args: RunArgs) -> Result<()> {
    let store = std::sync::Arc::new(ctx.store().await?);
    let (mut handle, limits) = start(ctx, store, args.port, |daily| Limits {
        per_minute: args.per_minute,
        per_day: args.per_day.unwrap_or(daily),
        minute: Duration::from_secs(args.minute_seconds),
        max_wait: Duration::from_secs(args.max_wait_seconds),
    })
    .await?;
    if ctx.json {
        super::print_json(&serde_json::json!({
            "url": handle.base_url(),
            "agent_url": handle.agent_url("NAME"),
            "addr": handle.addr.to_string(),
            "per_minute": limits.per_minute,
            "per_day": limits.per_day,
        }))?;
    } else {
        outln!("nxr relay: listening on {}", handle.base_url());
        outln!("  agents use {}", handle.agent_url("NAME"));
        outln!(
            "  free requests paced to {} a minute and {} a day for the whole account",
            limits.per_minute,
            limits.per_day
        );
        outln!("Stop with Ctrl-C.");
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    super::serve::wait_for_shutdown().await;
    errln!("nxr relay: stopping");
    tokio::task::spawn_blocking(move || handle.stop()).await?;
    Ok(())
}
