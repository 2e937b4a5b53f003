//! `nxr scan`: one scan (catalog, rescore, notifications, usage) with progress on a terminal.

use super::Ctx;
use crate::domain::catalog::openrouter::OpenRouterClient;
use crate::domain::watch::scanner::{self, ScanReport};
use color_eyre::Result;
use color_eyre::eyre::eyre;

pub async fn run(ctx: &Ctx) -> Result<()> {
    let store = ctx.store().await?;
    // GET /models needs no key; a scan never sends chat requests.
    let client = OpenRouterClient::from_env(&ctx.env, None);
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    spinner.enable_steady_tick(std::time::Duration::from_millis(100));
    let progress = |step: scanner::Step| spinner.set_message(format!("scan: {}", step.label()));
    let result = scanner::scan(
        &store,
        &ctx.env,
        &client,
        store.clock(),
        &scanner::holder_id(),
        &progress,
    )
    .await;
    spinner.finish_and_clear();
    let report = result.map_err(|e| eyre!("{e}"))?;
    if ctx.json {
        return super::print_json(&report);
    }
    super::write_stdout(&render(&report))
}

pub fn render(r: &ScanReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "scanned at {}: {} models ({} free), {} scores stored",
        r.scanned_at, r.models, r.free_models, r.rows_scored
    );
    for b in &r.best {
        let _ = writeln!(out, "  best free for {:<9} {}", b.role.as_str(), b.model_id);
    }
    for s in &r.switched {
        let _ = writeln!(
            out,
            "  moved {} from {} to {}",
            s.agent, s.from_model, s.to_model
        );
    }
    if !r.chains_rewritten.is_empty() {
        let _ = writeln!(
            out,
            "  fallback chains rewritten for {} (`nxr agents fallbacks NAME` shows one)",
            r.chains_rewritten.join(", ")
        );
    }
    match r.notifications.len() {
        0 => {
            let _ = writeln!(out, "no new notifications");
        }
        n => {
            let _ = writeln!(out, "{n} new notification(s):");
            for n in &r.notifications {
                let _ = writeln!(out, "  [{}] {}", n.kind, n.title);
            }
            let _ = writeln!(out, "(`nxr notifications` lists them)");
        }
    }
    if let Some(u) = &r.usage
        && u.requests_added > 0
    {
        let _ = writeln!(
            out,
            "usage: {} new request(s) read from the agents' Hermes profiles",
            u.requests_added
        );
    }
    for a in &r.alerts {
        let _ = writeln!(
            out,
            "free budget at {} % ({} of {} requests today)",
            a.threshold, a.used, a.limit
        );
    }
    for w in &r.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}
