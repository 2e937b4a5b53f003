//! `nxr serve`.

use super::Ctx;
use clap::Args;
use color_eyre::Result;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to bind. Non-loopback addresses need --allow-remote.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    /// Port (0 picks a free one).
    #[arg(long, default_value_t = 7878)]
    pub port: u16,
    /// Allow binding to a non-loopback address.
    #[arg(long)]
    pub allow_remote: bool,
}

pub async fn run(_ctx: &Ctx, _args: ServeArgs) -> Result<()> {
    color_eyre::eyre::bail!("not built yet")
}
