//! clap definitions and one thin handler per subcommand. Handlers turn arguments into one domain call
//! and render the result (text, or JSON with `--json`). Errors go to stderr with a non-zero exit.
//!
//! Every byte the CLI prints goes through `out_text` (stdout) or `err_text` (stderr) and the macros
//! `outln!`/`out!`/`errln!`/`errout!` over them; `println!`/`eprintln!` are denied crate-wide, since they
//! panic when the reader has gone (`nxr … 2>&1 | true`) or the disk is full (`> /dev/full`). A closed
//! stdout ends the output quietly with the command's usual exit status; any other stdout write error is
//! reported once on stderr and the command exits 1. Stderr write errors are dropped: there is nowhere
//! left to say them. The panic hook writes its report the same way, so it never panics itself.

/// `println!` for command output: a reader that went away (`nxr … | head`) is not an error.
macro_rules! outln {
    () => {
        $crate::cli::out_text("\n")
    };
    ($($arg:tt)*) => {
        $crate::cli::out_text(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` for command output, likewise.
#[allow(unused_macros)]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::out_text(&format!($($arg)*))
    };
}

/// `eprintln!` for messages: a stderr that is closed or full is not an error (and never a panic).
macro_rules! errln {
    () => {
        $crate::cli::err_text("\n")
    };
    ($($arg:tt)*) => {
        $crate::cli::err_text(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprint!` for prompts and messages, likewise.
macro_rules! errout {
    ($($arg:tt)*) => {
        $crate::cli::err_text(&format!($($arg)*))
    };
}

pub mod agents;
pub mod budget;
pub mod catalog;
pub mod check;
pub mod config;
pub mod db;
pub mod doctor;
pub mod evals;
pub mod gateway;
pub mod hints;
pub mod hosts;
pub mod init;
pub mod models;
pub mod notifications;
pub mod paperclip;
pub mod recommend;
pub mod relay;
pub mod run;
pub mod scan;
pub mod scoring;
pub mod serve;
pub mod service;
pub mod slots;
pub mod status;
pub mod upgrade;
mod upgrade_prompt;

use crate::domain::base::env::Env;
use crate::domain::store::Store;
use clap::{CommandFactory, Parser, Subcommand};
use color_eyre::Result;

/// `nxr --version`: the crate's version and the git commit it was built from ("unknown" outside a
/// git checkout; see build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("NXR_GIT_COMMIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "nxr",
    version = VERSION,
    about = "A terminal-first control plane for a small team of AI agents",
    long_about = "nxr keeps your agents (a PM, an Engineer, a Hermes agent, …) on the best free LLM models on \
                  OpenRouter, and moves them to paid models when you add a key.\n\nRun `nxr` with no \
                  arguments for the TUI, `nxr init` to set up, `nxr serve` for the web control plane."
)]
pub struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up nxr: three free agents (PM, Engineer, Hermes) in seconds, no key needed.
    Init(init::InitArgs),
    /// Browse, score and explain models from the OpenRouter catalog.
    #[command(subcommand)]
    Models(models::ModelsCmd),
    /// Fetch the OpenRouter catalog into the database.
    #[command(subcommand)]
    Catalog(catalog::CatalogCmd),
    /// Create, list and manage agents and their skills.
    #[command(subcommand)]
    Agents(agents::AgentsCmd),
    /// Read and change nxr's configuration (e.g. the OpenRouter key).
    #[command(subcommand)]
    Config(config::ConfigCmd),
    /// Inspect and migrate the database.
    #[command(subcommand)]
    Db(db::DbCmd),
    /// Move agents to paid models with an OpenRouter key (plan, confirm, apply), or back with --revert.
    Upgrade(upgrade::UpgradeArgs),
    /// Today's free requests against the daily limit, per agent, and the projection to 00:00 UTC.
    Budget,
    /// Team mode: the hosts sharing the database, with their last heartbeat.
    Hosts,
    /// Run a prompt with an agent through Hermes (queued when the free daily limit is used up).
    Run(run::RunArgs),
    /// Agents' tasks waiting for the free bucket's reset.
    Queue {
        #[command(subcommand)]
        command: Option<run::QueueCmd>,
    },
    /// Scan once: fetch the catalog, rescore every role, notify about the agents' models, read usage.
    Scan,
    /// List notifications, mark them read, carry out an upgrade one, choose which go to Telegram.
    Notifications(notifications::NotificationsArgs),
    /// The published evaluation figures behind the capability score: list them, import a newer file.
    #[command(subcommand)]
    Evals(evals::EvalsCmd),
    /// Run nxr's agents in a Paperclip company: connect, sync.
    #[command(subcommand)]
    Paperclip(paperclip::PaperclipCmd),
    /// List the routing slots of Hermes' config.yaml (main model + auxiliary) or point one at a model.
    #[command(subcommand)]
    Slots(slots::SlotsCmd),
    /// Start, stop, restart the Hermes gateway (in a tmux session) or show its status.
    #[command(subcommand)]
    Gateway(gateway::GatewayCmd),
    /// Check the whole setup (Hermes, homes, database, key, agents, gateway, `nxr serve`, catalog,
    /// Ollama, Paperclip, disk): one ✓/✗ line per check with the fix; exits non-zero when one fails.
    Doctor(doctor::DoctorArgs),
    /// One-screen summary: the gateway, the agents, today's budget, the newest notifications.
    Status,
    /// Run the web control plane (HTML pages + JSON API) on 127.0.0.1.
    Serve(serve::ServeArgs),
    /// The loopback relay that paces every agent's free OpenRouter requests account-wide.
    #[command(subcommand)]
    Relay(relay::RelayCmd),
    /// Keep `nxr serve` running as a user service (systemd user unit / launchd agent): install,
    /// uninstall, status.
    #[command(subcommand)]
    Service(service::ServiceCmd),
    /// Print shell completions.
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
    /// Print the man page (nxr.1), or write one page per command into a directory.
    Man {
        /// Write nxr.1 and nxr-<command>.1 for every command into this directory (made when missing),
        /// e.g. ~/.local/share/man/man1.
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    },
}

