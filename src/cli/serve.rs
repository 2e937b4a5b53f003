//! `nxr serve`: starts the web control plane and prints its sign-in URL once.

use super::Ctx;
use clap::Args;
use color_eyre::Result;
use std::sync::Arc;

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

pub async fn run(ctx: &Ctx, args: ServeArgs) -> Result<()> {
    let store = Arc::new(ctx.store().await?);
    let rt = tokio::runtime::Handle::current();
    let env = ctx.env.clone();
    let (bind, port, allow_remote) = (args.bind, args.port, args.allow_remote);
    // Binding is blocking work; keep it off the async workers.
    let mut handle = tokio::task::spawn_blocking(move || {
        crate::web::server::start(env, store, rt, &bind, port, allow_remote)
    })
    .await??;
    if ctx.json {
        super::print_json(&serde_json::json!({
            "url": handle.login_url(),
            "addr": handle.addr.to_string(),
        }))?;
    } else {
        outln!("nxr serve: listening on {}", handle.base_url());
        outln!("Open this URL once to sign in (it sets a session cookie):");
        outln!("  {}", handle.login_url());
        outln!("Stop with Ctrl-C.");
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    wait_for_shutdown().await;
    eprintln!("nxr serve: stopping");
    tokio::task::spawn_blocking(move || handle.stop()).await?;
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
