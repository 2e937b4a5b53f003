//! `nxr run --agent NAME "prompt"` and `nxr queue [list|run|cancel ID]`.

use super::Ctx;
use crate::domain::agents::hermes_run::Verdict;
use crate::domain::base::clock;
use crate::domain::budget::queue::{self, Dispatch, HermesRunner, QueuedBecause, Task};
use clap::{Args, Subcommand};
use color_eyre::Result;
use color_eyre::eyre::bail;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The agent (name or id).
    #[arg(long)]
    pub agent: String,
    /// What the agent should do (after `--` when it starts with `-`).
    pub prompt: String,
    /// The most seconds Hermes may take before nxr stops it.
    #[arg(long, value_name = "SECS", default_value_t = queue::TASK_TIME_LIMIT.as_secs(), value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub timeout: u64,
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
    let runner = HermesRunner {
        limit: std::time::Duration::from_secs(args.timeout),
    };
    let d = queue::run_or_queue(
        &store,
        &ctx.env,
        &args.agent,
        &args.prompt,
        &runner,
        store.clock(),
    )
    .await?;
    if ctx.json {
        super::print_json(&d)?;
    }
    match d {
        Dispatch::Queued {
            task,
            used,
            limit,
            why,
        } => {
            if !ctx.json {
                let cause = match why {
                    QueuedBecause::BucketEmpty(_) => {
                        format!("the free daily limit is used up ({used} of {limit})")
                    }
                    QueuedBecause::DailyLimitHit { error } => {
                        format!(
                            "OpenRouter refused the request, the free daily limit is used up ({error})"
                        )
                    }
                };
                outln!(
                    "queued as task #{}: {cause}; it runs after the reset at {} with `nxr serve` running (or `nxr queue run` then)",
                    task.id,
                    wait_text(&task.run_after, store.now())
                );
            }
            Ok(())
        }
        Dispatch::Ran {
            agent,
            verdict,
            outcome,
        } => match verdict {
            Verdict::Answered { .. } => {
                if !ctx.json {
                    super::write_stdout(&outcome.stdout)?;
                }
                Ok(())
            }
            Verdict::Failed(f) => {
                let fix = match (f.rate_limit, f.timed_out) {
                    (Some(kind), _) => kind.hint().to_string(),
                    (None, true) => "give it more time with --timeout SECS, or try again later (`nxr budget` shows the free bucket)".to_string(),
                    (None, false) => format!(
                        "`nxr agents check {agent:?}` checks the agent; try again later or move it to another model"
                    ),
                };
                bail!("{agent} did not answer: {}\nfix: {fix}", f.error)
            }
        },
    }
}

fn print_tasks(tasks: &[Task]) {
    if tasks.is_empty() {
        outln!("the queue is empty");
    }
    for t in tasks {
        print_task(t);
    }
}

fn print_task(t: &Task) {
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

/// One sentence for what `nxr queue run` did: how many ran, how many due ones wait and why, and
/// how many wait for their time (with the earliest).
fn drain_summary(r: &queue::DrainReport, now: chrono::DateTime<chrono::Utc>) -> String {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let verb = |n: usize| if n == 1 { "waits" } else { "wait" };
    let mut parts = vec![format!("ran {} task{}", r.ran.len(), plural(r.ran.len()))];
    for t in &r.requeued {
        parts.push(format!(
            "task #{} was refused by OpenRouter (the free daily limit is used up) and waits for the reset",
            t.id
        ));
    }
    if r.waiting > 0 {
        let why = match r.held_by {
            Some(queue::Hold::DailyLimit) => {
                "the free daily limit is used up, they run after the reset"
            }
            _ => "20 tasks a minute at most, they run in the next minute",
        };
        parts.push(format!(
            "{} due task{} {} ({why})",
            r.waiting,
            plural(r.waiting),
            verb(r.waiting)
        ));
    }
    if r.not_due > 0 {
        let when = r
            .next_run_after
            .as_deref()
            .map(|t| format!(" until {}", wait_text(t, now)))
            .unwrap_or_default();
        parts.push(format!(
            "{} queued task{} {}{when}",
            r.not_due,
            plural(r.not_due),
            verb(r.not_due)
        ));
    }
    if r.ran.is_empty() && r.waiting == 0 && r.not_due == 0 {
        return "ran 0 tasks; the queue is empty".to_string();
    }
    parts.join("; ")
}

pub async fn queue_cmd(ctx: &Ctx, cmd: Option<QueueCmd>) -> Result<()> {
    let store = ctx.store().await?;
    match cmd.unwrap_or(QueueCmd::List { all: false }) {
        QueueCmd::List { all } => {
            let tasks = queue::list(&store, all).await?;
            if ctx.json {
                return super::print_json(&tasks);
            }
            print_tasks(&tasks);
            Ok(())
        }
        QueueCmd::Run => {
            let r = queue::drain(&store, &ctx.env, &HermesRunner::default(), store.clock()).await?;
            if ctx.json {
                return super::print_json(&r);
            }
            outln!("{}", drain_summary(&r, store.now()));
            for t in &r.ran {
                print_task(t);
            }
            Ok(())
        }
        QueueCmd::Cancel { id } => {
            let t = queue::cancel(&store, id, store.clock()).await?;
            if ctx.json {
                return super::print_json(&t);
            }
            outln!("cancelled task #{}", t.id);
            Ok(())
        }
    }
}
