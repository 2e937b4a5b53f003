//! `nxr models …`. `list` lives here; the scoring commands live in `cli::scoring`.

use super::Ctx;
use clap::{Args, Subcommand};
use color_eyre::Result;

#[derive(Debug, Subcommand)]
pub enum ModelsCmd {
    /// List models from the stored catalog (or the embedded snapshot).
    List(ListArgs),
    /// The best free model for a role.
    BestFree(super::scoring::BestFreeArgs),
    /// All free models with their score per role.
    Roster(super::scoring::RosterArgs),
    /// Score the catalog for every role, store the scores, and show what changed.
    Rescore,
    /// Explain a model's score for a role, sub-score by sub-score.
    Explain(super::scoring::ExplainArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only free models.
    #[arg(long)]
    pub free: bool,
    /// Only models with tool calling.
    #[arg(long)]
    pub tools: bool,
    /// Only models that take images.
    #[arg(long)]
    pub vision: bool,
    /// Only models with at least this context length (tokens).
    #[arg(long, value_name = "N")]
    pub min_context: Option<u64>,
}

pub async fn run(ctx: &Ctx, cmd: ModelsCmd) -> Result<()> {
    match cmd {
        ModelsCmd::List(args) => list(ctx, args).await,
        ModelsCmd::BestFree(args) => super::scoring::best_free(ctx, args).await,
        ModelsCmd::Roster(args) => super::scoring::roster(ctx, args).await,
        ModelsCmd::Rescore => super::scoring::rescore(ctx).await,
        ModelsCmd::Explain(args) => super::scoring::explain(ctx, args).await,
    }
}

async fn list(_ctx: &Ctx, _args: ListArgs) -> Result<()> {
    color_eyre::eyre::bail!("not built yet")
}
