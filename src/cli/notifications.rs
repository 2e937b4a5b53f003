//! `nxr notifications [--unread]`, `nxr notifications read ID|--all`, `nxr notifications apply ID`,
//! `nxr notifications telegram [KIND on|off]`.

use super::Ctx;
use crate::domain::notifications;
use crate::domain::notifications::telegram_forward::{self, Toggle};
use clap::{Args, Subcommand, ValueEnum};
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
    /// Carry out what an upgrade notification proposes (its agent to its model), then mark it read.
    Apply {
        /// The notification's id (`nxr notifications` shows it).
        id: i64,
    },
    /// Which kinds are forwarded to Telegram; with KIND and on|off, change one.
    Telegram {
        /// A notification kind, e.g. budget or upgrade (without arguments: the list).
        kind: Option<String>,
        #[arg(value_enum)]
        state: Option<OnOff>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

fn print_toggles(ctx: &Ctx, list: &[Toggle]) -> Result<()> {
    if ctx.json {
        return super::print_json(&list);
    }
    for t in list {
        outln!(
            "{:<3} {:<18} {}",
            if t.on { "on" } else { "off" },
            t.kind,
            t.label
        );
    }
    Ok(())
}

pub async fn run(ctx: &Ctx, args: NotificationsArgs) -> Result<()> {
    let store = ctx.store().await?;
    match args.command {
        Some(NotificationsCmd::Telegram { kind, state }) => {
            let list = match (kind, state) {
                (None, _) => telegram_forward::toggles(&store).await?,
                (Some(kind), Some(state)) => telegram_forward::set_toggles(
                    &store,
                    &[(kind, matches!(state, OnOff::On))],
                    store.clock(),
                )
                .await
                .map_err(|e| color_eyre::eyre::eyre!("{e}; nothing was changed"))?,
                (Some(kind), None) => bail!(
                    "say on or off: `nxr notifications telegram {} on` (or off)",
                    kind.chars()
                        .filter(|c| !c.is_control())
                        .take(40)
                        .collect::<String>()
                ),
            };
            print_toggles(ctx, &list)
        }
        Some(NotificationsCmd::Apply { id }) => {
            let applied =
                crate::domain::upgrade::apply_notification(&store, &ctx.env, id, store.clock())
                    .await?;
            if ctx.json {
                return super::print_json(&applied);
            }
            for s in &applied.outcome.switched {
                outln!("{}: {} → {}", s.agent, s.from, s.to);
            }
            outln!("notification {id} marked read");
            Ok(())
        }
        Some(NotificationsCmd::Read { id, all }) => {
            let changed = match (id, all) {
                (_, true) => notifications::mark_all_read(&store, store.clock()).await?,
                (Some(id), false) => {
                    if !notifications::mark_read(&store, id, store.clock()).await? {
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