/// What every handler gets.
pub struct Ctx {
    pub env: Env,
    pub json: bool,
}

impl Ctx {
    /// Opens (and migrates) the store.
    pub async fn store(&self) -> Result<Store> {
        let store = Store::open(&self.env).await?;
        reconcile_once(&self.env, &store).await;
        Ok(store)
    }

    /// Opens the store for a command that only reads: a database that cannot be written is opened
    /// read-only instead of failing.
    pub async fn store_read(&self) -> Result<Store> {
        let store = Store::open_for_reading(&self.env).await?;
        if !store.is_read_only() {
            reconcile_once(&self.env, &store).await;
        }
        Ok(store)
    }
}

/// In team mode (a shared database), the first store a command opens first makes this host's
/// profiles agree with the database (`agents::reconcile`); what it changed or could not do goes to
/// stderr, and a failure never stops the command.
async fn reconcile_once(env: &Env, store: &Store) {
    use std::sync::atomic::{AtomicBool, Ordering};
    static DONE: AtomicBool = AtomicBool::new(false);
    if env.db_url.is_none() || DONE.swap(true, Ordering::SeqCst) {
        return;
    }
    match crate::domain::watch::team::reconcile(store, env).await {
        Ok(report) => {
            for line in report.lines() {
                errln!("nxr: {line}");
            }
        }
        Err(e) => {
            errln!("nxr: could not bring this host's agent profiles in step with the database: {e}")
        }
    }
}

/// A name (or other stored text) made safe for a terminal: invisible and bidi-control characters and
/// control characters are shown as `\u{…}` escapes instead of being printed raw.
pub fn shown(text: &str) -> String {
    crate::domain::base::text::escape_invisible(text)
}

/// A plain-text table: the header line, then one line per row, each column padded to its widest cell
/// (counted in characters) and separated by two spaces, trailing space trimmed.
pub fn table_lines<R: AsRef<[String]>>(head: &[&str], rows: &[R]) -> (String, Vec<String>) {
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r.as_ref()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        cells
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let header = line(&mut head.iter().copied());
    let lines = rows
        .iter()
        .map(|r| line(&mut r.as_ref().iter().map(String::as_str)))
        .collect();
    (header, lines)
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_stdout(&text)
}

/// Writes command output as [`out_text`] does; shaped as a `Result` so a handler can end with it.
pub fn write_stdout(text: &str) -> Result<()> {
    out_text(text);
    Ok(())
}

