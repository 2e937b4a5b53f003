//! `nxr models best-free|roster|rescore|explain`.

use super::Ctx;
use clap::Args;
use color_eyre::Result;

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

pub async fn best_free(_ctx: &Ctx, _args: BestFreeArgs) -> Result<()> {
    color_eyre::eyre::bail!("not built yet")
}
pub async fn roster(_ctx: &Ctx, _args: RosterArgs) -> Result<()> {
    color_eyre::eyre::bail!("not built yet")
}
pub async fn rescore(_ctx: &Ctx) -> Result<()> {
    color_eyre::eyre::bail!("not built yet")
}
pub async fn explain(_ctx: &Ctx, _args: ExplainArgs) -> Result<()> {
    color_eyre::eyre::bail!("not built yet")
}
