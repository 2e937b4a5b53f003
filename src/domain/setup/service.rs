//! The user-level service that keeps `nxr serve` running: a systemd user unit on Linux, a launchd
//! agent on macOS. It restarts `nxr serve` when it fails, sends its output to `$NXR_HOME/logs/`, and
//! carries the installing shell's NXR_HOME, HERMES_HOME, URLs and PATH. No secret goes into it: the
//! OpenRouter key stays in Hermes' 0600 `.env`; a libSQL server's token, when one is used, goes into a
//! 0600 environment file under NXR_HOME that the unit names.
//!
//! [`install`] writes atomically and records what it made (files and new directories) in
//! `$NXR_HOME/service-install.json`; [`uninstall`] removes exactly those and the record.

use crate::domain::base::env::Env;
use crate::domain::base::fsutil::{self, FileMode};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The first line of every file `nxr service install` writes.
pub const MARKER: &str = "Written by `nxr service install`; `nxr service uninstall` removes it.";
pub const SYSTEMD_UNIT: &str = "nxr.service";
pub const LAUNCHD_LABEL: &str = "dev.nxr.serve";
const RECORD: &str = "service-install.json";
const SECRET_ENV: &str = "service.env";

/// Which service manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Manager {
    Systemd,
    Launchd,
}

impl Manager {
    /// The one this platform uses.
    pub fn current() -> Manager {
        if cfg!(target_os = "macos") {
            Manager::Launchd
        } else {
            Manager::Systemd
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Bad(String),
    /// A launchd agent cannot read the token a libSQL server needs.
    #[error(
        "the database is a libSQL server reached with a token, and a launchd agent can read no environment file while nxr never writes a secret into the plist (a local database needs no token)"
    )]
    LaunchdNeedsToken,
    /// A unit file of the same name that nxr did not write.
    #[error("{path} exists and was not written by nxr; move it aside")]
    NotOurs { path: String },
    #[error(
        "cannot {action} {path}: {source}; make that directory writable (or set HOME / XDG_CONFIG_HOME)"
    )]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
}

