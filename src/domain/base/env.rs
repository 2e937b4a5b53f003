//! Where every external thing lives. Environment overrides settings, settings override defaults
//! (docs/design.md §5). Tests build an [`Env`] by hand so that nothing reaches the user's real files.

use std::path::PathBuf;

pub const DEFAULT_OPENROUTER_URL: &str = "https://openrouter.ai/api/v1";
pub const DEFAULT_OLLAMA_URL: &str = "http://127.0.0.1:11434";
pub const DEFAULT_TELEGRAM_API_URL: &str = "https://api.telegram.org";

/// Resolved locations of nxr's state and of the systems it talks to.
#[derive(Debug, Clone)]
pub struct Env {
    /// `$NXR_HOME`: the database (when local), logs, the web access token.
    pub nxr_home: PathBuf,
    /// `$NXR_DB_URL`: a libSQL server (sqld / Turso) instead of the local file.
    pub db_url: Option<String>,
    /// `$NXR_DB_TOKEN`: auth token for `db_url`.
    pub db_token: Option<String>,
    /// `$HERMES_HOME`: Hermes Agent's home (config.yaml, .env, profiles/).
    pub hermes_home: PathBuf,
    /// `$NXR_HERMES_BIN`: the `hermes` executable.
    pub hermes_bin: String,
    /// `$NXR_OPENROUTER_URL`: the OpenRouter API base, including `/api/v1`.
    pub openrouter_url: String,
    /// `$NXR_OLLAMA_URL`.
    pub ollama_url: String,
    /// `$NXR_TELEGRAM_API_URL`.
    pub telegram_api_url: String,
    /// `$NXR_TMUX_SOCKET`: the tmux server socket name (`tmux -L NAME`) the gateway session lives on;
    /// `None` = tmux's default server.
    pub tmux_socket: Option<String>,
    /// `$NXR_GATEWAY_SESSION`: the tmux session that runs `hermes gateway run` (default `hermes`).
    pub gateway_session: String,
    /// `$NXR_HOST_NAME`: this machine's name in team mode (see `base::host`); `None` = the name kept
    /// in `$NXR_HOME/host-name`, else the machine's hostname.
    pub host_name: Option<String>,
}

/// The tmux session name the gateway runs in unless `$NXR_GATEWAY_SESSION` says otherwise.
pub const DEFAULT_GATEWAY_SESSION: &str = "hermes";

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Env {
    /// Reads the process environment, falling back to platform defaults.
    pub fn from_process() -> Result<Env, EnvError> {
        let nxr_home = match var("NXR_HOME") {
            Some(p) => PathBuf::from(p),
            None => directories::ProjectDirs::from("", "", "nxr")
                .map(|d| d.data_dir().to_path_buf())
                .ok_or(EnvError::NoHome("NXR_HOME"))?,
        };
        let hermes_home = match var("HERMES_HOME") {
            Some(p) => PathBuf::from(p),
            None => directories::BaseDirs::new()
                .map(|d| d.home_dir().join(".hermes"))
                .ok_or(EnvError::NoHome("HERMES_HOME"))?,
        };
        Ok(Env {
            nxr_home,
            db_url: var("NXR_DB_URL"),
            db_token: var("NXR_DB_TOKEN"),
            hermes_home,
            hermes_bin: var("NXR_HERMES_BIN").unwrap_or_else(|| "hermes".to_string()),
            openrouter_url: trim_base(
                var("NXR_OPENROUTER_URL").unwrap_or_else(|| DEFAULT_OPENROUTER_URL.into()),
            ),
            ollama_url: trim_base(
                var("NXR_OLLAMA_URL").unwrap_or_else(|| DEFAULT_OLLAMA_URL.into()),
            ),
            telegram_api_url: trim_base(
                var("NXR_TELEGRAM_API_URL").unwrap_or_else(|| DEFAULT_TELEGRAM_API_URL.into()),
            ),
            tmux_socket: var("NXR_TMUX_SOCKET"),
            gateway_session: var("NXR_GATEWAY_SESSION")
                .unwrap_or_else(|| DEFAULT_GATEWAY_SESSION.into()),
            host_name: var("NXR_HOST_NAME"),
        })
    }

    /// An environment rooted in two directories, with every URL at its default.
    /// Tests use this and then point the URLs at their loopback servers.
    pub fn for_dirs(nxr_home: impl Into<PathBuf>, hermes_home: impl Into<PathBuf>) -> Env {
        Env {
            nxr_home: nxr_home.into(),
            db_url: None,
            db_token: None,
            hermes_home: hermes_home.into(),
            hermes_bin: "hermes".into(),
            openrouter_url: DEFAULT_OPENROUTER_URL.into(),
            ollama_url: DEFAULT_OLLAMA_URL.into(),
            telegram_api_url: DEFAULT_TELEGRAM_API_URL.into(),
            tmux_socket: None,
            gateway_session: DEFAULT_GATEWAY_SESSION.into(),
            host_name: None,
        }
    }

    /// The local database file (used when `db_url` is unset).
    pub fn db_path(&self) -> PathBuf {
        self.nxr_home.join("hermes_tracking.db")
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.nxr_home.join("logs")
    }
}

fn trim_base(url: String) -> String {
    url.trim_end_matches('/').to_string()
}

#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("cannot find a home directory for {0}; set {0} to a directory nxr may write to")]
    NoHome(&'static str),
}
