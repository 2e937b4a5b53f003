//! `nxr init`.

use super::Ctx;
use clap::Args;
use color_eyre::Result;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Use free models only; never ask for a key.
    #[arg(long, conflicts_with = "key")]
    pub free: bool,
    /// An OpenRouter key (sk-or-…), validated before it is stored.
    #[arg(long)]
    pub key: Option<String>,
    /// Start over: forget the completed onboarding record (asks for confirmation).
    #[arg(long)]
    pub reset: bool,
    /// Answer yes to the --reset confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

pub async fn run(_ctx: &Ctx, _args: InitArgs) -> Result<()> {
    color_eyre::eyre::bail!("not built yet")
}
