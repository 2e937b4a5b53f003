//! `nxr status`: the one-screen summary (`domain::view::Dashboard`, the one Tab 1 and the web
//! dashboard show): the Hermes gateway, the agents, today's free budget, the newest notifications,
//! the catalog and whether `nxr serve` runs (the last scan's age).

use super::{Ctx, shown};
use crate::domain::view::{self, Dashboard, NEWEST_NOTIFICATIONS};
use color_eyre::Result;

pub async fn run(ctx: &Ctx) -> Result<()> {
    let store = ctx.store_read().await?;
    let dash = view::dashboard(&store, &ctx.env, store.clock(), NEWEST_NOTIFICATIONS).await;
    if ctx.json {
        return super::print_json(&dash);
    }
    super::write_stdout(&summary(&dash))?;
    for e in [
        &dash.agents_error,
        &dash.budget_error,
        &dash.notifications_error,
    ]
    .into_iter()
    .flatten()
    {
        errln!("{e}");
    }
    Ok(())
}

/// The summary as text (pure).
pub fn summary(d: &Dashboard) -> String {
    let mut out = String::new();
    let g = &d.gateway;
    out.push_str(&format!("gateway: {}", g.state.label()));
    if let Some(pid) = g.pid {
        out.push_str(&format!(", pid {pid}"));
    }
    if let Some(t) = g.started_at {
        out.push_str(&format!(
            ", up {}",
            view::duration_text((d.now - t).num_seconds())
        ));
    }
    if let Some(m) = &g.model {
        out.push_str(&format!(", model {}", shown(m)));
    }
    out.push('\n');
    if let Some(n) = &g.note {
        out.push_str(&format!("  {}\n", shown(n)));
    }
    out.push_str(&format!("agents: {}\n", d.agents.len()));
    if d.agents.is_empty() && d.agents_error.is_none() {
        out.push_str("  none yet: `nxr init` creates the PM, Engineer and Hermes agents\n");
    }
    let name_w = d
        .agents
        .iter()
        .map(|a| a.agent.name.chars().count())
        .max()
        .unwrap_or(0);
    for row in &d.agents {
        let a = &row.agent;
        out.push_str(&format!(
            "  {:<name_w$}  {:<9}  {}  ({})\n",
            shown(&a.name),
            a.role.as_str(),
            shown(&a.model),
            d.last_activity(a.id)
                .map(|t| format!("last request {t}"))
                .unwrap_or_else(|| "no requests today".into())
        ));
    }
    match &d.budget {
        Some(b) => out.push_str(&format!(
            "budget: {} / {} free requests today ({} %), projected {} by 00:00 UTC, resets {}\n",
            b.used_today,
            b.daily_limit,
            b.percent(),
            b.projected_at_midnight,
            b.resets_at
        )),
        None => out.push_str("budget: cannot be read\n"),
    }
    out.push_str(&format!(
        "notifications: {} unread\n",
        d.unread_notifications
    ));
    for n in d.newest(NEWEST_NOTIFICATIONS as usize) {
        out.push_str(&format!(
            "  {} {}  {}\n",
            if n.is_unread() { "●" } else { " " },
            shown(&n.title),
            n.created_at
        ));
    }
    out.push_str(&format!("{}\n", d.catalog_line()));
    out.push_str(&format!("{}\n", d.background.line(d.now)));
    for line in d.background.host_lines() {
        out.push_str(&format!("{}\n", shown(&line)));
    }
    out
}
