//! Every `nxr` command with its output going nowhere: stdout and stderr into one pipe whose reader is
//! already gone (`nxr … 2>&1 | true`), stdout into a closed pipe or onto a full disk (`/dev/full`)
//! with stderr read by the test, and both streams on `/dev/full`. Each run must end with an exit
//! status (no signal, no abort's 134, no panic's 101) and, where stderr is readable, without
//! "panicked at". The command table is checked against clap's tree, so a new command must be added here.

mod common;

use clap::CommandFactory;
use common::Homes;
use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A command path (as clap names it) and the arguments that run it harmlessly and briefly.
type Case = (&'static str, &'static [&'static str]);

const MODEL: &str = "openai/gpt-oss-120b:free";

/// Stands for the path of the repository's evaluation data file.
const EVALS_FILE: &str = "<data/model_evals.yaml>";

/// Stands for a loopback port the test keeps bound.
const BUSY_PORT: &str = "<a port in use>";

fn cases() -> Vec<Case> {
    vec![
        // No subcommand: the TUI, which refuses at once when stdout is not a terminal.
        ("", &[]),
        ("init", &["init", "--free"]),
        ("models list", &["models", "list"]),
        ("models best-free", &["models", "best-free", "--role", "pm"]),
        ("models roster", &["models", "roster"]),
        ("models rescore", &["models", "rescore"]),
        (
            "models explain",
            &["models", "explain", MODEL, "--role", "pm"],
        ),
        ("catalog refresh", &["catalog", "refresh"]),
        (
            "agents create",
            &[
                "agents", "create", "--role", "custom", "--name", "Extra", "--free",
            ],
        ),
        ("agents list", &["agents", "list"]),
        ("agents skills", &["agents", "skills", "PM"]),
        ("agents recommend", &["agents", "recommend"]),
        ("agents rescore", &["agents", "rescore"]),
        (
            "agents delete",
            &["agents", "delete", "NoSuchAgent", "--yes"],
        ),
        ("agents revert", &["agents", "revert", "PM"]),
        ("agents check", &["agents", "check", "PM"]),
        ("agents fallbacks", &["agents", "fallbacks", "PM"]),
        ("agents move", &["agents", "move", "PM", "--host", "other"]),
        (
            "config set",
            &["config", "set", "scan-interval-hours", "12"],
        ),
        ("config get", &["config", "get", "scan-interval-hours"]),
        ("config unset", &["config", "unset", "openrouter-key"]),
        ("db status", &["db", "status"]),
        ("db migrate", &["db", "migrate"]),
        ("upgrade", &["upgrade", "--all", "--dry-run"]),
        ("budget", &["budget"]),
        ("hosts", &["hosts"]),
        ("run", &["run", "--agent", "PM", "hello"]),
        ("queue", &["queue"]),
        ("queue list", &["queue", "list", "--all"]),
        ("queue run", &["queue", "run"]),
        ("queue cancel", &["queue", "cancel", "999999"]),
        ("scan", &["scan"]),
        ("notifications", &["notifications"]),
        ("notifications read", &["notifications", "read", "--all"]),
        ("notifications apply", &["notifications", "apply", "999999"]),
        ("notifications telegram", &["notifications", "telegram"]),
        ("evals list", &["evals", "list"]),
        ("evals import", &["evals", "import", EVALS_FILE]),
        (
            "paperclip connect",
            &["paperclip", "connect", "--url", "http://127.0.0.1:9"],
        ),
        ("paperclip sync", &["paperclip", "sync", "--dry-run"]),
        ("paperclip status", &["paperclip", "status"]),
        ("slots list", &["slots", "list"]),
        ("slots set", &["slots", "set", "compression", MODEL]),
        ("gateway start", &["gateway", "start", "--timeout", "1"]),
        ("gateway stop", &["gateway", "stop", "--timeout", "1"]),
        ("gateway restart", &["gateway", "restart", "--timeout", "1"]),
        ("gateway status", &["gateway", "status"]),
        ("status", &["status"]),
        // A running serve never ends; on a port already taken it stops at once with its error.
        ("serve", &["serve", "--port", BUSY_PORT]),
        ("relay run", &["relay", "run", "--port", BUSY_PORT]),
        ("relay status", &["relay", "status", "--port", "1"]),
        ("relay enable", &["relay", "enable", "--port", "1"]),
        ("relay disable", &["relay", "disable"]),
        ("completions", &["completions", "bash"]),
        ("doctor", &["doctor"]),
        ("service install", &["service", "install", "--no-start"]),
        ("service status", &["service", "status"]),
        ("service uninstall", &["service", "uninstall", "--no-stop"]),
        ("man", &["man"]),
    ]
}

/// Every command path a user can run: each subcommand, and each group that runs without one.
fn clap_paths() -> BTreeSet<String> {
    fn walk(cmd: &clap::Command, prefix: &str, out: &mut BTreeSet<String>) {
        if !cmd.is_subcommand_required_set() || !cmd.has_subcommands() {
            out.insert(prefix.to_string());
        }
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let p = if prefix.is_empty() {
                sub.get_name().to_string()
            } else {
                format!("{prefix} {}", sub.get_name())
            };
            walk(sub, &p, out);
        }
    }
    let mut out = BTreeSet::new();
    walk(&nxr::cli::Cli::command(), "", &mut out);
    out
}

#[test]
fn the_table_names_every_command_clap_knows() {
    let table: Vec<&str> = cases().iter().map(|(p, _)| *p).collect();
    let in_table: BTreeSet<String> = table.iter().map(|p| p.to_string()).collect();
    assert_eq!(in_table.len(), table.len(), "a command is listed twice");
    assert_eq!(
        in_table,
        clap_paths(),
        "tests/closed_pipe.rs must list every nxr command"
    );
}

/// Where the two streams go in one run.
#[derive(Clone, Copy, Debug)]
enum Sink {
    /// `2>&1 | true`: both into one pipe whose reader is closed.
    BothClosedPipe,
    /// `| true` with stderr kept: stdout into a closed pipe.
    StdoutClosedPipe,
    /// `> /dev/full` with stderr kept.
    StdoutFull,
    /// `> /dev/full 2> /dev/full`.
    BothFull,
}

fn closed_pipe() -> std::io::PipeWriter {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    writer
}

fn dev_full() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full")
}

