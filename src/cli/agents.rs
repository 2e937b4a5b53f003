//! `nxr agents …`.

use super::Ctx;
use crate::domain::agents::{self, NewAgent};
use crate::domain::base::roles::Role;
use crate::domain::paperclip;
use clap::{Args, Subcommand};
use color_eyre::Result;
use color_eyre::eyre::bail;

#[derive(Debug, Subcommand)]
pub enum AgentsCmd {
    /// Create an agent: a Hermes profile with a model and a skillset.
    Create(CreateArgs),
    /// List agents with role, model, skills and Hermes profile.
    List,
    /// Show (or sync) an agent's skills as a Paperclip AdapterSkillSnapshot.
    Skills(SkillsArgs),
    /// Per agent: current model, the recommended model for its role, and whether an upgrade is available.
    Recommend,
    /// Rescore the catalog (writes model_scores) and show agents whose recommendation changed.
    Rescore,
    /// Delete an agent; its Hermes profile directory is moved to a dated backup.
    Delete(DeleteArgs),
    /// Put an agent back on the model you had before nxr replaced it (e.g. the root profile's).
    Revert(RevertArgs),
    /// Check that each agent can run (profile, config, model, key, local endpoint, skills) without
    /// spending a request; `--live` also sends one tiny prompt per agent through Hermes. Exits 1 when
    /// an agent is not ready.
    Check(CheckArgs),
    /// Show an agent's fallback chain: the models Hermes tries when its own model refuses (rate
    /// limit, billing, overload), each with its score and why it was chosen.
    Fallbacks(FallbacksArgs),
    /// Team mode: run an agent on another host; the host it leaves moves its profile to the backup
    /// folder and the new host makes it.
    Move(MoveArgs),
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The agent's name (or id).
    pub name: String,
    /// Leave the profile directory where it is (only nxr's record of the agent goes).
    #[arg(long)]
    pub keep_profile: bool,
    /// Do not ask for confirmation (needed when not on a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct FallbacksArgs {
    /// The agent's name (or id).
    pub name: String,
    /// Write the chain nxr chooses now into the agent's profile (replacing a hand-edited one).
    #[arg(long, alias = "reset-fallbacks")]
    pub reset: bool,
}

#[derive(Debug, Args)]
pub struct RevertArgs {
    /// The agent's name (or id).
    pub name: String,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Check only this agent (name or id).
    pub name: Option<String>,
    /// Also send one tiny prompt per agent through Hermes (spends one request each).
    #[arg(long)]
    pub live: bool,
    /// With --live: the most seconds each agent's prompt may take before Hermes is stopped.
    #[arg(long, value_name = "SECS", requires = "live", default_value_t = crate::domain::watch::agent_check::live::DEFAULT_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// First bring every agent profile's `.env` in step with `$HERMES_HOME/.env` (copies the stored
    /// key to profiles made by an older nxr).
    #[arg(long)]
    pub fix: bool,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// pm, engineer, hermes, creative, research or custom
    #[arg(long)]
    pub role: String,
    #[arg(long)]
    pub name: String,
    /// A category template for the skills: tech, creative, business, research, media, personal.
    #[arg(long)]
    pub category: Option<String>,
    /// The model id (default: the best free model for the role).
    #[arg(long, conflicts_with = "free")]
    pub model: Option<String>,
    /// Use the best free model for the role (the default).
    #[arg(long)]
    pub free: bool,
    /// Accept a --model that fails the role's hard requirements (tools, context) or is a router.
    #[arg(long, requires = "model")]
    pub force: bool,
    /// Let the automatic pick be a model that logs prompts, a stealth model or one OpenRouter will
    /// remove (passed over by default)
    #[arg(long)]
    pub allow_stealth: bool,
    /// Team mode: the host the agent runs on (default: this one); that host makes its profile.
    #[arg(long)]
    pub host: Option<String>,
}

#[derive(Debug, Args)]
pub struct MoveArgs {
    /// The agent's name (or id).
    pub name: String,
    /// The host it runs on from now (team mode).
    #[arg(long)]
    pub host: String,
}

#[derive(Debug, Args)]
pub struct SkillsArgs {
    /// The agent's name.
    pub name: String,
    /// Make the agent's skills exactly this comma-separated list (`none` removes every nxr skill).
    #[arg(long, value_delimiter = ',')]
    pub sync: Option<Vec<String>>,
}

