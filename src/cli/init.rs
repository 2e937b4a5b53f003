//! `nxr init`: the five onboarding steps, each printed as it runs (`domain::onboarding`).

use super::Ctx;
use crate::domain::onboarding::{self, KeyChoice, Mode, Probes, StepReport, Summary};
use crate::domain::watch::agent_check::{self, CheckState, Readiness};
use clap::Args;
use color_eyre::Result;
use color_eyre::eyre::bail;
use std::io::{BufRead, IsTerminal, Write};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Use free models only; never ask for a key.
    #[arg(long, conflicts_with = "key")]
    pub free: bool,
    /// An OpenRouter key (sk-or-…), validated before it is stored.
    #[arg(long)]
    pub key: Option<String>,
    /// Start over: forget the completed onboarding record (asks for confirmation).
    #[arg(long)]
    pub reset: bool,
    /// Answer yes to the --reset confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

pub async fn run(ctx: &Ctx, args: InitArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let store = ctx.store().await?;
    let interactive = std::io::stdin().is_terminal();

    if args.reset && !start_over(&store, &args, interactive).await? {
        return Ok(());
    }
    if let Some(done) = onboarding::completed(&store).await? {
        return report_already_done(ctx, &store, &args, &done).await;
    }
    let choice = key_choice(ctx, &args, interactive)?;

    let json = ctx.json;
    // Step lines go to stdout, or to stderr when stdout carries the JSON end state.
    let say = move |line: String| {
        if json {
            errln!("{line}");
        } else {
            outln!("{line}");
        }
    };
    if let KeyChoice::Key(_) = choice {
        say("[1/5] key: checking it with OpenRouter…".to_string());
    }
    let mut report = |r: &StepReport| {
        for line in step_lines(r) {
            say(line);
        }
    };
    let outcome = onboarding::run(
        &ctx.env,
        &store,
        &choice,
        &Probes::default(),
        store.clock(),
        &mut report,
    )
    .await?;
    report_outcome(ctx, &store, &outcome, started).await
}

/// `--reset`: forgets the onboarding record once confirmed (`-y`, or yes at the prompt). False when
/// the user said no (nothing changed, and the setup does not run).
async fn start_over(
    store: &crate::domain::store::Store,
    args: &InitArgs,
    interactive: bool,
) -> Result<bool> {
    if !args.yes {
        if !interactive {
            bail!(
                "--reset forgets the onboarding record and runs the setup again; confirm with `nxr init --reset -y`"
            );
        }
        let answer = ask(
            "Start the setup over? The onboarding record is forgotten; agents, keys and config are kept. [y/N] ",
        )?;
        if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            errln!("nxr init: nothing changed");
            return Ok(false);
        }
    }
    let n = onboarding::reset(store).await?;
    errln!("nxr init: forgot {n} onboarding record(s); starting over");
    Ok(true)
}

/// nxr is set up already: a key given now is still the user's wish, so it is validated and stored
/// (exactly as `nxr config set openrouter-key` does); then reports the setup and whether the agents
/// can run.
async fn report_already_done(
    ctx: &Ctx,
    store: &crate::domain::store::Store,
    args: &InitArgs,
    done: &onboarding::Record,
) -> Result<()> {
    let key_stored = match &args.key {
        Some(k) => {
            onboarding::store_key(&ctx.env, store, k, Probes::default().openrouter).await?;
            true
        }
        None => false,
    };
    let summary = onboarding::summary(&ctx.env, store).await?;
    let checks = check_agents(ctx, store).await;
    if ctx.json {
        return super::print_json(&serde_json::json!({
            "already_done": true,
            "key_stored": key_stored,
            "summary": summary,
            "checks": checks,
            "readiness": Readiness::of(&checks),
        }));
    }
    if key_stored {
        outln!(
            "nxr is already set up (completed {}); the key was checked with OpenRouter and stored in $HERMES_HOME/.env (mode 0600).",
            done.completed_at.as_deref().unwrap_or("?")
        );
    } else {
        outln!(
            "nxr is already set up (completed {}); nothing was changed.",
            done.completed_at.as_deref().unwrap_or("?")
        );
    }
    print_summary(&summary);
    print_readiness(&checks);
    outln!("`nxr init --reset` starts over (agents are kept and never created twice).");
    Ok(())
}