impl crate::domain::base::hint::Hinted for ServiceError {
    fn hints(&self) -> Vec<crate::domain::base::hint::Hint> {
        match self {
            ServiceError::LaunchdNeedsToken => {
                vec![crate::domain::base::hint::Hint::RunServeInTerminal]
            }
            ServiceError::NotOurs { .. } => {
                vec![crate::domain::base::hint::Hint::InstallServiceAgain]
            }
            ServiceError::Bad(_) | ServiceError::Io { .. } => Vec::new(),
        }
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ServiceError {
    let path = path.display().to_string();
    move |source| ServiceError::Io {
        action,
        path,
        source,
    }
}

/// What the service runs and with which environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Spec {
    pub manager: Manager,
    /// The absolute `nxr` executable.
    pub exe: PathBuf,
    pub port: u16,
    /// Variables written into the unit (none secret), in a fixed order.
    pub vars: Vec<(String, String)>,
    /// Where `nxr serve`'s output goes.
    pub log: PathBuf,
    /// The 0600 file with the libSQL token, when one is set.
    pub secret_env_file: Option<PathBuf>,
}

/// Where the unit (or plist) lives: `$XDG_CONFIG_HOME/systemd/user/nxr.service` (default
/// `~/.config`), or `~/Library/LaunchAgents/dev.nxr.serve.plist`.
pub fn unit_path(manager: Manager, home: &Path, xdg_config: Option<&Path>) -> PathBuf {
    match manager {
        Manager::Systemd => xdg_config
            .map(Path::to_path_buf)
            .unwrap_or_else(|| home.join(".config"))
            .join("systemd/user")
            .join(SYSTEMD_UNIT),
        Manager::Launchd => home
            .join("Library/LaunchAgents")
            .join(format!("{LAUNCHD_LABEL}.plist")),
    }
}

/// The spec for this environment: `exe` and `path` (PATH) as the installing shell has them.
pub fn spec(
    env: &Env,
    manager: Manager,
    exe: PathBuf,
    port: u16,
    path: Option<String>,
) -> Result<Spec, ServiceError> {
    if !exe.is_absolute() {
        return Err(ServiceError::Bad(format!(
            "the nxr executable {} is not an absolute path; run nxr by its full path",
            exe.display()
        )));
    }
    let abs = |p: &Path| -> Result<String, ServiceError> {
        if p.is_absolute() {
            Ok(p.display().to_string())
        } else {
            std::env::current_dir()
                .map(|d| d.join(p).display().to_string())
                .map_err(io("resolve", p))
        }
    };
    let mut vars = vec![
        ("NXR_HOME".to_string(), abs(&env.nxr_home)?),
        ("HERMES_HOME".to_string(), abs(&env.hermes_home)?),
        ("NXR_HERMES_BIN".to_string(), env.hermes_bin.clone()),
        ("NXR_OPENROUTER_URL".to_string(), env.openrouter_url.clone()),
        ("NXR_OLLAMA_URL".to_string(), env.ollama_url.clone()),
        (
            "NXR_TELEGRAM_API_URL".to_string(),
            env.telegram_api_url.clone(),
        ),
        (
            "NXR_GATEWAY_SESSION".to_string(),
            env.gateway_session.clone(),
        ),
    ];
    if let Some(s) = &env.tmux_socket {
        vars.push(("NXR_TMUX_SOCKET".into(), s.clone()));
    }
    let mut secret_env_file = None;
    if let Some(url) = &env.db_url {
        // A URL can carry credentials (user info, a token in its query): then it goes with the token.
        if env.db_token.is_some() || url.contains('@') || url.contains('?') {
            secret_env_file = Some(env.nxr_home.join(SECRET_ENV));
        } else {
            vars.push(("NXR_DB_URL".into(), url.clone()));
        }
    }
    if manager == Manager::Launchd && secret_env_file.is_some() {
        return Err(ServiceError::LaunchdNeedsToken);
    }
    if let Some(p) = path.filter(|p| !p.is_empty()) {
        vars.push(("PATH".into(), p));
    }
    for (k, v) in &vars {
        if v.chars().any(char::is_control) {
            return Err(ServiceError::Bad(format!(
                "{k} holds a control character (a newline?), which a service file cannot carry; set it to a plain value"
            )));
        }
    }
    Ok(Spec {
        manager,
        exe,
        port,
        vars,
        log: env.logs_dir().join("serve.log"),
        secret_env_file,
    })
}

/// A systemd word: double-quoted, with `\`, `"`, `%` (a specifier) and `$` (a variable) escaped.
fn systemd_quote(s: &str, dollar: bool) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '%' => out.push_str("%%"),
            '$' if dollar => out.push_str("$$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The systemd user unit.
pub fn systemd_unit(spec: &Spec) -> String {
    let mut out = format!(
        "# {MARKER}\n[Unit]\nDescription=nxr serve: scans, budget thresholds, task queue and the web control plane\n\
         After=network-online.target\n\n[Service]\nType=simple\nExecStart={} serve --port {}\n",
        systemd_quote(&spec.exe.display().to_string(), true),
        spec.port
    );
    for (k, v) in &spec.vars {
        out.push_str(&format!(
            "Environment={}\n",
            systemd_quote(&format!("{k}={v}"), false)
        ));
    }
    if let Some(f) = &spec.secret_env_file {
        out.push_str(&format!(
            "EnvironmentFile={}\n",
            systemd_quote(&f.display().to_string(), false)
        ));
    }
    let log = spec.log.display().to_string().replace('%', "%%");
    out.push_str(&format!(
        "StandardOutput=append:{log}\nStandardError=append:{log}\nRestart=on-failure\nRestartSec=10\n\n\
         [Install]\nWantedBy=default.target\n"
    ));
    out
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The launchd agent (a property list).
pub fn launchd_plist(spec: &Spec) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- {} -->\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <plist version=\"1.0\">\n<dict>\n  <key>Label</key>\n  <string>{LAUNCHD_LABEL}</string>\n\
         <key>ProgramArguments</key>\n  <array>\n    <string>{}</string>\n    <string>serve</string>\n\
         <string>--port</string>\n    <string>{}</string>\n  </array>\n  <key>EnvironmentVariables</key>\n  <dict>\n",
        xml(MARKER),
        xml(&spec.exe.display().to_string()),
        spec.port
    );
    for (k, v) in &spec.vars {
        out.push_str(&format!(
            "    <key>{}</key>\n    <string>{}</string>\n",
            xml(k),
            xml(v)
        ));
    }
    let log = xml(&spec.log.display().to_string());
    out.push_str(&format!(
        "  </dict>\n  <key>RunAtLoad</key>\n  <true/>\n  <key>KeepAlive</key>\n  <dict>\n    <key>SuccessfulExit</key>\n    <false/>\n  </dict>\n\
         <key>StandardOutPath</key>\n  <string>{log}</string>\n  <key>StandardErrorPath</key>\n  <string>{log}</string>\n</dict>\n</plist>\n"
    ));
    out
}

/// The service file's text for `spec`.
pub fn render(spec: &Spec) -> String {
    match spec.manager {
        Manager::Systemd => systemd_unit(spec),
        Manager::Launchd => launchd_plist(spec),
    }
}

/// What `install` made, kept so `uninstall` removes exactly that.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub files: Vec<PathBuf>,
    /// Directories that did not exist before, outermost first.
    pub dirs: Vec<PathBuf>,
    /// The port the service's `nxr serve` listens on.
    #[serde(default)]
    pub port: Option<u16>,
}

