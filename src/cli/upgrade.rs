//! `nxr upgrade`: validate the key, show the per-agent plan, then apply it (`--all`, `--agent`, `--yes`,
//! or the Y / n / c prompt on a terminal), revert it (`--revert`) or only show it (`--dry-run`, or no
//! terminal and no choice flag).

use super::Ctx;
use crate::domain::catalog::openrouter::Timeouts;
use crate::domain::upgrade::{self, KeyStatus, Plan, PlanKind, PlanOutcome, RowDiff, usd};
use clap::Args;
use color_eyre::Result;
use color_eyre::eyre::bail;
use std::io::BufRead;

const AFTER_HELP: &str = "\
How it works:
  1. The key (stored, or --key which is then stored like `nxr config set openrouter-key`) is checked
     with OpenRouter's GET /key; the balance comes from GET /credits, or from /key when /credits
     refuses an ordinary key (403). A refused key, no network or a 5xx: an error, nothing changed.
  2. A plan per agent: current model, the best paid model for its role, its price per million
     tokens and an estimated monthly cost at the agent's observed usage (usage_events, last 30 days)
     or, with none yet, at 100 requests/day of 2k prompt + 500 completion tokens.
  3. Applying writes each agent's Hermes profile config.yaml (model.default, model.provider,
     auxiliary.free_only cleared on paid) and its database row as one change, recorded in
     agent_model_history (reason upgrade / revert / user). No other profile file is touched.
  4. A model you chose (`--agent NAME --to MODEL`, the TUI or web switch, `nxr slots set main`,
     `nxr agents create --model`) is never replaced by a plan for every agent (--all, --revert,
     the scanner's auto-upgrade): the plan shows it as \"kept (your choice)\"; --include-chosen
     switches those agents too. A revert gives back who had picked the earlier model, so agents
     nxr had placed stay eligible for auto-upgrade.

Examples:
  nxr upgrade                          show the plan; on a terminal ask Y (all) / n / c (custom)
  nxr upgrade --key sk-or-v1-… --all   store the key and move every agent to its paid pick
  nxr upgrade --agent pm --to openai/gpt-4o-mini
  nxr upgrade --all --dry-run          the database and config.yaml changes, nothing written
  nxr upgrade --revert --all           every agent back to the last free model it had
  nxr upgrade --all --include-chosen   also switch agents on a model you chose (kept otherwise)
  nxr upgrade --key - --all < key.txt  the key from stdin (kept out of the shell history)
  nxr upgrade --json                   the plan (and with --all/--yes the result) as JSON";

#[derive(Debug, Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct UpgradeArgs {
    /// An OpenRouter key to validate and store (else the stored key is used); `-` reads it from stdin.
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// Switch every agent without asking.
    #[arg(long, conflicts_with = "agent")]
    pub all: bool,
    /// Switch exactly this agent without asking.
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,
    /// The model for --agent (instead of the recommended one); refused when it fails the role's gates.
    #[arg(
        long,
        value_name = "MODEL",
        requires = "agent",
        conflicts_with = "revert"
    )]
    pub to: Option<String>,
    /// Back to the last free model each agent had (all, or --agent NAME).
    #[arg(long)]
    pub revert: bool,
    /// Show the changes to the database and each profile's config.yaml; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply the whole plan without asking.
    #[arg(long)]
    pub yes: bool,
    /// Accept a --to model that fails the role's hard requirements.
    #[arg(long, requires = "to")]
    pub force: bool,
    /// Also switch agents on a model you chose (kept by a plan for every agent otherwise).
    #[arg(long, conflicts_with = "agent")]
    pub include_chosen: bool,
}

