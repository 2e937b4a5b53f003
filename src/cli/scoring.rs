//! `nxr models best-free|roster|rescore|explain`. Thin: one `domain::scoring::rescore` call each, rendered
//! as text (pure `render_*` functions, so tests can check them) or JSON with `--json`.

use super::Ctx;
use crate::domain::base::roles::Role;
use crate::domain::scoring::PickSource;
use crate::domain::scoring::rescore::{self, BestFree, Explanation, RescoreReport, Roster};
use clap::Args;
use color_eyre::Result;
use color_eyre::eyre::eyre;
use std::fmt::Write as _;

#[derive(Debug, Args)]
pub struct BestFreeArgs {
    /// pm, engineer, hermes, creative, research or custom
    #[arg(long)]
    pub role: String,
}

#[derive(Debug, Args)]
pub struct RosterArgs {
    /// Only this role.
    #[arg(long)]
    pub role: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The model id, e.g. `openai/gpt-oss-120b:free`.
    pub model: String,
    #[arg(long)]
    pub role: String,
}

fn parse_role(s: &str) -> Result<Role> {
    s.parse::<Role>()
        .map_err(|e| eyre!("{e}; pass one of them with --role"))
}

fn paint(text: &str, code: &str) -> String {
    if super::color_enabled() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn catalog_line(c: &crate::domain::catalog::CatalogSource) -> String {
    use crate::domain::catalog::CatalogSource;
    match c {
        CatalogSource::Stored { fetched_at, .. } => format!("catalog fetched {fetched_at}"),
        CatalogSource::Embedded { date } => format!(
            "embedded catalog snapshot of {date}; `nxr catalog refresh` fetches the live one"
        ),
    }
}

pub fn render_best_free(b: &BestFree) -> String {
    let mut out = String::new();
    let p = &b.pick;
    let how = match (&p.source, &p.score) {
        (PickSource::Ranked, Some(s)) => format!("total {}", s.total),
        _ => p.source.label().to_string(),
    };
    let _ = writeln!(
        out,
        "{}: {}  ({how}, via {})",
        b.role,
        paint(&p.model_id, "1"),
        p.provider
    );
    if let Some(s) = &p.score {
        for r in &s.reasons {
            let _ = writeln!(out, "  {r}");
        }
    }
    for w in &p.warnings {
        let _ = writeln!(out, "  {} {w}", paint("warning:", "33"));
    }
    let _ = writeln!(out, "  ({})", catalog_line(&b.catalog));
    out
}

pub async fn best_free(ctx: &Ctx, args: BestFreeArgs) -> Result<()> {
    let role = parse_role(&args.role)?;
    let store = ctx.store_read().await?;
    let best = rescore::best_free(&store, &ctx.env, role, store.now()).await?;
    if ctx.json {
        super::print_json(&best)
    } else {
        super::write_stdout(&render_best_free(&best))
    }
}

pub fn render_roster(r: &Roster) -> String {
    let mut out = String::new();
    let _ = write!(out, "{:<56} {:>8}", "model", "context");
    for role in &r.roles {
        let _ = write!(out, " {:>9}", role.as_str());
    }
    out.push('\n');
    for m in &r.models {
        let _ = write!(out, "{:<56} {:>8}", m.model_id, m.context_length);
        for role in &r.roles {
            let cell = match m.scores.get(role) {
                Some(s) if s.passes => {
                    let best = r.best.get(role) == Some(&m.model_id);
                    format!("{}{}", s.total, if best { "*" } else { " " })
                }
                Some(_) => "-- ".to_string(),
                None => String::new(),
            };
            let _ = write!(out, " {cell:>9}");
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{} free models; * = best for the role, -- = fails a hard requirement (`nxr models explain MODEL --role R` says why); {}",
        r.models.len(),
        catalog_line(&r.catalog)
    );
    out
}

pub async fn roster(ctx: &Ctx, args: RosterArgs) -> Result<()> {
    let role = args.role.as_deref().map(parse_role).transpose()?;
    let store = ctx.store_read().await?;
    let roster = rescore::roster(&store, role, store.now()).await?;
    if ctx.json {
        super::print_json(&roster)
    } else {
        super::write_stdout(&render_roster(&roster))
    }
}

pub fn render_rescore(r: &RescoreReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "scored {} models × {} roles ({} rows) at {}; {} agent score(s) updated",
        r.models_scored,
        Role::ALL.len(),
        r.rows_written,
        r.scored_at,
        r.agents_updated
    );
    for b in &r.best {
        let how = match (&b.source, b.total) {
            (PickSource::Ranked, Some(t)) => format!("total {t}"),
            _ => b.source.label().to_string(),
        };
        let _ = writeln!(out, "  {:<9} {}  ({how})", b.role.as_str(), b.model_id);
        for w in &b.warnings {
            let _ = writeln!(out, "            {} {w}", paint("warning:", "33"));
        }
    }
    match (&r.previous_scored_at, r.changes.is_empty()) {
        (None, _) => {
            let _ = writeln!(out, "first rescore: nothing to compare with");
        }
        (Some(at), true) => {
            let _ = writeln!(out, "no change since the rescore of {at}");
        }
        (Some(at), false) => {
            let _ = writeln!(out, "changed since the rescore of {at}:");
            for c in &r.changes {
                let _ = writeln!(
                    out,
                    "  {:<9} {} → {}",
                    c.role.as_str(),
                    c.before.as_deref().unwrap_or("(none)"),
                    c.after
                );
            }
        }
    }
    let _ = writeln!(out, "({})", catalog_line(&r.catalog));
    out
}

/// `nxr models rescore [--json]`: scores the stored catalog again, with a spinner while it runs.
pub async fn models_rescore(ctx: &Ctx) -> Result<()> {
    let store = ctx.store().await?;
    let spinner = (!ctx.json).then(|| {
        let s = indicatif::ProgressBar::new_spinner();
        s.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        s.set_message("scoring the catalog for every role…");
        s
    });
    let report = rescore::rescore(&store, &ctx.env, store.now()).await;
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    let report = report?;
    if ctx.json {
        super::print_json(&report)
    } else {
        super::write_stdout(&render_rescore(&report))
    }
}

pub fn render_explain(e: &Explanation) -> String {
    let mut out = String::new();
    let s = &e.score;
    let _ = writeln!(
        out,
        "{} for {}: total {} ({})",
        s.model_id,
        s.role,
        s.total,
        match (s.passes, e.rank) {
            (true, Some(r)) => format!(
                "passes; #{r} of {} passing {} models",
                e.pool_size,
                if s.is_free { "free" } else { "paid" }
            ),
            (true, None) => "passes".to_string(),
            (false, _) => "excluded".to_string(),
        }
    );
    let _ = writeln!(
        out,
        "  requirements: context ≥ {}{}",
        e.requirements.min_context,
        if e.requirements.needs_tools {
            ", tool calling"
        } else {
            ""
        }
    );
    let w = &e.weights;
    let _ = writeln!(out, "  sub-score    points  weight");
    for (name, points, weight) in [
        ("context", s.sub.context, w.context),
        ("capability", s.sub.capability, w.capability),
        ("tools", s.sub.tools, w.tools),
        ("recency", s.sub.recency, w.recency),
        ("reliability", s.sub.reliability, w.reliability),
        ("price", s.sub.price, w.price),
    ] {
        let _ = writeln!(out, "  {name:<12} {points:>6}  {weight:>6}");
    }
    let _ = writeln!(out, "  reasons:");
    for r in &s.reasons {
        let _ = writeln!(out, "    {r}");
    }
    if let Some(note) = &e.spread {
        let _ = writeln!(out, "    {note}");
    }
    let _ = writeln!(out, "  ({})", catalog_line(&e.catalog));
    out
}

pub async fn explain(ctx: &Ctx, args: ExplainArgs) -> Result<()> {
    let role = parse_role(&args.role)?;
    let store = ctx.store_read().await?;
    let e = rescore::explain(&store, &args.model, role, store.now()).await?;
    if ctx.json {
        super::print_json(&e)
    } else {
        super::write_stdout(&render_explain(&e))
    }
}
