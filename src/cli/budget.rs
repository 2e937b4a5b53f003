//! `nxr budget`: today's free requests against the daily limit, per agent, and the projection.

use super::Ctx;
use crate::domain::budget::guard::{self, Alert};
use crate::domain::budget::{self, Budget};
use crate::domain::catalog::openrouter::OpenRouterClient;
use crate::domain::{budget::usage, store::secrets};
use color_eyre::Result;

#[derive(serde::Serialize)]
struct BudgetJson<'a> {
    #[serde(flatten)]
    budget: &'a Budget,
    remaining: u64,
    percent: u64,
    alerts: &'a [Alert],
    warnings: &'a [String],
}

pub async fn run(ctx: &Ctx) -> Result<()> {
    let store = ctx.store().await?;
    let clock = store.clock();
    let mut warnings = Vec::new();
    let ingest = usage::ingest(&store, &ctx.env, clock).await?;
    warnings.extend(ingest.warnings);
    let mut unread = None;
    if let Some(key) = secrets::openrouter_key(&ctx.env)? {
        let client = OpenRouterClient::from_env(&ctx.env, Some(key));
        if let Err(e) = budget::refresh_account(&store, &client, clock).await {
            unread = Some(e.to_string());
        }
    }
    let b = budget::load(&store, clock).await?;
    if let Some(why) = unread {
        warnings.push(budget::unread_count_warning(&b, &why));
    }
    let alerts = guard::check(&store, &ctx.env, &b, clock).await?;
    if ctx.json {
        return super::print_json(&BudgetJson {
            budget: &b,
            remaining: b.remaining(),
            percent: b.percent(),
            alerts: &alerts,
            warnings: &warnings,
        });
    }
    let text = render(&b);
    super::write_stdout(&text)?;
    for a in &alerts {
        if let Some(Err(e)) = &a.telegram {
            errln!(
                "warning: the {} % Telegram message failed: {e}",
                a.threshold
            );
        }
    }
    for w in &warnings {
        errln!("warning: {w}");
    }
    Ok(())
}

pub fn render(b: &Budget) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "free requests today: {} / {} ({} %), {} left; resets {}",
        b.used_today,
        b.daily_limit,
        b.percent(),
        b.remaining(),
        b.resets_at
    );
    if let (Some(a), Some(outside)) = (&b.account, b.outside_agents) {
        let _ = writeln!(
            out,
            "  OpenRouter counts {} for the account: {} by nxr's agents, {} outside nxr's agents",
            a.used, b.agents_today, outside
        );
    }
    let _ = writeln!(
        out,
        "projected by 00:00 UTC: {} ({:.1} an hour over the last hours)",
        b.projected_at_midnight, b.rate_per_hour
    );
    if let Some(at) = &b.hits_limit_at {
        let _ = writeln!(
            out,
            "on track to hit the limit at {} UTC",
            at.get(11..16).unwrap_or(at)
        );
    }
    render_per_agent(&mut out, b);
    render_rate_limits(&mut out, b);
    out
}

/// Appends the per-agent table (requests, tokens and cost over today, 7 and 30 days), and a line
/// for each agent that ran on its fallback chain.
fn render_per_agent(out: &mut String, b: &Budget) {
    use std::fmt::Write;
    if b.per_agent.is_empty() {
        let _ = writeln!(out, "no requests in the last 30 days");
    } else {
        let _ = writeln!(
            out,
            "{:<20} {:>6} {:>6} {:>6} {:>10} {:>10} {:>10} {:>10} {:>9}",
            "agent",
            "today",
            "7d",
            "30d",
            "tokens 30d",
            "cost today",
            "cost 7d",
            "cost 30d",
            "last"
        );
        for u in &b.per_agent {
            let _ = writeln!(
                out,
                "{:<20} {:>6} {:>6} {:>6} {:>10} {:>10} {:>10} {:>10} {:>9}",
                u.agent.chars().take(20).collect::<String>(),
                u.today,
                u.last_7d,
                u.last_30d,
                u.tokens_30d,
                format!("${:.4}", u.cost_today),
                format!("${:.4}", u.cost_7d),
                format!("${:.4}", u.cost_30d),
                u.last_at
                    .as_deref()
                    .and_then(|t| t.get(11..16))
                    .unwrap_or("-")
            );
        }
    }
    for u in b.per_agent.iter().filter(|u| u.other_model_7d > 0) {
        let _ = writeln!(
            out,
            "{} ran on another model than its own (its fallback chain): {} of {} request(s) today, {} of {} in 7 days",
            u.agent, u.other_model_today, u.today, u.other_model_7d, u.last_7d
        );
    }
}

/// Appends today's rate limits by kind (with what to do about each) and the last five 429s.
fn render_rate_limits(out: &mut String, b: &Budget) {
    use std::fmt::Write;
    if !b.relay.is_empty() {
        let _ = writeln!(out, "relay today: {}", b.relay.summary());
    }
    if !b.rate_limits_today.is_empty() {
        let _ = writeln!(
            out,
            "rate limited today, by kind (not counted as requests):"
        );
        for t in &b.rate_limits_today {
            let _ = writeln!(
                out,
                "  {} — {}",
                crate::domain::catalog::ratelimit::tally_line(t),
                t.kind.hint()
            );
        }
    }
    for e in b.rate_limits.iter().take(5) {
        let _ = writeln!(
            out,
            "rate limited {} {} ({}){}",
            e.at,
            e.model,
            e.kind.as_deref().unwrap_or("429"),
            e.agent
                .as_deref()
                .map(|a| format!(" for {a}"))
                .unwrap_or_default()
        );
    }
}
