//! `nxr run --agent NAME "prompt"` and `nxr queue [list|run|cancel ID]`.

use super::Ctx;
use crate::domain::clock;
use crate::domain::queue::{self, Dispatch, HermesRunner, Task};
use clap::{Args, Subcommand};
use color_eyre::Result;
use color_eyre::eyre::{bail, eyre};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The agent (name or id).
    #[arg(long)]
    pub agent: String,
    /// What the agent should do.
    pub prompt: String,
}

#[derive(Debug, Subcommand)]
pub enum QueueCmd {
    /// The queued tasks, oldest first (--all: finished ones too).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Run the due tasks now (while the free bucket has headroom, at most 20 a minute).
    Run,
    /// Cancel a queued task.
    Cancel { id: i64 },
}

fn wait_text(run_after: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let Some(at) = clock::from_db(run_after) else {
        return run_after.to_string();
    };
    let mins = (at - now).num_minutes().max(0);
    format!("{run_after} (in {}h {:02}m)", mins / 60, mins % 60)
}

pub async fn run(ctx: &Ctx, args: RunArgs) -> Result<()> {
    let store = ctx.store().await?;
    let d = queue::run_or_queue(
        &store,
        &ctx.env,
        &args.agent,
        &args.prompt,
        &HermesRunner,
        store.clock(),
    )
    .await
    .map_err(|e| eyre!("{e}"))?;
    if ctx.json {
        super::print_json(&d)?;
    }
    match d {
        Dispatch::Queued { task, used, limit } => {
            if !ctx.json {
                outln!(
                    "queued as task #{}: the free daily limit is used up ({used} of {limit}); it runs after the reset at {} with `nxr serve` running (or `nxr queue run` then)",
                    task.id,
                    wait_text(&task.run_after, store.now())
                );
            }
            Ok(())
        }
        Dispatch::Ran { agent, outcome } => {
            if !ctx.json {
                super::write_stdout(&outcome.stdout)?;
            }
            if !outcome.ok() {
                let tail: String = outcome
                    .stderr
                    .lines()
                    .rev()
                    .take(5)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n");
                bail!(
                    "hermes failed for {agent} (exit {}): {tail}",
                    outcome
                        .exit_code
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "none".into())
                );
            }
            Ok(())
        }
    }
}

fn print_tasks(tasks: &[Task]) {
    if tasks.is_empty() {
        outln!("the queue is empty");
    }
    for t in tasks {
        let prompt: String = t.prompt.chars().take(50).collect();
        outln!(
            "#{:<4} {:<9} {:<16} after {}  {:?}",
            t.id,
            t.status,
            t.agent.chars().take(16).collect::<String>(),
            t.run_after,
            prompt
        );
    }
}

pub async fn queue_cmd(ctx: &Ctx, cmd: Option<QueueCmd>) -> Result<()> {
    let store = ctx.store().await?;
    match cmd.unwrap_or(QueueCmd::List { all: false }) {
        QueueCmd::List { all } => {
            let tasks = queue::list(&store, all).await.map_err(|e| eyre!("{e}"))?;
            if ctx.json {
                return super::print_json(&tasks);
            }
            print_tasks(&tasks);
            Ok(())
        }
        QueueCmd::Run => {
            let r = queue::drain(&store, &ctx.env, &HermesRunner, store.clock())
                .await
                .map_err(|e| eyre!("{e}"))?;
            if ctx.json {
                return super::print_json(&r);
            }
            outln!(
                "ran {} task(s); {} due task(s) wait",
                r.ran.len(),
                r.waiting
            );
            print_tasks(&r.ran);
            Ok(())
        }
        QueueCmd::Cancel { id } => {
            let t = queue::cancel(&store, id, store.clock())
                .await
                .map_err(|e| eyre!("{e}"))?;
            if ctx.json {
                return super::print_json(&t);
            }
            outln!("cancelled task #{}", t.id);
            Ok(())
        }
    }
}