pub async fn run(ctx: &Ctx, cmd: AgentsCmd) -> Result<()> {
    match cmd {
        AgentsCmd::Create(args) => create(ctx, args).await,
        AgentsCmd::List => list(ctx).await,
        AgentsCmd::Skills(args) => skills(ctx, args).await,
        AgentsCmd::Recommend => super::recommend::recommend(ctx).await,
        AgentsCmd::Rescore => super::recommend::agents_rescore(ctx).await,
        AgentsCmd::Delete(args) => delete(ctx, args).await,
        AgentsCmd::Revert(args) => revert(ctx, args).await,
        AgentsCmd::Check(args) => super::check::run(ctx, args).await,
        AgentsCmd::Fallbacks(args) => fallbacks(ctx, args).await,
        AgentsCmd::Move(args) => super::hosts::move_agent(ctx, args).await,
    }
}

async fn delete(ctx: &Ctx, args: DeleteArgs) -> Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    let store = ctx.store().await?;
    let agent = agents::resolve(&store, &ctx.env, &args.name).await?;
    let name = super::shown(&agent.name);
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            bail!(
                "deleting agent {name:?} needs confirmation; run `nxr agents delete {} --yes` (its profile directory is moved to a dated backup)",
                args.name.trim()
            );
        }
        let what = if args.keep_profile {
            format!("its profile directory {} stays", agent.hermes_profile_path)
        } else {
            format!(
                "its profile directory {} is moved to a backup",
                agent.hermes_profile_path
            )
        };
        errout!("Delete agent {name:?}? {what}. [y/N] ");
        std::io::stderr().flush()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        if !matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            errln!("nxr agents delete: nothing changed");
            return Ok(());
        }
    }
    let opts = agents::DeleteOptions {
        keep_profile: args.keep_profile,
    };
    let done = agents::delete_with(&store, &ctx.env, &agent.id.to_string(), opts).await?;
    if ctx.json {
        return super::print_json(&done);
    }
    match &done.profile_backup {
        Some(b) => outln!(
            "deleted agent {name}; its profile directory was moved to {}",
            b.display()
        ),
        None if done.agent.hermes_profile == crate::domain::agents::hermes::ROOT_PROFILE => outln!(
            "deleted agent {name}; the root Hermes profile stays (nxr's skills were removed)"
        ),
        None => outln!("deleted agent {name}; its profile directory was left in place"),
    }
    Ok(())
}

async fn revert(ctx: &Ctx, args: RevertArgs) -> Result<()> {
    let store = ctx.store().await?;
    let done = crate::domain::agents::user_model::revert(&store, &ctx.env, &args.name).await?;
    if ctx.json {
        return super::print_json(&done);
    }
    outln!(
        "{} is back on your model {} (was {}); {}",
        super::shown(&done.agent.name),
        done.to.describe(),
        done.from_model,
        done.agent.hermes_profile_path
    );
    Ok(())
}

async fn create(ctx: &Ctx, args: CreateArgs) -> Result<()> {
    let role: Role = args.role.parse()?;
    let store = ctx.store().await?;
    let new = NewAgent {
        name: args.name,
        role,
        category: args.category,
        model: if args.free { None } else { args.model },
        skills: None,
        is_default: false,
        host: args.host,
    };
    let opts = agents::CreateOptions {
        force: args.force,
        allow_stealth: args.allow_stealth,
    };
    let (agent, warnings) = agents::create_with(&store, &ctx.env, new, opts).await?;
    for w in &warnings {
        errln!("warning: {w}");
    }
    if ctx.json {
        return super::print_json(&agent);
    }
    outln!(
        "created {} ({}) on {}{} with {} skills, Hermes profile {} at {}",
        agent.name,
        agent.role,
        agent.model,
        if agent.model_auto_assigned {
            " (best free for the role)"
        } else {
            ""
        },
        agent.skillset.len(),
        agent.hermes_profile,
        agent.hermes_profile_path
    );
    if let Some(why) = crate::domain::onboarding::fallback_reason(&agent) {
        outln!("  {why}");
    }
    Ok(())
}