/// Set once a stdout write failed for a reason other than a closed pipe; the command then exits 1.
static STDOUT_FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Writes command output; a closed pipe ends the output quietly. Any other write error (a full disk)
/// is reported once on stderr and makes the command exit 1; later output is dropped.
pub fn out_text(text: &str) {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    if STDOUT_FAILED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
        && !STDOUT_FAILED.swap(true, Ordering::Relaxed)
    {
        err_text(&format!(
            "error: cannot write to standard output: {e}; send the output somewhere with room (a file on another disk, a pipe, the terminal)\n"
        ));
    }
}

/// Writes to stderr; a stderr that is closed or full is ignored (there is nowhere left to say it).
pub fn err_text(text: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// Installs color-eyre's error and panic hooks; the panic report is written with `write!` so a closed
/// or full stderr cannot make the hook itself panic (which would abort the process).
fn install_hooks() {
    let mut hooks = color_eyre::config::HookBuilder::default().display_env_section(false);
    if !stderr_color_enabled() {
        hooks = hooks.theme(color_eyre::config::Theme::new());
    }
    let (panic_hook, eyre_hook) = hooks.into_hooks();
    let _ = eyre_hook.install();
    std::panic::set_hook(Box::new(move |info| {
        use std::io::Write;
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{}", panic_hook.panic_report(info));
        let _ = err.flush();
    }));
}

/// True when colours may be used on stdout (a terminal, and NO_COLOR unset).
pub fn color_enabled() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Sends diagnostics to `$NXR_HOME/logs/nxr.log` (level from RUST_LOG, default info); never to the
/// terminal, so the TUI's screen stays clean. A log file that cannot be opened (a directory in its
/// place, a file another user left) never stops a command: it runs without file logging, and says so
/// once on stderr when RUST_LOG asks for logs.
fn init_tracing(env: &Env) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = env.logs_dir();
    let path = dir.join("nxr.log");
    let opened = std::fs::create_dir_all(&dir).and_then(|()| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
    });
    let file = match opened {
        Ok(f) => f,
        Err(e) => {
            if std::env::var_os("RUST_LOG").is_some() {
                errln!(
                    "nxr: not logging to {}: {e}; running without a log file (make it writable, or set NXR_HOME)",
                    path.display()
                );
            }
            return None;
        }
    };
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(guard)
}

/// The process entry point; returns the exit code.
pub fn main() -> i32 {
    install_hooks();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match run(cli) {
        Ok(()) if STDOUT_FAILED.load(std::sync::atomic::Ordering::Relaxed) => 1,
        Ok(()) => 0,
        Err(e) => {
            err_text(&render_error(&e));
            1
        }
    }
}

/// `error: …` with the CLI's words for what to do next (the hints of the error and its causes), then
/// each cause that the messages before it do not already say (domain errors often embed their
/// source's text).
pub fn render_error(e: &color_eyre::Report) -> String {
    let mut said = e.to_string();
    let root: &(dyn std::error::Error + 'static) = e.as_ref();
    let first = hints::with_hints(said.clone(), &crate::domain::setup::errors::hints_of(root));
    let mut out = format!("error: {first}\n");
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !said.contains(&text) {
            out.push_str(&format!("  caused by: {text}\n"));
        }
        said.push_str(&text);
    }
    out
}

/// True when colours may be used on stderr (a terminal, and NO_COLOR unset).
fn stderr_color_enabled() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

