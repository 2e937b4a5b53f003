//! `nxr slots list [--agent NAME]` and `nxr slots set SLOT MODEL [--agent NAME]`: the routing slots of
//! a Hermes config.yaml (the main model, the 7 auxiliary slots and any other `auxiliary.<name>` the
//! file has) through `domain::view::model_switch`, the same functions as the TUI slot editor's page on the
//! web (`/models/switch`).

use super::{Ctx, shown};
use crate::domain::view::model_switch;
use clap::Subcommand;
use color_eyre::Result;

#[derive(Debug, Subcommand)]
pub enum SlotsCmd {
    /// The main model and every routing slot with its provider and model.
    List {
        /// An agent's profile (name or id) instead of the root config.yaml.
        #[arg(long)]
        agent: Option<String>,
    },
    /// Point a slot (`main`, `vision`, `compression`, …) at a catalog model.
    Set {
        /// `main` or an auxiliary slot `nxr slots list` shows.
        slot: String,
        /// A model id from the catalog (`nxr models list`).
        model: String,
        /// An agent's profile (name or id) instead of the root config.yaml.
        #[arg(long)]
        agent: Option<String>,
        /// Accept a model without image input for the vision slot, or replace the slot's own
        /// endpoint (a `base_url` / `api_key` of another provider) with OpenRouter.
        #[arg(long)]
        force: bool,
    },
}

pub async fn run(ctx: &Ctx, cmd: SlotsCmd) -> Result<()> {
    match cmd {
        SlotsCmd::List { agent } => {
            let store = ctx.store_read().await?;
            let view = model_switch::slots_for(&store, &ctx.env, agent.as_deref()).await?;
            if ctx.json {
                return super::print_json(&view);
            }
            match &view.agent {
                Some(a) => outln!("{} (agent {})", view.config_path, shown(a)),
                None => outln!("{}", view.config_path),
            }
            for s in &view.slots {
                outln!(
                    "  {:<16} {:<12} {}",
                    shown(&s.name),
                    shown(s.provider.as_deref().unwrap_or("-")),
                    shown(s.model.as_deref().unwrap_or("(not set)"))
                );
            }
            Ok(())
        }
        SlotsCmd::Set {
            slot,
            model,
            agent,
            force,
        } => {
            let store = ctx.store().await?;
            let done =
                model_switch::apply_for(&store, &ctx.env, agent.as_deref(), &slot, &model, force)
                    .await?;
            if ctx.json {
                return super::print_json(&done);
            }
            outln!("{}", shown(&done.summary()));
            Ok(())
        }
    }
}
