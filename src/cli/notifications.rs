//! `nxr notifications [--unread]`, `nxr notifications read ID|--all`.

use super::Ctx;
use crate::domain::clock::SystemClock;
use crate::domain::notifications;
use clap::{Args, Subcommand};
use color_eyre::Result;
use color_eyre::eyre::bail;

#[derive(Debug, Args)]
pub struct NotificationsArgs {
    /// Only the unread ones.
    #[arg(long)]
    pub unread: bool,
    /// At most this many, newest first.
    #[arg(long, default_value_t = 200)]
    pub limit: u32,
    #[command(subcommand)]
    pub command: Option<NotificationsCmd>,
}

#[derive(Debug, Subcommand)]
pub enum NotificationsCmd {
    /// Mark one notification read (by id), or all with --all.
    Read {
        /// The notification's id (`nxr notifications` shows it).
        id: Option<i64>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
}

pub async fn run(ctx: &Ctx, args: NotificationsArgs) -> Result<()> {
    let store = ctx.store().await?;
    match args.command {
        Some(NotificationsCmd::Read { id, all }) => {
            let changed = match (id, all) {
                (_, true) => notifications::mark_all_read(&store, &SystemClock).await?,
                (Some(id), false) => {
                    if !notifications::mark_read(&store, id, &SystemClock).await? {
                        bail!(
                            "no unread notification with id {id}; `nxr notifications --unread` lists them"
                        );
                    }
                    1
                }
                (None, false) => {
                    bail!(
                        "say which: `nxr notifications read ID` or `nxr notifications read --all`"
                    )
                }
            };
            if ctx.json {
                return super::print_json(&serde_json::json!({ "marked_read": changed }));
            }
            outln!("marked {changed} notification(s) read");
            Ok(())
        }
        None => {
            let list = notifications::list_where(&store, args.limit, args.unread).await?;
            if ctx.json {
                return super::print_json(&list);
            }
            if list.is_empty() {
                outln!(
                    "{}",
                    if args.unread {
                        "no unread notifications"
                    } else {
                        "no notifications yet (`nxr scan` checks the catalog for your agents)"
                    }
                );
                return Ok(());
            }
            for n in &list {
                outln!(
                    "{:>5} {} {:<16} {}  {}",
                    n.id,
                    if n.is_unread() { "●" } else { " " },
                    n.kind,
                    n.created_at,
                    n.title
                );
                outln!("        {}", n.body);
            }
            Ok(())
        }
    }
}