pub fn run(cli: Cli) -> Result<()> {
    if let Some(Command::Completions { shell }) = &cli.command {
        let mut script = Vec::new();
        clap_complete::generate(*shell, &mut Cli::command(), "nxr", &mut script);
        return write_stdout(&String::from_utf8_lossy(&script));
    }
    if let Some(Command::Man { dir }) = &cli.command {
        return man(dir.as_deref());
    }
    let env = Env::from_process()?;
    if let Some(Command::Doctor(args)) = cli.command {
        // The doctor changes nothing, so it does not open (or create) the log file either.
        let ctx = Ctx {
            env,
            json: cli.json,
        };
        return block_on(async move { doctor::run(&ctx, args).await });
    }
    let _guard = init_tracing(&env);
    let local_db = env.db_url.is_none().then(|| env.db_path());
    let ctx = Ctx {
        env,
        json: cli.json,
    };
    let Some(command) = cli.command else {
        return crate::app::run(ctx.env);
    };
    block_on(async move {
        match command {
            Command::Init(args) => init::run(&ctx, args).await,
            Command::Models(cmd) => models::run(&ctx, cmd).await,
            Command::Catalog(cmd) => catalog::run(&ctx, cmd).await,
            Command::Agents(cmd) => agents::run(&ctx, cmd).await,
            Command::Config(cmd) => config::run(&ctx, cmd).await,
            Command::Db(cmd) => db::run(&ctx, cmd).await,
            Command::Upgrade(args) => upgrade::run(&ctx, args).await,
            Command::Scan => scan::run(&ctx).await,
            Command::Budget => budget::run(&ctx).await,
            Command::Hosts => hosts::list(&ctx).await,
            Command::Run(args) => run::run(&ctx, args).await,
            Command::Queue { command } => run::queue_cmd(&ctx, command).await,
            Command::Notifications(args) => notifications::run(&ctx, args).await,
            Command::Evals(cmd) => evals::run(&ctx, cmd).await,
            Command::Paperclip(cmd) => paperclip::run(&ctx, cmd).await,
            Command::Serve(args) => serve::run(&ctx, args).await,
            Command::Relay(cmd) => relay::run(&ctx, cmd).await,
            Command::Service(cmd) => service::run(&ctx, cmd).await,
            Command::Gateway(cmd) => gateway::run(&ctx, cmd).await,
            Command::Status => status::run(&ctx).await,
            Command::Slots(cmd) => slots::run(&ctx, cmd).await,
            Command::Doctor(args) => doctor::run(&ctx, args).await,
            Command::Completions { .. } | Command::Man { .. } => Ok(()),
        }
    })
    .map_err(|e| locked_error(e, local_db.as_deref()))
}

/// `nxr man`: the top page on stdout, or every page into `dir`.
fn man(dir: Option<&std::path::Path>) -> Result<()> {
    use color_eyre::eyre::WrapErr;
    let cmd = Cli::command().version(VERSION);
    let Some(dir) = dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd).render(&mut page)?;
        return write_stdout(&String::from_utf8_lossy(&page));
    };
    std::fs::create_dir_all(dir).wrap_err_with(|| {
        format!(
            "cannot make {}; pass a directory you may write to",
            dir.display()
        )
    })?;
    clap_mangen::generate_to(cmd, dir).wrap_err_with(|| {
        format!(
            "cannot write the man pages into {}; pass a directory you may write to",
            dir.display()
        )
    })?;
    let mut pages: Vec<String> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("nxr") && n.ends_with(".1"))
        .collect();
    pages.sort();
    errln!(
        "wrote {} man page(s) into {} (`man nxr` finds them when that directory is on MANPATH, e.g. ~/.local/share/man/man1)",
        pages.len(),
        dir.display()
    );
    Ok(())
}

/// Runs a command's future on a fresh runtime.
fn block_on(work: impl std::future::Future<Output = Result<()>>) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(work);
    // Do not wait on a blocking task that is still stuck (e.g. a DNS lookup on a machine with no
    // network): the command's answer is already known.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    outcome
}

/// A database lock that outlived the busy timeout, said with the process that holds it when it can be
/// found; any other error as it was.
fn locked_error(e: color_eyre::Report, local_db: Option<&std::path::Path>) -> color_eyre::Report {
    use crate::domain::store::{self, StoreError};
    let locked = e.chain().any(|c| {
        c.downcast_ref::<libsql::Error>().is_some_and(store::is_locked)
            || matches!(c.downcast_ref::<StoreError>(), Some(StoreError::Sql(s)) if store::is_locked(s))
    });
    let Some(path) = local_db.filter(|_| locked) else {
        return e;
    };
    let secs = store::BUSY_TIMEOUT.as_secs();
    let holders = store::lock_holders(path);
    let who = if holders.is_empty() {
        "another process (nxr cannot tell which; it may run as another user)".to_string()
    } else {
        format!("another process: {}", holders.join(", "))
    };
    color_eyre::eyre::eyre!(
        "the database {} is locked by {who}, which held it for longer than {secs} s; let it finish, or stop it (a `nxr serve` or the TUI: quit it; a stuck process: kill it by its pid), then run this command again",
        path.display()
    )
}