fn record_path(env: &Env) -> PathBuf {
    env.nxr_home.join(RECORD)
}

/// The record of the last install, if any.
pub fn read_record(env: &Env) -> Result<Option<Record>, ServiceError> {
    let path = record_path(env);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            ServiceError::Bad(format!(
                "{} does not parse ({e}); remove the service files by hand and that file",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("read", &path)(e)),
    }
}

/// What `install` did.
#[derive(Debug, Clone, Serialize)]
pub struct Installed {
    pub unit: PathBuf,
    pub text: String,
    /// False when the file already said exactly this.
    pub changed: bool,
    pub record: Record,
}

fn write(path: &Path, bytes: &[u8], mode: u32) -> Result<(), ServiceError> {
    fsutil::write_atomic(path, bytes, FileMode::Exactly(mode), false).map_err(|e| {
        ServiceError::Io {
            action: e.action,
            path: e.path.display().to_string(),
            source: e.source,
        }
    })
}

/// Makes `dir` and the missing directories above it, returning those it made (outermost first).
fn make_dirs(dir: &Path) -> Result<Vec<PathBuf>, ServiceError> {
    let mut missing: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|p| !p.exists())
        .map(Path::to_path_buf)
        .collect();
    missing.reverse();
    std::fs::create_dir_all(dir).map_err(io("create", dir))?;
    Ok(missing)
}

/// Writes the service file (and the token file, when needed) for `spec` at `unit`, and the record.
/// Running it again with the same spec changes nothing.
pub fn install(
    env: &Env,
    spec: &Spec,
    unit: &Path,
    db_secret: Option<&str>,
) -> Result<Installed, ServiceError> {
    let text = render(spec);
    let mut record = read_record(env)?.unwrap_or_default();
    if let Some(existing) = std::fs::read_to_string(unit).ok()
        && !existing.contains(MARKER)
    {
        return Err(ServiceError::NotOurs {
            path: unit.display().to_string(),
        });
    }
    let changed = std::fs::read_to_string(unit).ok().as_deref() != Some(text.as_str());
    let mut made = Vec::new();
    for dir in [
        unit.parent(),
        Some(env.nxr_home.as_path()),
        spec.log.parent(),
    ]
    .into_iter()
    .flatten()
    {
        made.extend(make_dirs(dir)?);
    }
    if let (Some(file), Some(secret)) = (&spec.secret_env_file, db_secret) {
        write(file, format!("# {MARKER}\n{secret}").as_bytes(), 0o600)?;
        if !record.files.contains(file) {
            record.files.push(file.clone());
        }
    }
    if changed {
        write(unit, text.as_bytes(), 0o644)?;
    }
    if !record.files.iter().any(|f| f == unit) {
        record.files.push(unit.to_path_buf());
    }
    record.port = Some(spec.port);
    for d in made {
        if !record.dirs.contains(&d) {
            record.dirs.push(d);
        }
    }
    let json = serde_json::to_vec_pretty(&record).map_err(|e| ServiceError::Bad(e.to_string()))?;
    write(&record_path(env), &json, 0o600)?;
    Ok(Installed {
        unit: unit.to_path_buf(),
        text,
        changed,
        record,
    })
}