/// The plan as a text table (one row per agent).
pub fn plan_table(plan: &Plan) -> String {
    if plan.rows.is_empty() {
        return "no agents yet: `nxr init` creates the PM, Engineer and Hermes agents\n".into();
    }
    let to_head = match plan.kind {
        PlanKind::Upgrade => "RECOMMENDED (PAID)",
        PlanKind::Revert => "BACK TO",
    };
    let head = [
        "NAME",
        "ROLE",
        "CURRENT",
        to_head,
        "$/1M PROMPT / COMPLETION",
        "EST. $/MONTH",
    ];
    let rows: Vec<[String; 6]> = plan
        .rows
        .iter()
        .map(|r| {
            let target = r.switch.as_ref().map(|s| &s.to);
            let to = match (target, &r.note) {
                (Some(t), _) => t.id.clone(),
                (None, _) if r.kept_choice => upgrade::KEPT_CHOICE.into(),
                (None, Some(n)) => format!("(keeps: {n})"),
                (None, None) => "(keeps)".into(),
            };
            [
                r.agent.clone(),
                r.role.to_string(),
                r.current.id.clone(),
                to,
                target.unwrap_or(&r.current).price_label(),
                upgrade::monthly_label(r),
            ]
        })
        .collect();
    let (header, lines) = super::table_lines(&head, &rows);
    let mut out = header + "\n";
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    out.push_str(&format!(
        "total estimated: {} a month ({} of {} agents switch; prices from the {})\n",
        usd(plan.total_monthly_usd),
        plan.switch_count(),
        plan.rows.len(),
        plan.catalog
    ));
    if plan.uses_assumption {
        out.push_str(&format!(
            "* no observed usage yet: estimated at {}\n",
            plan.assumption
        ));
    }
    let kept = plan.kept_choice_count();
    if kept > 0 {
        out.push_str(&format!(
            "{kept} agent(s) keep the model you chose; add --include-chosen to switch them too\n"
        ));
    }
    out
}

fn key_line(k: &KeyStatus) -> String {
    let balance = k
        .balance
        .map(|b| format!("balance {}", usd(b)))
        .unwrap_or_else(|| "balance unknown".into());
    let from = match k.credits_from {
        upgrade::CreditsFrom::Credits => "from /credits".to_string(),
        upgrade::CreditsFrom::KeyUsage => format!(
            "from /key ({})",
            k.credits_note
                .as_deref()
                .unwrap_or("/credits gave no balance")
        ),
    };
    format!(
        "key {} is valid; {balance} ({from}); free models: {}/day",
        k.label, k.free_daily_limit
    )
}

fn diff_text(diffs: &[RowDiff]) -> String {
    if diffs.is_empty() {
        return "no changes\n".into();
    }
    let mut out = String::new();
    for d in diffs {
        out.push_str(&format!("{}:\n  database:\n", d.agent));
        for l in &d.db {
            out.push_str(&format!("    {l}\n"));
        }
        out.push_str(&format!("  {}:\n", d.config_path));
        for l in &d.config {
            out.push_str(&format!("    {l}\n"));
        }
    }
    out
}

fn outcome_text(plan: &Plan, o: &PlanOutcome) -> String {
    let mut out = String::new();
    for s in &o.switched {
        out.push_str(&format!(
            "{}: {} → {} ({})\n",
            s.agent, s.from, s.to, s.reason
        ));
    }
    for r in plan.rows.iter().filter(|r| r.kept_choice) {
        out.push_str(&format!(
            "{}: {} {} (--include-chosen switches it too)\n",
            r.agent,
            r.current.id,
            upgrade::KEPT_CHOICE
        ));
    }
    if o.switched.is_empty() && o.failed.is_empty() && plan.kept_choice_count() == 0 {
        out.push_str("nothing to change\n");
    }
    out
}

pub async fn run(ctx: &Ctx, args: UpgradeArgs) -> Result<()> {
    let store = ctx.store().await?;
    let env = &ctx.env;
    let mut args = args;
    if args.key.as_deref() == Some("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
        args.key = Some(s.trim().to_string());
    }
    let mut plan = make_plan(&store, env, &args).await?;
    // A key is checked when one is given or a paid model is in the plan (a free model needs none).
    let mut key = if args.key.is_some() || plan.needs_key() {
        Some(check_key(&store, ctx, &args).await?)
    } else {
        None
    };

    if args.dry_run {
        return show_dry_run(ctx, &plan, key.as_ref());
    }

    let chosen = args.all || args.agent.is_some() || args.yes;
    if !chosen && !confirm_plan(&store, ctx, &args, &mut plan, &mut key).await? {
        return Ok(());
    }

    let outcome = upgrade::apply(&store, env, &plan).await;
    if ctx.json {
        super::print_json(&serde_json::json!({
            "key": key, "plan": plan, "applied": true, "result": outcome,
        }))?;
    } else {
        out!("{}", outcome_text(&plan, &outcome));
    }
    if let Some(f) = outcome.failure_summary() {
        bail!("{f} (that agent was left as it was)");
    }
    Ok(())
}

