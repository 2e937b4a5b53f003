//! `nxr evals list` and `nxr evals import FILE`: the published evaluation figures the scorer uses.

use super::Ctx;
use crate::domain::scoring::evals::{self, EvalData};
use clap::Subcommand;
use color_eyre::Result;
use color_eyre::eyre::eyre;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum EvalsCmd {
    /// Every model family with its published figures, sources and dates.
    List,
    /// Validate FILE (the format of data/model_evals.yaml) and merge it: its families replace the
    /// ones with the same id. On any error nothing changes.
    Import {
        /// A YAML file of evaluation figures.
        file: PathBuf,
    },
}

pub async fn run(ctx: &Ctx, cmd: EvalsCmd) -> Result<()> {
    match cmd {
        EvalsCmd::List => list(ctx).await,
        EvalsCmd::Import { file } => import(ctx, file).await,
    }
}

#[derive(serde::Serialize)]
struct JsonFamily<'a> {
    id: &'a str,
    name: &'a str,
    origin: &'static str,
    figures: Vec<evals::FigureOut<'a>>,
}

#[derive(serde::Serialize)]
struct Listing<'a> {
    updated: &'a str,
    families: Vec<JsonFamily<'a>>,
    /// Free models without a figure of some role's main kind, with the reason.
    unmeasured: &'static [crate::domain::scoring::unmeasured::Unmeasured],
}

fn listing(data: &EvalData) -> Listing<'_> {
    Listing {
        unmeasured: crate::domain::scoring::unmeasured::all(),
        updated: &data.updated,
        families: data
            .families
            .values()
            .map(|f| JsonFamily {
                id: &f.id,
                name: &f.name,
                origin: f.origin,
                figures: f.figures.iter().map(evals::FigureOut::from).collect(),
            })
            .collect(),
    }
}

async fn list(ctx: &Ctx) -> Result<()> {
    let store = ctx.store().await?;
    let data = evals::load(&store).await?;
    if ctx.json {
        return super::print_json(&listing(&data));
    }
    let mut out = format!(
        "{} model families, {} figures (data of {})\n",
        data.families.len(),
        data.figure_count(),
        data.updated
    );
    for f in data.families.values() {
        let origin = if f.origin == "imported" {
            " [imported]"
        } else {
            ""
        };
        out.push_str(&format!("\n{} — {}{origin}\n", f.id, f.name));
        for g in &f.figures {
            out.push_str(&format!("  {:<12} {}\n", g.kind.label(), g.describe()));
        }
    }
    let unmeasured = crate::domain::scoring::unmeasured::all();
    if !unmeasured.is_empty() {
        out.push_str(&format!(
            "\nunmeasured: {} free models have no figure of some role's main kind (their capability there is the size estimate)\n",
            unmeasured.len()
        ));
        for u in unmeasured {
            let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
            out.push_str(&format!(
                "  {} ({}): {}\n",
                u.id,
                roles.join(", "),
                u.reason
            ));
        }
    }
    super::write_stdout(&out)
}

async fn import(ctx: &Ctx, file: PathBuf) -> Result<()> {
    let store = ctx.store().await?;
    let report = evals::import(&store, &file)
        .await
        .map_err(|e| eyre!("{e}"))?;
    if ctx.json {
        return super::print_json(&report);
    }
    outln!(
        "imported {} families ({} figures) from {}: {} new, {} replaced; `nxr models rescore` applies them to stored scores",
        report.families,
        report.figures,
        file.display(),
        report.added.len(),
        report.replaced.len()
    );
    Ok(())
}
