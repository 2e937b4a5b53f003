//! The checks of nxr's own state and of the systems it talks to: the database (opened read-only),
//! the key, each agent (through `agent_check`), the gateway, `nxr serve` and the last scan, the
//! catalog's age, Ollama and Paperclip.

use super::{Line, Options, Topic};
use crate::domain::agents::gateway::{self, GatewayState};
use crate::domain::agents::{self, Agent};
use crate::domain::base::clock;
use crate::domain::base::env::Env;
use crate::domain::catalog::CatalogSource;
use crate::domain::catalog::ollama;
use crate::domain::catalog::openrouter::{OpenRouterError, Timeouts};
use crate::domain::onboarding::{self, OnboardingError};
use crate::domain::paperclip;
use crate::domain::paperclip::client::PaperclipClient;
use crate::domain::store::heartbeat;
use crate::domain::store::secrets;
use crate::domain::store::{Store, StoreError};
use crate::domain::view;
use crate::domain::watch::agent_check::{self, AgentCheck, CheckState};
use crate::domain::watch::scanner;
use chrono::Duration;

/// A stored catalog older than this (or than two scan intervals, whichever is longer) is stale.
const CATALOG_STALE_HOURS: i64 = 24;

const NEEDS_DB: &str = "not checked: the database cannot be read (see the database line)";

/// Every line after the homes and before the disk.
pub async fn lines(env: &Env, opts: Options) -> Vec<Line> {
    let mut out = Vec::new();
    let store = match open(env).await {
        Ok(store) => {
            out.push(database_line(&store).await);
            Some(store)
        }
        Err(line) => {
            out.push(line);
            None
        }
    };
    let agents = match &store {
        Some(s) => match agents::list(s, env).await {
            Ok(list) => Some(list),
            Err(e) => {
                out.push(Line::fail(
                    Topic::Agent,
                    format!("cannot read the agents: {e}"),
                    "`nxr agents list` shows the same error; `nxr db status` the database",
                ));
                None
            }
        },
        None => None,
    };
    out.push(key_line(env, agents.as_deref(), opts).await);
    match (&store, &agents) {
        (Some(s), Some(list)) => {
            let checks = agent_check::check_agents(env, s, list, agent_check::PROBE_TIMEOUT).await;
            out.extend(agent_lines(&checks));
        }
        (None, _) => out.push(Line::skipped(
            Topic::Agent,
            NEEDS_DB,
            "fix the database first",
        )),
        _ => {}
    }
    out.push(gateway_line(env));
    match &store {
        Some(s) => {
            out.push(serve_line(env, s).await);
            out.push(last_scan_line(s).await);
            out.push(catalog_line(s).await);
        }
        None => {
            for topic in [Topic::Serve, Topic::LastScan, Topic::Catalog] {
                out.push(Line::skipped(topic, NEEDS_DB, "fix the database first"));
            }
        }
    }
    out.push(ollama_line(env, agents.as_deref(), opts).await);
    out.push(match &store {
        Some(s) => paperclip_line(s, opts).await,
        None => Line::skipped(Topic::Paperclip, NEEDS_DB, "fix the database first"),
    });
    out
}

/// Opens the database without writing to it: a server as it is, a local file read-only and without
/// leaving `-wal`/`-shm` files behind.
async fn open(env: &Env) -> Result<Store, Line> {
    let opened = match &env.db_url {
        Some(url) => Store::open_remote(url, env.db_token.as_deref().unwrap_or("")).await,
        None => {
            let path = env.db_path();
            if !path.is_file() {
                return Err(Line::fail(
                    Topic::Database,
                    format!("no database at {}", path.display()),
                    "`nxr init` sets nxr up (or set NXR_HOME / NXR_DB_URL to where your database is)",
                ));
            }
            Store::open_local_untouched(&path).await
        }
    };
    opened.map_err(|e| {
        let fix = match &e {
            StoreError::NotADatabase { path, .. } => format!(
                "move {path} aside (nxr then makes a new one; `nxr init` sets it up again) or restore a backup"
            ),
            _ if env.db_url.is_some() => {
                "check NXR_DB_URL and NXR_DB_TOKEN, and that the libSQL server runs".into()
            }
            _ => "check NXR_HOME and the database file's permissions".into(),
        };
        Line::fail(Topic::Database, format!("cannot open the database: {e}"), fix)
    })
}