/// The plan the flags ask for: back to the free models (`--revert`), else the paid picks (or the
/// `--to` model for `--agent`).
async fn make_plan(
    store: &crate::domain::store::Store,
    env: &crate::domain::base::env::Env,
    args: &UpgradeArgs,
) -> Result<Plan> {
    let now = store.now();
    Ok(if args.revert {
        upgrade::plan_revert(store, env, args.agent.as_deref(), args.include_chosen, now).await?
    } else {
        upgrade::plan_upgrade(
            store,
            env,
            args.agent.as_deref(),
            args.to.as_deref(),
            args.force,
            args.include_chosen,
            now,
        )
        .await?
    })
}

/// `--dry-run`: the key, the plan and the changes it would make, writing nothing.
fn show_dry_run(ctx: &Ctx, plan: &Plan, key: Option<&KeyStatus>) -> Result<()> {
    let diff = upgrade::preview(&ctx.env, plan)?;
    if ctx.json {
        return super::print_json(&serde_json::json!({
            "key": key, "plan": plan, "dry_run": true, "diff": diff,
        }));
    }
    if let Some(k) = key {
        outln!("{}", key_line(k));
    }
    out!("{}", plan_table(plan));
    outln!("dry run: these changes would be made (nothing was written):");
    out!("{}", diff_text(&diff));
    Ok(())
}

/// No choice flag: on a terminal, shows the plan and asks (Y / n / c, which may narrow `plan`), then
/// checks the key when the plan now needs one; elsewhere only shows the plan. True when the plan is
/// to be applied.
async fn confirm_plan(
    store: &crate::domain::store::Store,
    ctx: &Ctx,
    args: &UpgradeArgs,
    plan: &mut Plan,
    key: &mut Option<KeyStatus>,
) -> Result<bool> {
    use std::io::IsTerminal;
    let interactive =
        !ctx.json && std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if !interactive {
        show_plan_only(ctx, args, plan, key.as_ref())?;
        return Ok(false);
    }
    if let Some(k) = key.as_ref() {
        outln!("{}", key_line(k));
    }
    out!("{}", plan_table(plan));
    if !super::upgrade_prompt::ask(store, plan).await? {
        outln!("nothing was changed");
        return Ok(false);
    }
    if key.is_none() && plan.needs_key() {
        *key = Some(check_key(store, ctx, args).await?);
    }
    Ok(true)
}

/// No choice flag and no terminal: the key and the plan, and the commands that apply it.
fn show_plan_only(
    ctx: &Ctx,
    args: &UpgradeArgs,
    plan: &Plan,
    key: Option<&KeyStatus>,
) -> Result<()> {
    if ctx.json {
        return super::print_json(&serde_json::json!({
            "key": key, "plan": plan, "applied": false,
        }));
    }
    if let Some(k) = key {
        outln!("{}", key_line(k));
    }
    out!("{}", plan_table(plan));
    let what = if args.revert { "--revert " } else { "" };
    outln!(
        "nothing was changed; to apply: `nxr upgrade {what}--all` (or --yes), one agent: `nxr upgrade {what}--agent NAME`{}",
        if args.revert {
            ""
        } else {
            ", a model of your choice: `nxr upgrade --agent NAME --to MODEL`"
        }
    );
    Ok(())
}

/// Validates the given or stored key (a spinner on stderr meanwhile); a dry run stores nothing.
async fn check_key(
    store: &crate::domain::store::Store,
    ctx: &Ctx,
    args: &UpgradeArgs,
) -> Result<KeyStatus> {
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    spinner.set_message("checking the OpenRouter key …");
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let checked = upgrade::check_key(
        store,
        &ctx.env,
        args.key.as_deref(),
        !args.dry_run,
        Timeouts::default(),
    )
    .await;
    spinner.finish_and_clear();
    Ok(checked?)
}

/// Reads one line; `None` at end of input.
pub fn read_line(input: &mut dyn BufRead) -> Result<Option<String>> {
    let mut s = String::new();
    if input.read_line(&mut s)? == 0 {
        return Ok(None);
    }
    Ok(Some(s.trim().to_string()))
}
