//! `nxr agents recommend` and `nxr agents rescore`.

use super::Ctx;
use crate::domain::upgrade::recommend::{self, Recommendation};
use color_eyre::Result;

fn score(s: Option<u32>) -> String {
    s.map(|s| s.to_string()).unwrap_or_else(|| "—".into())
}

fn table(recs: &[Recommendation]) -> String {
    if recs.is_empty() {
        return "no agents yet: `nxr init` creates the PM, Engineer and Hermes agents, `nxr agents create` one more\n".into();
    }
    let w_name = recs
        .iter()
        .map(|r| r.agent.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let w_cur = recs
        .iter()
        .map(|r| r.current_model.chars().count() + 19)
        .max()
        .unwrap_or(7)
        .max(7);
    let mut out = format!(
        "{:<w_name$}  {:<9}  {:<w_cur$}  {}\n",
        "NAME", "ROLE", "CURRENT", "RECOMMENDED"
    );
    for r in recs {
        let current = if r.current_passes {
            format!("{} ({})", r.current_model, score(r.current_score))
        } else if r.current_score.is_some() {
            format!("{} (fails the role)", r.current_model)
        } else {
            format!("{} (not in catalog)", r.current_model)
        };
        out.push_str(&format!(
            "{:<w_name$}  {:<9}  {:<w_cur$}  {} ({}){}\n",
            r.agent,
            r.role.as_str(),
            current,
            r.recommended_model,
            score(r.recommended_score),
            if r.upgrade_available {
                "  ▲ upgrade available"
            } else {
                ""
            }
        ));
    }
    out
}

/// `nxr agents recommend [--json]`.
pub async fn recommend(ctx: &Ctx) -> Result<()> {
    let store = ctx.store_read().await?;
    let recs = recommend::for_store(&store, &ctx.env, store.now()).await?;
    if ctx.json {
        return super::print_json(&recs);
    }
    let mut text = table(&recs);
    let n = recs.iter().filter(|r| r.upgrade_available).count();
    if n > 0 {
        text.push_str(&format!(
            "\n{n} agent(s) can move to a better free model (Tab 3 in `nxr`, `u` to upgrade)\n"
        ));
    }
    super::write_stdout(&text)
}

/// `nxr agents rescore [--json]`.
pub async fn agents_rescore(ctx: &Ctx) -> Result<()> {
    let store = ctx.store().await?;
    let report = recommend::rescore_agents(&store, &ctx.env, store.now()).await?;
    if ctx.json {
        return super::print_json(&report);
    }
    let mut text = format!(
        "scored {} models ({} rows) at {}\n",
        report.models_scored, report.rows_written, report.scored_at
    );
    if report.changed.is_empty() {
        text.push_str(match report.previous_scored_at {
            Some(_) => "no agent's recommendation changed since the last rescore\n",
            None => "first rescore: nothing to compare with yet\n",
        });
    } else {
        text.push_str("recommendation changed:\n");
        for c in &report.changed {
            text.push_str(&format!(
                "  {} ({}): {} → {}{}\n",
                c.agent,
                c.role,
                c.before.as_deref().unwrap_or("(none)"),
                c.after,
                if c.upgrade_available {
                    "  ▲ upgrade available"
                } else {
                    ""
                }
            ));
        }
    }
    text.push('\n');
    text.push_str(&table(&report.recommendations));
    super::write_stdout(&text)
}