async fn database_line(store: &Store) -> Line {
    let location = store.location().to_string();
    let damaged = "restore a backup, or move the file aside and run `nxr init` again";
    // The file's integrity first: a damaged file can look like anything to the later reads.
    match integrity(store).await {
        Ok(problems) if problems.is_empty() => {}
        Ok(problems) => {
            return Line::fail(
                Topic::Database,
                format!(
                    "{location} is damaged: integrity_check says {}",
                    problems.join("; ")
                ),
                damaged,
            );
        }
        Err(e) => {
            return Line::fail(
                Topic::Database,
                format!("{location}: integrity_check cannot run: {e}"),
                damaged,
            );
        }
    }
    let status = match store.status().await {
        Ok(s) => s,
        Err(e) => {
            return Line::fail(
                Topic::Database,
                e.to_string(),
                "point NXR_HOME / NXR_DB_URL at an nxr database",
            );
        }
    };
    if status.newer_than_known {
        return Line::fail(
            Topic::Database,
            format!("{location} was written by a newer nxr"),
            "upgrade nxr (`cargo install --locked nxr`, or build the newer version)",
        );
    }
    if !status.pending.is_empty() {
        return Line::fail(
            Topic::Database,
            format!(
                "{location} misses {} migration(s): {}",
                status.pending.len(),
                status.pending.join(", ")
            ),
            "`nxr db migrate` applies them",
        );
    }
    Line::pass(
        Topic::Database,
        format!(
            "{location}: migrated ({} migrations), integrity_check ok",
            status.applied.len()
        ),
    )
}

/// `PRAGMA integrity_check`'s complaints (empty when it says "ok"), at most five.
async fn integrity(store: &Store) -> Result<Vec<String>, libsql::Error> {
    let mut rows = store.conn().query("PRAGMA integrity_check", ()).await?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        let text: String = row.get(0)?;
        if text != "ok" && out.len() < 5 {
            out.push(crate::domain::base::text::escape_invisible(&text));
        }
    }
    Ok(out)
}

const NEW_KEY: &str = "`nxr config set openrouter-key <key>` stores one (a free account key from https://openrouter.ai/keys is enough for the free models)";

async fn key_line(env: &Env, agents: Option<&[Agent]>, opts: Options) -> Line {
    let file = secrets::env_file(env);
    let key = match secrets::openrouter_key(env) {
        Ok(k) => k,
        Err(e) => {
            return Line::fail(
                Topic::Key,
                format!("cannot read {}: {e}", file.display()),
                format!("make {} readable (mode 0600, yours)", file.display()),
            );
        }
    };
    let Some(key) = key else {
        let needed = agents.is_none_or(|list| list.iter().any(|a| a.provider == "openrouter"));
        if needed {
            return Line::fail(
                Topic::Key,
                format!("no OpenRouter key in {}", file.display()),
                NEW_KEY,
            );
        }
        return Line::skipped(
            Topic::Key,
            "no OpenRouter key, and no agent uses OpenRouter",
            NEW_KEY,
        );
    };
    if !opts.live {
        return Line::pass(
            Topic::Key,
            format!(
                "an OpenRouter key is stored in {} (`nxr doctor --live` asks OpenRouter whether it is valid)",
                file.display()
            ),
        );
    }
    let timeouts = Timeouts {
        connect: opts.timeout,
        request: opts.timeout,
    };
    match onboarding::validate_key(env, &key, timeouts).await {
        Ok(info) => {
            let tier = if info.is_free_tier {
                "free tier (no credits purchased)"
            } else {
                "paid tier (credits purchased)"
            };
            let daily = info
                .free_model_daily_requests
                .map(|d| format!(", {} of {} free requests used today", d.used, d.limit))
                .unwrap_or_default();
            Line::pass(
                Topic::Key,
                format!("OpenRouter accepts the key: {tier}{daily}"),
            )
        }
        Err(OnboardingError::InvalidKey(OpenRouterError::Unauthorized { status, message })) => {
            Line::fail(
                Topic::Key,
                format!(
                    "OpenRouter refuses the stored key (HTTP {status}: {})",
                    crate::domain::base::text::escape_invisible(
                        &message.chars().take(200).collect::<String>()
                    )
                ),
                "create a new key at https://openrouter.ai/keys and store it with `nxr config set openrouter-key <key>`",
            )
        }
        Err(e) => Line::fail(
            Topic::Key,
            format!("could not ask OpenRouter about the key: {e}"),
            "check the network or NXR_OPENROUTER_URL, then run `nxr doctor --live` again",
        ),
    }
}