/// Runs `cmd` with the streams as `sink` says; returns the exit status and what stderr said (empty
/// when stderr is not readable).
fn run(mut cmd: Command, sink: Sink) -> (std::process::ExitStatus, String) {
    cmd.stdin(Stdio::null());
    let err_file = tempfile::NamedTempFile::new().expect("temp stderr");
    let err_kept = || Stdio::from(err_file.reopen().expect("reopen"));
    match sink {
        Sink::BothClosedPipe => {
            let w = closed_pipe();
            cmd.stderr(Stdio::from(w.try_clone().expect("clone")))
                .stdout(Stdio::from(w));
        }
        Sink::StdoutClosedPipe => {
            cmd.stdout(Stdio::from(closed_pipe())).stderr(err_kept());
        }
        Sink::StdoutFull => {
            cmd.stdout(Stdio::from(dev_full())).stderr(err_kept());
        }
        Sink::BothFull => {
            cmd.stdout(Stdio::from(dev_full()))
                .stderr(Stdio::from(dev_full()));
        }
    }
    let mut child = cmd.spawn().expect("spawn nxr");
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} ({sink:?}) still running after 90 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = std::fs::read_to_string(err_file.path()).unwrap_or_default();
    (status, stderr)
}

/// Runs every command of the table with its streams as `sink` says, in a home of its own; returns
/// what went wrong and how many runs there were.
fn every_command(sink: Sink) -> (Vec<String>, usize) {
    let homes = Homes::new();
    let socket = format!("nxr-closed-pipe-{}-{sink:?}", std::process::id());
    let prepared = |args: &[std::ffi::OsString]| {
        let mut c = homes.nxr();
        c.args(args)
            .env("NXR_HERMES_BIN", "/bin/false")
            .env("NXR_TMUX_SOCKET", &socket)
            .env("NXR_GATEWAY_SESSION", "nxr-closed-pipe")
            // `service install` writes under the home: keep it in the temp dir.
            .env("HOME", homes.dir.path().join("home"))
            .env("XDG_CONFIG_HOME", homes.dir.path().join("home/.config"));
        c
    };
    let init = prepared(&["init".into(), "--free".into()])
        .output()
        .expect("init");
    assert!(
        init.status.success(),
        "nxr init --free: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let evals = common::root().join("data/model_evals.yaml");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let mut failures = Vec::new();
    let mut ran = 0;
    for (name, args) in cases() {
        let args: Vec<std::ffi::OsString> = args
            .iter()
            .map(|a| match *a {
                EVALS_FILE => evals.clone().into_os_string(),
                BUSY_PORT => port.clone().into(),
                a => a.into(),
            })
            .collect();
        let (status, stderr) = run(prepared(&args), sink);
        ran += 1;
        let code = status.code();
        if code.is_none() || code == Some(134) || code == Some(101) {
            failures.push(format!(
                "`nxr {name}` ({sink:?}): {status}; stderr: {stderr}"
            ));
        } else if stderr.contains("panicked at") {
            failures.push(format!("`nxr {name}` ({sink:?}) panicked: {stderr}"));
        }
        // A full disk under stdout is an error the user hears about once, with exit 1.
        let said = stderr.matches("cannot write to standard output").count();
        if said > 0 && code != Some(1) {
            failures.push(format!(
                "`nxr {name}` ({sink:?}) said it could not write but exited {status}"
            ));
        }
        if said > 1 {
            failures.push(format!(
                "`nxr {name}` ({sink:?}) repeats its write error: {stderr}"
            ));
        }
    }
    let _ = Command::new("tmux")
        .args(["-L", &socket, "kill-server"])
        .stderr(Stdio::null())
        .status();
    (failures, ran)
}

#[test]
fn no_command_panics_or_aborts_when_its_output_goes_nowhere() {
    // One thread (and one home) per sink: most of the time is spent waiting on refused connections.
    let threads: Vec<_> = [
        Sink::BothClosedPipe,
        Sink::StdoutClosedPipe,
        Sink::StdoutFull,
        Sink::BothFull,
    ]
    .into_iter()
    .map(|sink| std::thread::spawn(move || every_command(sink)))
    .collect();
    let mut failures = Vec::new();
    let mut ran = 0;
    for t in threads {
        let (f, n) = t.join().expect("a sink's thread");
        failures.extend(f);
        ran += n;
    }
    assert_eq!(ran, 4 * cases().len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_listing_into_a_full_disk_fails_with_one_clear_error() {
    let homes = Homes::new();
    let init = homes.nxr().args(["init", "--free"]).output().expect("init");
    assert!(init.status.success());
    for args in [&["models", "list"][..], &["models", "list", "--json"][..]] {
        let mut c = homes.nxr();
        c.args(args);
        let (status, stderr) = run(c, Sink::StdoutFull);
        assert_eq!(status.code(), Some(1), "nxr {args:?}: {stderr}");
        assert!(
            stderr.contains("No space left on device"),
            "nxr {args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // `2>&1 | true` — the case that aborted: the command ends with its usual status, 0.
    let mut c = homes.nxr();
    c.args(["models", "list"]);
    let (status, _) = run(c, Sink::BothClosedPipe);
    assert_eq!(status.code(), Some(0));
    let mut c = homes.nxr();
    c.args(["budget"]);
    let (status, _) = run(c, Sink::BothClosedPipe);
    assert_eq!(status.code(), Some(0));
}
