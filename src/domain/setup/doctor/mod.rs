//! [`Doctor`]: every check of an nxr setup on one screen, one [`Line`] per check with the fix: Hermes
//! found and its version supported, both homes writable, the database reachable, migrated and intact,
//! the OpenRouter key present (and, when asked, valid and its tier), each agent's own check
//! (`agent_check`, not repeated here), the gateway, whether an `nxr serve` runs and how old the last
//! scan is, the catalog's age, Ollama, the Paperclip connection and the free disk space.
//!
//! Nothing here writes: the database is opened read-only (a server is only read), `hermes --version`
//! runs with a throw-away HERMES_HOME, and writability is asked with `access(2)`. Each surface renders
//! the same [`Doctor`].

pub mod state;
pub mod system;

use crate::domain::base::env::Env;
use serde::Serialize;
use std::time::Duration;

/// What a line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Hermes,
    HermesHome,
    NxrHome,
    Database,
    Key,
    Agent,
    Gateway,
    Serve,
    LastScan,
    Catalog,
    Ollama,
    Paperclip,
    Disk,
}

impl Topic {
    /// The short name every surface shows before a line.
    pub fn label(self) -> &'static str {
        match self {
            Topic::Hermes => "Hermes",
            Topic::HermesHome => "HERMES_HOME",
            Topic::NxrHome => "NXR_HOME",
            Topic::Database => "database",
            Topic::Key => "OpenRouter key",
            Topic::Agent => "agent",
            Topic::Gateway => "gateway",
            Topic::Serve => "nxr serve",
            Topic::LastScan => "last scan",
            Topic::Catalog => "catalog",
            Topic::Ollama => "Ollama",
            Topic::Paperclip => "Paperclip",
            Topic::Disk => "disk",
        }
    }
}

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    Pass,
    Fail,
    /// Not set up and nothing needs it (Paperclip never connected, no agent on Ollama), or not checkable
    /// because an earlier check failed: not a failure by itself.
    Skipped,
}

impl Mark {
    /// ✓, ✗ or – .
    pub fn symbol(self) -> &'static str {
        match self {
            Mark::Pass => "✓",
            Mark::Fail => "✗",
            Mark::Skipped => "–",
        }
    }
}

/// One check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub topic: Topic,
    /// The agent's name for [`Topic::Agent`] lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub mark: Mark,
    /// What was found.
    pub detail: String,
    /// What to do about it (failing lines; some skipped lines say how to set the thing up).
    pub fix: Option<String>,
}

impl Line {
    pub fn pass(topic: Topic, detail: impl Into<String>) -> Line {
        Line {
            topic,
            subject: None,
            mark: Mark::Pass,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn fail(topic: Topic, detail: impl Into<String>, fix: impl Into<String>) -> Line {
        Line {
            topic,
            subject: None,
            mark: Mark::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    pub fn skipped(topic: Topic, detail: impl Into<String>, how: impl Into<String>) -> Line {
        Line {
            topic,
            subject: None,
            mark: Mark::Skipped,
            detail: detail.into(),
            fix: Some(how.into()),
        }
    }

    fn about(mut self, subject: &str) -> Line {
        self.subject = Some(subject.to_string());
        self
    }
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Doctor {
    /// Whether the key was checked against OpenRouter (`--live`).
    pub live: bool,
    pub lines: Vec<Line>,
    /// How many lines failed.
    pub failed: usize,
}

impl Doctor {
    fn new(live: bool, lines: Vec<Line>) -> Doctor {
        let failed = lines.iter().filter(|l| l.mark == Mark::Fail).count();
        Doctor {
            live,
            lines,
            failed,
        }
    }

    /// True when no check failed.
    pub fn healthy(&self) -> bool {
        self.failed == 0
    }
}

/// What to check and how long outside systems may take.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Ask OpenRouter whether the key is valid and what tier it is on.
    pub live: bool,
    /// For each outside system (Hermes, Ollama, Paperclip, OpenRouter).
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            live: false,
            timeout: Duration::from_secs(5),
        }
    }
}

/// Runs every check. Writes nothing.
pub async fn run(env: &Env, opts: Options) -> Doctor {
    let mut lines = vec![
        system::hermes_line(env, opts.timeout.max(Duration::from_secs(10))).await,
        system::home_line(Topic::HermesHome, "HERMES_HOME", &env.hermes_home),
        system::home_line(Topic::NxrHome, "NXR_HOME", &env.nxr_home),
    ];
    lines.extend(state::lines(env, opts).await);
    lines.push(system::disk_line(env));
    Doctor::new(opts.live, lines)
}
