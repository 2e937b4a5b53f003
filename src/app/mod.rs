//! The TUI: state, actions, event loop, terminal lifecycle.

use crate::domain::env::Env;

/// Runs the TUI until the user quits.
pub fn run(_env: Env) -> color_eyre::Result<()> {
    color_eyre::eyre::bail!(
        "the TUI is not built yet; see `nxr --help` for the commands that exist"
    )
}