/// Removes what the install record names (files nxr wrote, then the directories it made when they
/// are empty) and the record. Returns what was removed; nothing when no service was installed.
pub fn uninstall(env: &Env) -> Result<Vec<PathBuf>, ServiceError> {
    let Some(record) = read_record(env)? else {
        return Ok(Vec::new());
    };
    let mut removed = Vec::new();
    for f in &record.files {
        match std::fs::read_to_string(f) {
            Ok(text) if text.contains(MARKER) => {
                std::fs::remove_file(f).map_err(io("remove", f))?;
                removed.push(f.clone());
            }
            _ => {}
        }
    }
    let record_file = record_path(env);
    std::fs::remove_file(&record_file).map_err(io("remove", &record_file))?;
    removed.push(record_file);
    for d in record.dirs.iter().rev() {
        if std::fs::remove_dir(d).is_ok() {
            removed.push(d.clone());
        }
    }
    Ok(removed)
}

/// Runs a service manager command; `Err` with what it said when it fails or cannot run.
fn manager_cmd(program: &str, args: &[&str]) -> Result<String, String> {
    match std::process::Command::new(program).args(args).output() {
        Ok(out) if out.status.success() => {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        }
        Ok(out) => Err(format!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Err(format!("cannot run {program}: {e}")),
    }
}

/// The commands that start the installed service (shown to the user when they fail).
pub fn start_commands(manager: Manager, unit: &Path) -> Vec<Vec<String>> {
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    match manager {
        Manager::Systemd => vec![
            s(&["systemctl", "--user", "daemon-reload"]),
            s(&["systemctl", "--user", "enable", "--now", SYSTEMD_UNIT]),
        ],
        Manager::Launchd => vec![s(&["launchctl", "load", "-w", &unit.display().to_string()])],
    }
}

/// The commands that stop and disable it.
pub fn stop_commands(manager: Manager, unit: &Path) -> Vec<Vec<String>> {
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    match manager {
        Manager::Systemd => vec![s(&[
            "systemctl",
            "--user",
            "disable",
            "--now",
            SYSTEMD_UNIT,
        ])],
        Manager::Launchd => vec![s(&[
            "launchctl",
            "unload",
            "-w",
            &unit.display().to_string(),
        ])],
    }
}

/// Runs `commands` in order, stopping at the first failure.
pub fn run_commands(commands: &[Vec<String>]) -> Result<(), String> {
    for c in commands {
        let args: Vec<&str> = c[1..].iter().map(String::as_str).collect();
        manager_cmd(&c[0], &args)?;
    }
    Ok(())
}

/// Whether the service manager says the service runs (`None`: it cannot be asked).
pub fn is_active(manager: Manager) -> Option<bool> {
    match manager {
        Manager::Systemd => match std::process::Command::new("systemctl")
            .args(["--user", "is-active", SYSTEMD_UNIT])
            .output()
        {
            Ok(out) => {
                let said = String::from_utf8_lossy(&out.stdout).trim().to_string();
                match said.as_str() {
                    "active" | "activating" | "reloading" => Some(true),
                    "inactive" | "failed" | "deactivating" => Some(false),
                    _ => None,
                }
            }
            Err(_) => None,
        },
        Manager::Launchd => manager_cmd("launchctl", &["list", LAUNCHD_LABEL])
            .map(|_| true)
            .ok(),
    }
}