async fn list(ctx: &Ctx) -> Result<()> {
    let store = ctx.store_read().await?;
    // The agents view: with `--json` each agent carries its check, fallback chain, usage and link.
    let checks = if ctx.json {
        crate::domain::view::Checks::Stored
    } else {
        crate::domain::view::Checks::Skip
    };
    let all = crate::domain::view::agents(&store, &ctx.env, store.clock(), checks).await?;
    if ctx.json {
        return super::print_json(&all);
    }
    if all.is_empty() {
        outln!(
            "no agents yet; create one with `nxr agents create --role pm --name pm`, or run `nxr init`"
        );
        return Ok(());
    }
    let bold = |s: &str| {
        if super::color_enabled() {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    // In team mode each agent's host is a column, and a profile on another host has no path here.
    let team = ctx.env.db_url.is_some();
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|row| {
            let a = &row.agent;
            let mut cells = vec![
                super::shown(&a.name),
                a.role.to_string(),
                a.model.clone(),
                a.skillset.len().to_string(),
                a.hermes_profile.clone(),
            ];
            if team {
                let here = a.is_here(&ctx.env);
                cells.push(if a.host.is_empty() {
                    "(none yet)".into()
                } else {
                    a.host.clone()
                });
                cells.push(if here {
                    a.hermes_profile_path.clone()
                } else {
                    "(on its host)".into()
                });
            } else {
                cells.push(a.hermes_profile_path.clone());
            }
            cells
        })
        .collect();
    let header: &[&str] = if team {
        &["NAME", "ROLE", "MODEL", "SKILLS", "PROFILE", "HOST", "PATH"]
    } else {
        &["NAME", "ROLE", "MODEL", "SKILLS", "PROFILE", "PATH"]
    };
    let (head, lines) = super::table_lines(header, &rows);
    outln!("{}", bold(&head));
    for l in lines {
        outln!("{l}");
    }
    Ok(())
}

/// The skills `--sync` asks for. An empty value (e.g. an unset shell variable) is refused rather than
/// read as "remove every skill"; `none` says that on purpose.
fn sync_list(list: Vec<String>) -> Result<Vec<String>> {
    let desired: Vec<String> = list
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if desired.is_empty() {
        bail!(
            "--sync got an empty list (an unset shell variable?), so nothing was changed; pass the skills to keep, e.g. `--sync coding,testing`, or `--sync none` to remove every nxr-managed skill"
        );
    }
    if desired.iter().any(|s| s.eq_ignore_ascii_case("none")) {
        if desired.len() > 1 {
            bail!(
                "--sync none removes every nxr-managed skill and cannot be combined with other skills; pass either `none` or a list of skills"
            );
        }
        return Ok(Vec::new());
    }
    Ok(desired)
}

async fn skills(ctx: &Ctx, args: SkillsArgs) -> Result<()> {
    let store = ctx.store().await?;
    let snap = match args.sync {
        Some(list) => {
            let desired = sync_list(list)?;
            paperclip::sync_skills(&store, &ctx.env, &args.name, &desired).await?
        }
        None => paperclip::list_skills(&store, &ctx.env, &args.name).await?,
    };
    if ctx.json {
        return super::print_json(&snap);
    }
    outln!(
        "{} skills ({} desired)",
        args.name,
        snap.desired_skills.len()
    );
    for e in &snap.entries {
        let who = if e.managed {
            "nxr"
        } else {
            "external, read-only"
        };
        outln!("  {:<24} {:<10} {}", e.key, e.state, who);
    }
    for w in &snap.warnings {
        errln!("warning: {w}");
    }
    Ok(())
}

async fn fallbacks(ctx: &Ctx, args: FallbacksArgs) -> Result<()> {
    let store = ctx.store().await?;
    if args.reset {
        crate::domain::agents::fallbacks::reset(&store, &ctx.env, &args.name).await?;
    }
    let v = crate::domain::agents::fallbacks::view(&store, &ctx.env, &args.name).await?;
    if ctx.json {
        return super::print_json(&v);
    }
    let mut out = format!("{} runs on {}\n", v.agent, v.primary);
    if v.chosen.is_empty() {
        out.push_str("no fallback chain (fallback-count is 0, or no other model qualifies)\n");
    }
    for (i, m) in v.chosen.iter().enumerate() {
        out.push_str(&format!(
            "  {}. {}  {}  score {}  ({})\n",
            i + 1,
            m.model_id,
            if m.is_free { "free" } else { "paid" },
            m.score,
            m.why
        ));
    }
    if !v.in_step {
        out.push_str(&format!(
            "the profile's fallback_providers hold {} (edited by hand, or written before the catalog changed); `nxr agents fallbacks {} --reset` writes the chain above\n",
            if v.configured.is_empty() {
                "nothing".to_string()
            } else {
                v.configured.join(", ")
            },
            v.agent
        ));
    }
    super::write_stdout(&out)
}