fn agent_lines(checks: &[AgentCheck]) -> Vec<Line> {
    if checks.is_empty() {
        return vec![Line::fail(
            Topic::Agent,
            "no agents yet",
            "`nxr init` sets up the PM, Engineer and Hermes agents",
        )];
    }
    checks
        .iter()
        .map(|c| {
            let head = format!("{} on {}: {}", c.role, c.model, c.state.label());
            let line = match c.state {
                CheckState::Ready if c.reasons.is_empty() => Line::pass(Topic::Agent, head),
                CheckState::Ready => Line::pass(
                    Topic::Agent,
                    format!("{head} (note: {})", c.reasons.join("; ")),
                ),
                _ => Line::fail(
                    Topic::Agent,
                    format!("{head}: {}", c.reasons.join("; ")),
                    c.first_fix()
                        .unwrap_or("`nxr agents check` shows the details")
                        .to_string(),
                ),
            };
            line.about(&c.agent)
        })
        .collect()
}

fn gateway_line(env: &Env) -> Line {
    let g = gateway::status(&env.hermes_home, None);
    let note = g
        .note
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    match g.state {
        GatewayState::Running => Line::pass(
            Topic::Gateway,
            format!(
                "running{}",
                g.pid.map(|p| format!(", pid {p}")).unwrap_or_default()
            ),
        ),
        GatewayState::Stopped => Line::fail(
            Topic::Gateway,
            format!("stopped{note}: messaging platforms get no answers"),
            "`nxr gateway start` starts it again (`nxr gateway status` shows its state)",
        ),
        GatewayState::NeverStarted => Line::skipped(
            Topic::Gateway,
            "never started from this HERMES_HOME (only needed for messaging platforms)",
            "`nxr gateway start` runs it in a tmux session",
        ),
    }
}