/// The key choice: `--key`, `--free`, else asked on a terminal (Enter alone means free models),
/// else free models.
fn key_choice(ctx: &Ctx, args: &InitArgs, interactive: bool) -> Result<KeyChoice> {
    Ok(match (&args.key, args.free) {
        (Some(k), _) => KeyChoice::Key(k.clone()),
        (None, true) => KeyChoice::Free,
        (None, false) if interactive && !ctx.json => {
            let k = ask_secret(
                "OpenRouter key (sk-or-…, not shown as you type), or press Enter to start on free models with no key: ",
            )?;
            if k.trim().is_empty() {
                KeyChoice::Free
            } else {
                KeyChoice::Key(k.trim().to_string())
            }
        }
        (None, false) => KeyChoice::Free,
    })
}

/// The end of a setup run: the summary, whether the agents can run, and how long it took (or all of
/// it as JSON).
async fn report_outcome(
    ctx: &Ctx,
    store: &crate::domain::store::Store,
    outcome: &onboarding::InitOutcome,
    started: std::time::Instant,
) -> Result<()> {
    let checks = check_agents(ctx, store).await;
    if ctx.json {
        return super::print_json(&serde_json::json!({
            "already_done": outcome.already_done,
            "elapsed_ms": started.elapsed().as_millis() as u64,
            "summary": outcome.summary,
            "checks": checks,
            "readiness": Readiness::of(&checks),
        }));
    }
    outln!();
    print_summary(&outcome.summary);
    print_readiness(&checks);
    if matches!(
        crate::domain::setup::service::read_record(&ctx.env),
        Ok(None)
    ) {
        outln!(
            "Scans, budget thresholds and the task queue run while `nxr serve` runs; `nxr service install` keeps it running as a user service (nothing is installed unless you run it)."
        );
    }
    outln!("Done in {:.1} s.", started.elapsed().as_secs_f64());
    Ok(())
}

/// The static check of every agent; the setup stands even when the check cannot run (it says why).
async fn check_agents(
    ctx: &Ctx,
    store: &crate::domain::store::Store,
) -> Vec<agent_check::AgentCheck> {
    agent_check::check_all(&ctx.env, store)
        .await
        .unwrap_or_else(|e| {
            errln!("warning: cannot check whether the agents can run: {e}");
            Vec::new()
        })
}

/// The static check of every agent, in plain words: which can run now and what the others miss.
fn print_readiness(checks: &[agent_check::AgentCheck]) {
    outln!();
    // A missing key is said once, for all the agents that wait for it, by the readiness lines.
    for c in checks.iter().filter(|c| c.state == CheckState::Broken) {
        let why = c.reasons.join("; ");
        match c.first_fix() {
            Some(fix) => outln!("{}: {} ({why}) — {fix}", c.agent, c.state.label()),
            None => outln!("{}: {} ({why})", c.agent, c.state.label()),
        }
    }
    for line in super::check::readiness_lines(&Readiness::of(checks)) {
        outln!("{line}");
    }
}

