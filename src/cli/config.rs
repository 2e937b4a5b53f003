//! `nxr config set|get`.

use super::Ctx;
use clap::Subcommand;
use color_eyre::Result;

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Set a value, e.g. `nxr config set openrouter-key sk-or-…`.
    Set { key: String, value: String },
    /// Show a value (secrets are masked).
    Get { key: String },
}

pub async fn run(_ctx: &Ctx, _cmd: ConfigCmd) -> Result<()> {
    color_eyre::eyre::bail!("not built yet")
}
