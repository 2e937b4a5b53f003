//! `nxr db status|migrate`.

use super::Ctx;
use clap::Subcommand;
use color_eyre::Result;

#[derive(Debug, Subcommand)]
pub enum DbCmd {
    /// Where the database is and which migrations are applied.
    Status,
    /// Apply pending migrations (every command that opens the store does this too).
    Migrate,
}

pub async fn run(_ctx: &Ctx, _cmd: DbCmd) -> Result<()> {
    color_eyre::eyre::bail!("not built yet")
}
