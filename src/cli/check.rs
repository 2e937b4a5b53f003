//! `nxr agents check [NAME] [--live] [--fix]`: the agents view's [`AgentCheck`] per agent, one line per
//! check (`--json`: each check with the same row's fallback chain, usage and Paperclip link).

use super::Ctx;
use super::agents::CheckArgs;
use crate::domain::agents;
use crate::domain::agents::credentials;
use crate::domain::view::{self, Checks};
use crate::domain::watch::agent_check::{AgentCheck, CheckState, Readiness, live};
use color_eyre::Result;
use color_eyre::eyre::bail;

pub async fn run(ctx: &Ctx, args: CheckArgs) -> Result<()> {
    let store = ctx.store().await?;
    if args.fix {
        let wrote = credentials::sync_all(&ctx.env, &store).await?;
        match wrote.len() {
            0 => errln!("every agent profile's .env was already in step"),
            _ => errln!(
                "brought the .env of {} in step with {}",
                wrote.join(", "),
                crate::domain::store::secrets::env_file(&ctx.env).display()
            ),
        }
    }
    let list = match &args.name {
        Some(name) => vec![agents::resolve(&store, &ctx.env, name).await?],
        None => agents::list(&store, &ctx.env).await?,
    };
    if list.is_empty() {
        if ctx.json {
            return super::print_json(&Vec::<AgentCheck>::new());
        }
        outln!("no agents yet; `nxr init` sets up the PM, Engineer and Hermes agents");
        return Ok(());
    }
    let mut rows = view::agents_of(&store, &ctx.env, store.clock(), list, Checks::Stored).await?;
    if args.live {
        let runnable = rows
            .iter()
            .filter(|r| {
                r.check
                    .as_ref()
                    .is_some_and(|c| c.state == CheckState::Ready)
            })
            .count();
        let limit = std::time::Duration::from_secs(args.timeout);
        errln!(
            "--live sends one tiny prompt per ready agent through Hermes: {runnable} request(s), each counted against the free daily bucket (50 a day below 10 credits purchased); each agent gets up to {} s (--timeout changes it)",
            limit.as_secs()
        );
        for row in rows.rows.iter_mut() {
            let Some(check) = row.check.as_mut().filter(|c| c.state == CheckState::Ready) else {
                continue;
            };
            let agent = &row.agent;
            let spinner = indicatif::ProgressBar::new_spinner();
            spinner.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            spinner.set_message(format!("asking {} …", agent.name));
            spinner.enable_steady_tick(std::time::Duration::from_millis(100));
            let answer = live::prompt(&store, &ctx.env, agent, limit, store.clock()).await;
            spinner.finish_and_clear();
            live::add_to(check, &answer);
        }
    }
    let checks = rows.checks();
    let readiness = Readiness::of(&checks);
    if ctx.json {
        super::print_json(&rows.check_answers())?;
    } else {
        for c in &checks {
            for line in check_lines(c) {
                outln!("{line}");
            }
        }
        for line in readiness_lines(&readiness) {
            outln!("{line}");
        }
    }
    if !readiness.all_ready() {
        bail!(
            "{} of {} agent(s) cannot run yet ({}); the lines above say what to fix",
            readiness.needs_key.len() + readiness.broken.len(),
            checks.len(),
            [&readiness.needs_key[..], &readiness.broken[..]]
                .concat()
                .join(", ")
        );
    }
    Ok(())
}

/// An agent's heading and a `✓`/`✗` line per check (with the fix after a `✗`).
pub fn check_lines(c: &AgentCheck) -> Vec<String> {
    let mut out = vec![format!(
        "{} ({}, profile {}, {}): {}",
        c.agent,
        c.role,
        c.profile,
        c.model,
        c.state.label()
    )];
    for l in &c.checks {
        let mark = if l.ok {
            "✓"
        } else if l.blocking {
            "✗"
        } else {
            "!"
        };
        match (&l.fix, l.ok) {
            (Some(fix), false) => out.push(format!("  {mark} {} — fix: {fix}", l.detail)),
            _ => out.push(format!("  {mark} {}", l.detail)),
        }
    }
    out
}

/// Which agents can run now and what the others miss, in plain words.
pub fn readiness_lines(r: &Readiness) -> Vec<String> {
    let mut out = Vec::new();
    if !r.ready.is_empty() {
        out.push(format!("Ready to run now: {}.", r.ready.join(", ")));
    }
    if !r.needs_key.is_empty() {
        out.push(format!(
            "Waiting for an OpenRouter key: {} — add a key with `nxr config set openrouter-key <key>` (a free account key from https://openrouter.ai/keys is enough).",
            r.needs_key.join(", ")
        ));
    }
    if !r.broken.is_empty() {
        out.push(format!(
            "Cannot run: {} — `nxr agents check` shows what to fix.",
            r.broken.join(", ")
        ));
    }
    out
}