fn ask(prompt: &str) -> Result<String> {
    errout!("{prompt}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line)
}

/// Reads one line from the terminal without echoing it (a star per character). Ctrl-C cancels.
fn ask_secret(prompt: &str) -> Result<String> {
    use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
    use ratatui::crossterm::terminal;

    /// Leaves raw mode however the read ends.
    struct Raw;
    impl Drop for Raw {
        fn drop(&mut self) {
            let _ = terminal::disable_raw_mode();
        }
    }

    errout!("{prompt}");
    std::io::stderr().flush()?;
    terminal::enable_raw_mode()?;
    let raw = Raw;
    let mut secret = String::new();
    loop {
        match event::read()? {
            Event::Key(k) if k.kind != KeyEventKind::Release => match k.code {
                KeyCode::Enter => break,
                KeyCode::Char('c') | KeyCode::Char('d')
                    if k.modifiers.contains(KeyModifiers::CONTROL) =>
                {
                    drop(raw);
                    errln!();
                    bail!("cancelled; nothing was created");
                }
                KeyCode::Char(c) => {
                    secret.push(c);
                    errout!("*");
                }
                KeyCode::Backspace if secret.pop().is_some() => {
                    errout!("\x08 \x08");
                }
                _ => {}
            },
            Event::Paste(p) => {
                let p = p.trim();
                errout!("{}", "*".repeat(p.chars().count()));
                secret.push_str(p);
            }
            _ => {}
        }
        std::io::stderr().flush()?;
    }
    drop(raw);
    errln!();
    Ok(secret)
}

/// The lines one step prints.
pub fn step_lines(r: &StepReport) -> Vec<String> {
    match r {
        StepReport::Key { mode: Mode::Free } => {
            vec!["[1/5] key: none — free models only".to_string()]
        }
        StepReport::Key { mode: Mode::Key } => {
            vec![
                "[1/5] key: valid; stored in $HERMES_HOME/.env and every agent's profile .env (mode 0600)"
                    .to_string(),
            ]
        }
        StepReport::Detect(d) => vec![
            if d.ollama.available {
                format!(
                    "[2/5] local tools: Ollama at {}: {}",
                    d.ollama.url, d.ollama.detail
                )
            } else {
                format!(
                    "[2/5] local tools: Ollama not found at {} (optional: with Ollama running, helper calls such as compression go to a local model)",
                    d.ollama.url
                )
            },
            if d.faster_whisper.available {
                "      faster-whisper: found (local speech-to-text)".to_string()
            } else {
                "      faster-whisper: not found (optional: `pip install faster-whisper` for local speech-to-text)".to_string()
            },
        ],
        StepReport::Catalog(c) => vec![format!("[3/5] {}", c.description)],
        StepReport::Agents(a) => {
            let mut lines: Vec<String> = a
                .agents
                .iter()
                .map(|ag| {
                    format!(
                        "[4/5] agent {} ({}): {} on {}{}",
                        ag.name,
                        ag.role.title(),
                        if ag.created {
                            "created"
                        } else {
                            "already there, kept"
                        },
                        ag.model,
                        ag.fallback
                            .as_deref()
                            .map(|f| format!(" ({f})"))
                            .unwrap_or_default()
                    )
                })
                .collect();
            if let (Some(model), Some(url)) = (&a.local_model, &a.local_base_url) {
                let slots = onboarding::LOCAL_SLOTS.join(", ");
                lines.push(format!(
                    "      local model {model} at {url} handles: {slots}"
                ));
            }
            if a.stt_local {
                lines.push(
                    "      speech-to-text: local faster-whisper (stt.provider: local)".into(),
                );
            }
            for n in &a.notes {
                lines.push(format!("      note: {n}"));
            }
            lines
        }
        StepReport::Finish(rec) => vec![format!(
            "[5/5] done: onboarding recorded (completed {})",
            rec.completed_at.as_deref().unwrap_or("?")
        )],
    }
}

fn print_summary(s: &Summary) {
    let name_w = s
        .agents
        .iter()
        .map(|a| a.name.len())
        .max()
        .unwrap_or(4)
        .max(5);
    let model_w = s
        .agents
        .iter()
        .map(|a| a.model.len())
        .max()
        .unwrap_or(5)
        .max(5);
    outln!("{:<name_w$}  {:<model_w$}  SKILLS", "AGENT", "MODEL");
    for a in &s.agents {
        outln!(
            "{:<name_w$}  {:<model_w$}  {}",
            a.name,
            a.model,
            a.skills.join(", ")
        );
    }
    outln!();
    outln!("{}", s.catalog);
    match &s.openrouter_key {
        Some(k) => outln!("OpenRouter key: {k}"),
        None => outln!("OpenRouter key: not set"),
    }
    outln!();
    for line in &s.free_tier {
        outln!("{line}");
    }
}
