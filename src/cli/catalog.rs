//! `nxr catalog refresh`.

use super::Ctx;
use clap::Subcommand;
use color_eyre::Result;

#[derive(Debug, Subcommand)]
pub enum CatalogCmd {
    /// Fetch the catalog from OpenRouter and store it (the last good one is kept on any error).
    Refresh,
}

pub async fn run(_ctx: &Ctx, _cmd: CatalogCmd) -> Result<()> {
    color_eyre::eyre::bail!("not built yet")
}
