//! `nxr paperclip …`: connect to a Paperclip and sync nxr's agents into its company.

use super::Ctx;
use crate::domain::paperclip;
use crate::domain::paperclip::sync::{AgentAction, SkillFlow, SyncEvent};
use clap::{Args, Subcommand};
use color_eyre::Result;

#[derive(Debug, Subcommand)]
pub enum PaperclipCmd {
    /// Connect to a Paperclip server and pick its company (found by name, or created).
    Connect(ConnectArgs),
    /// Make every nxr agent a hermes_local agent in the Paperclip company (and take skill changes made there).
    Sync(SyncArgs),
    /// The connection and each agent's Paperclip link state.
    Status,
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Paperclip's base URL, e.g. http://127.0.0.1:3100
    #[arg(long)]
    pub url: String,
    /// The company's name (default: nxr).
    #[arg(long)]
    pub company: Option<String>,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Show what would change, change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(ctx: &Ctx, cmd: PaperclipCmd) -> Result<()> {
    match cmd {
        PaperclipCmd::Connect(args) => connect(ctx, args).await,
        PaperclipCmd::Sync(args) => sync(ctx, args).await,
        PaperclipCmd::Status => status(ctx).await,
    }
}

async fn connect(ctx: &Ctx, args: ConnectArgs) -> Result<()> {
    let store = ctx.store().await?;
    let (conn, created) =
        paperclip::sync::connect(&store, &args.url, args.company.as_deref()).await?;
    if ctx.json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            conn: &'a paperclip::sync::Connection,
            created: bool,
        }
        return super::print_json(&Out {
            conn: &conn,
            created,
        });
    }
    outln!(
        "connected to Paperclip at {}; company {:?} ({}, id {}); next: `nxr paperclip sync`",
        conn.url,
        conn.company_name,
        if created { "created" } else { "found" },
        conn.company_id
    );
    Ok(())
}

async fn sync(ctx: &Ctx, args: SyncArgs) -> Result<()> {
    let store = ctx.store().await?;
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut progress = |e: &SyncEvent| match e {
        SyncEvent::Planned { writes } => bar.set_length(*writes as u64),
        SyncEvent::Wrote { agent, what } => {
            bar.inc(1);
            bar.set_message(format!("{agent}: {what}"));
        }
    };
    let outcome = paperclip::sync::sync(&store, &ctx.env, args.dry_run, &mut progress).await;
    bar.finish_and_clear();
    let report = outcome?;
    for w in &report.warnings {
        errln!("warning: {w}");
    }
    if ctx.json {
        return super::print_json(&report);
    }
    outln!(
        "{} Paperclip company {:?} at {}",
        if report.dry_run {
            "dry run, nothing changed:"
        } else {
            "synced into"
        },
        report.company_name,
        report.url
    );
    for a in &report.agents {
        let action = match &a.action {
            AgentAction::Create => "create".to_string(),
            AgentAction::Update(d) => format!("update ({})", d.join("; ")),
            AgentAction::Unchanged => "unchanged".to_string(),
            AgentAction::Delete => "delete (gone from nxr)".to_string(),
        };
        let skills = match &a.skills {
            SkillFlow::InStep => "skills in step".to_string(),
            SkillFlow::ToPaperclip { add, remove } => {
                let mut parts = Vec::new();
                if !add.is_empty() {
                    parts.push(format!("+{}", add.join(" +")));
                }
                if !remove.is_empty() {
                    parts.push(format!("-{}", remove.join(" -")));
                }
                format!("skills to Paperclip: {}", parts.join(" "))
            }
            SkillFlow::FromPaperclip { skills } => {
                format!("skills from Paperclip: {}", skills.join(", "))
            }
            SkillFlow::None => String::new(),
        };
        outln!(
            "  {:<16} {:<10} {:<40} {} {}",
            a.agent,
            a.role,
            a.model,
            action,
            skills
        );
    }
    Ok(())
}

async fn status(ctx: &Ctx) -> Result<()> {
    let store = ctx.store().await?;
    let all = crate::domain::agents::list(&store, &ctx.env).await?;
    let st = crate::domain::paperclip::links::status(&store, &all).await?;
    if ctx.json {
        return super::print_json(&st);
    }
    match &st.connection {
        Some(c) => outln!(
            "Paperclip at {}, company {:?} (id {})",
            c.url,
            c.company_name,
            c.company_id
        ),
        None => outln!(
            "not connected to a Paperclip; connect with `nxr paperclip connect --url http://127.0.0.1:3100`"
        ),
    }
    for a in &st.agents {
        outln!(
            "  {:<16} {:<40} {:<16} {}",
            a.agent,
            a.model,
            a.state.label(),
            a.paperclip_agent_id.as_deref().unwrap_or("")
        );
    }
    Ok(())
}