/// Whether an `nxr serve` beats (`heartbeat`); when none does, the fix names the installed service
/// (and its log) if there is one.
pub async fn serve_line(env: &Env, store: &Store) -> Line {
    match heartbeat::running(store, store.now()).await {
        Ok(list) if !list.is_empty() => Line::pass(
            Topic::Serve,
            format!(
                "running ({})",
                list.iter()
                    .map(|r| r.holder.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Ok(_) => {
            let installed = matches!(crate::domain::setup::service::read_record(env), Ok(Some(_)));
            let fix = if installed {
                format!(
                    "the service is installed but its `nxr serve` does not run: `nxr service status` says why, its output is in {}; `nxr service install` starts it again",
                    env.logs_dir().join("serve.log").display()
                )
            } else {
                "`nxr service install` keeps it running as a user service (or run `nxr serve` in a terminal and keep it open)".to_string()
            };
            Line::fail(
                Topic::Serve,
                "no `nxr serve` is running: nothing scans, watches the free budget or runs queued tasks",
                fix,
            )
        }
        Err(e) => Line::fail(
            Topic::Serve,
            format!("cannot tell: {e}"),
            "`nxr db status` shows the database",
        ),
    }
}

/// "7 h ago", from a duration.
fn ago(age: Duration) -> String {
    format!("{} ago", view::duration_text(age.num_seconds().max(0)))
}

pub async fn last_scan_line(store: &Store) -> Line {
    let now = store.now();
    let interval = match scanner::scan_interval(store).await {
        Ok(i) => i,
        Err(e) => {
            return Line::fail(Topic::LastScan, e.to_string(), "set the interval again");
        }
    };
    let every = view::duration_text(interval.num_seconds());
    let fix = format!("`nxr scan` scans now; a running `nxr serve` scans every {every}");
    match scanner::last_scan_at(store).await {
        Ok(Some(at)) if !scanner::scan_overdue(Some(at), interval, now) => Line::pass(
            Topic::LastScan,
            format!("{} (every {every})", ago(now - at)),
        ),
        Ok(Some(at)) => Line::fail(
            Topic::LastScan,
            format!(
                "last scan {}: is `nxr serve` running? (it scans every {every})",
                ago(now - at)
            ),
            fix,
        ),
        Ok(None) => Line::fail(
            Topic::LastScan,
            "no scan has run yet: is `nxr serve` running?",
            fix,
        ),
        Err(e) => Line::fail(
            Topic::LastScan,
            format!("cannot read the scans: {e}"),
            "`nxr db status` shows the database",
        ),
    }
}

async fn catalog_line(store: &Store) -> Line {
    let now = store.now();
    let stale_after = scanner::scan_interval(store)
        .await
        .map(|i| i * 2)
        .unwrap_or_default()
        .max(Duration::hours(CATALOG_STALE_HOURS));
    let refresh =
        "`nxr catalog refresh` fetches the current catalog (a running `nxr serve` keeps it fresh)";
    match view::catalog_summary(store).await {
        Ok((CatalogSource::Embedded { date }, n)) => Line::fail(
            Topic::Catalog,
            format!(
                "only the embedded snapshot of {date} ({n} models): no catalog was fetched yet"
            ),
            refresh,
        ),
        Ok((CatalogSource::Stored { fetched_at, .. }, n)) => match clock::from_db(&fetched_at) {
            Some(at) if now - at <= stale_after => Line::pass(
                Topic::Catalog,
                format!("{n} models, fetched {}", ago(now - at)),
            ),
            Some(at) => Line::fail(
                Topic::Catalog,
                format!(
                    "{n} models, fetched {}: older than {}",
                    ago(now - at),
                    view::duration_text(stale_after.num_seconds())
                ),
                refresh,
            ),
            None => Line::fail(
                Topic::Catalog,
                format!("{n} models, fetched at an unreadable time {fetched_at:?}"),
                refresh,
            ),
        },
        Err(e) => Line::fail(
            Topic::Catalog,
            format!("cannot read the stored catalog: {e}"),
            refresh,
        ),
    }
}

async fn ollama_line(env: &Env, agents: Option<&[Agent]>, opts: Options) -> Line {
    let users: Vec<&str> = agents
        .unwrap_or_default()
        .iter()
        .filter(|a| a.provider == "ollama")
        .map(|a| a.name.as_str())
        .collect();
    let timeout = opts.timeout.min(std::time::Duration::from_secs(3));
    match ollama::status(&env.ollama_url, timeout).await {
        Ok(s) => Line::pass(
            Topic::Ollama,
            format!(
                "{} at {}, {} model(s)",
                s.version
                    .map(|v| format!("Ollama {v}"))
                    .unwrap_or_else(|| "Ollama".into()),
                s.url,
                s.models.len()
            ),
        ),
        Err(e) if !users.is_empty() => Line::fail(
            Topic::Ollama,
            format!(
                "{} use(s) Ollama, which does not answer: {e}",
                users.join(", ")
            ),
            "start Ollama (`ollama serve`), or set NXR_OLLAMA_URL to where it listens",
        ),
        Err(_) => Line::skipped(
            Topic::Ollama,
            format!("not answering at {} (no agent uses it)", env.ollama_url),
            "optional: Ollama runs local models that need no key (https://ollama.com)",
        ),
    }
}

async fn paperclip_line(store: &Store, opts: Options) -> Line {
    let conn = match paperclip::sync::connection(store).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Line::skipped(
                Topic::Paperclip,
                "not connected",
                "optional: `nxr paperclip connect <url>` runs the agents in a Paperclip company",
            );
        }
        Err(e) => {
            return Line::fail(
                Topic::Paperclip,
                format!("cannot read the connection: {e}"),
                "`nxr paperclip status` shows the same error",
            );
        }
    };
    let fix = format!(
        "start Paperclip at {}, or connect to where it runs now with `nxr paperclip connect <url>`",
        conn.url
    );
    let answer = match PaperclipClient::new(&conn.url) {
        Ok(client) => match tokio::time::timeout(opts.timeout, client.health()).await {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(_) => Err(format!("no answer within {} s", opts.timeout.as_secs())),
        },
        Err(e) => Err(e.to_string()),
    };
    match answer {
        Ok(()) => Line::pass(
            Topic::Paperclip,
            format!("connected to {} (company {})", conn.url, conn.company_name),
        ),
        Err(e) => Line::fail(
            Topic::Paperclip,
            format!("Paperclip at {} does not answer: {e}", conn.url),
            fix,
        ),
    }
}
