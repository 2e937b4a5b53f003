//! [`Dashboard`]: the one-screen summary — the Hermes gateway, the agents, today's free budget, the
//! newest notifications, where the catalog came from and whether `nxr serve` runs (the last scan's
//! age) — built once by [`dashboard`] (its agents from the agents view, [`Agents`]) and shown by
//! Tab 1, the web dashboard and `nxr status` (`--json`). A part that cannot be read carries its
//! error instead of failing the whole summary. It never renders anything.

use crate::domain::agents::gateway::{self, GatewayStatus};
use crate::domain::agents::hermes;
use crate::domain::base::clock::Clock;
use crate::domain::base::env::Env;
use crate::domain::budget::{self, Budget};
use crate::domain::catalog::{self, CatalogSource};
use crate::domain::notifications::{self, Notification};
use crate::domain::store::{Store, StoreError};
use crate::domain::view::agents::{self as agents_view, Agents, Checks};
use crate::domain::watch::scanner;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// How many notifications a dashboard shows.
pub const NEWEST_NOTIFICATIONS: u32 = 5;

#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    /// When it was read (the store's clock).
    pub now: DateTime<Utc>,
    pub gateway: GatewayStatus,
    /// The agents view (usage, fallback chain, Paperclip link per agent; checks when asked for).
    pub agents: Agents,
    pub agents_error: Option<String>,
    /// Where the catalog came from, e.g. "catalog: embedded snapshot of 2026-05-01".
    pub catalog: String,
    pub catalog_models: usize,
    pub budget: Option<Budget>,
    pub budget_error: Option<String>,
    /// Newest first, read or not.
    pub notifications: Vec<Notification>,
    pub unread_notifications: u64,
    pub notifications_error: Option<String>,
    /// Whether `nxr serve` runs and how old the last scan is.
    pub background: Background,
}

/// The background work: the running `nxr serve` instances and the last scan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Background {
    /// The `nxr serve` instances (`host:pid:tag`) whose heartbeat holds.
    pub serve: Vec<String>,
    pub last_scan: Option<DateTime<Utc>>,
    pub scan_interval_secs: i64,
    /// No scan yet, or the last one is older than the interval (and a grace).
    pub overdue: bool,
    pub error: Option<String>,
    /// Team mode: every host that shares the database, with its last heartbeat (empty with a
    /// database of this machine's own).
    pub hosts: Vec<crate::domain::store::hosts::Host>,
    /// Since when the libSQL server has not answered (what is shown was read before).
    pub database_down_since: Option<DateTime<Utc>>,
}

/// "database unreachable since 14:03 UTC: …", the words every surface shows while the libSQL
/// server does not answer.
pub fn database_down_line(since: DateTime<Utc>) -> String {
    format!(
        "database unreachable since {} UTC: showing what was last read; changes wait until it answers (the agents keep running on their files)",
        since.format("%H:%M")
    )
}

/// [`database_down_line`] over a page kept from `read_at`, before the server went away.
pub fn database_down_kept_line(since: DateTime<Utc>, read_at: DateTime<Utc>) -> String {
    format!(
        "{} (this page was read at {} UTC)",
        database_down_line(since),
        read_at.format("%H:%M:%S")
    )
}

impl Background {
    /// One line for every surface, e.g. "nxr serve running; last scan 2h 0m ago (every 6h 0m)" or
    /// "last scan 7h 0m ago: is `nxr serve` running?".
    pub fn line(&self, now: DateTime<Utc>) -> String {
        use crate::domain::view::duration_text;
        if let Some(since) = self.database_down_since {
            return database_down_line(since);
        }
        if let Some(e) = &self.error {
            return format!("background: cannot be read: {e}");
        }
        let every = duration_text(self.scan_interval_secs);
        let last = self
            .last_scan
            .map(|t| format!("last scan {} ago", duration_text((now - t).num_seconds())));
        match (self.serve.is_empty(), self.overdue, last) {
            (_, true, Some(last)) => {
                format!("{last}: is `nxr serve` running? (it scans every {every})")
            }
            (_, true, None) => "no scan yet: is `nxr serve` running?".to_string(),
            (false, false, Some(last)) => format!("nxr serve running; {last} (every {every})"),
            (true, false, Some(last)) => format!(
                "nxr serve not running; {last} (nothing scans or watches the budget until it runs: `nxr service install`)"
            ),
            (_, false, None) => "no scan yet".to_string(),
        }
    }
}

impl Background {
    /// One line per host of the team, e.g. "host build-box: up (nxr serve), last heartbeat
    /// 2026-12-06 10:00:03, profiles in step" — every surface shows these.
    pub fn host_lines(&self) -> Vec<String> {
        self.hosts
            .iter()
            .map(|h| {
                let state = match (h.up, h.serving) {
                    (true, true) => "up (nxr serve)",
                    (true, false) => "up (commands only, no nxr serve)",
                    (false, _) => "down",
                };
                let step = match (&h.reconciled_at, &h.last_error) {
                    (_, Some(e)) => format!("last reconcile failed: {e}"),
                    (Some(_), None) => "profiles in step".to_string(),
                    (None, None) => "no reconcile yet".to_string(),
                };
                format!(
                    "host {}: {state}, last heartbeat {}, {step}",
                    h.name,
                    h.last_seen.replace('T', " ").trim_end_matches('Z')
                )
            })
            .collect()
    }
}

/// Reads the background part alone (the TUI re-reads it after a scan or a budget change).
pub async fn background(store: &Store, now: DateTime<Utc>) -> Background {
    let read = async {
        let serve = crate::domain::store::heartbeat::running(store, now)
            .await?
            .into_iter()
            .map(|r| r.holder)
            .collect();
        let last_scan = scanner::last_scan_at(store).await?;
        let hosts = crate::domain::store::hosts::list(store, now).await?;
        Ok::<_, StoreError>((serve, last_scan, hosts))
    };
    let interval = scanner::scan_interval(store)
        .await
        .unwrap_or_else(|_| chrono::Duration::hours(scanner::DEFAULT_SCAN_INTERVAL_HOURS as i64));
    match read.await {
        Ok((serve, last_scan, hosts)) => Background {
            serve,
            hosts,
            database_down_since: store.unreachable_since(),
            last_scan,
            scan_interval_secs: interval.num_seconds(),
            overdue: scanner::scan_overdue(last_scan, interval, now),
            error: None,
        },
        Err(e) => Background {
            error: Some(e.to_string()),
            database_down_since: store.unreachable_since(),
            ..Background::default()
        },
    }
}

impl Dashboard {
    /// "… (N models)": the catalog line the surfaces print.
    pub fn catalog_line(&self) -> String {
        format!("{} ({} models)", self.catalog, self.catalog_models)
    }

    /// When the agent last made a request (its usage in the agents view).
    pub fn last_activity(&self, agent_id: i64) -> Option<&str> {
        self.agents.get(agent_id)?.usage.last_activity.as_deref()
    }

    /// The newest notifications, at most `n`.
    pub fn newest(&self, n: usize) -> &[Notification] {
        &self.notifications[..self.notifications.len().min(n)]
    }
}

/// Reads the dashboard: at most `notifications` newest notifications (Tab 6 shares the TUI's read,
/// so the TUI asks for more than the [`NEWEST_NOTIFICATIONS`] it shows on Tab 1).
pub async fn dashboard(
    store: &Store,
    env: &Env,
    clock: &dyn Clock,
    notifications: u32,
) -> Dashboard {
    dashboard_with(store, env, clock, notifications, Checks::Skip).await
}

/// [`dashboard`] with the agents' checks (Tab 1 shows whether each agent can run).
pub async fn dashboard_with(
    store: &Store,
    env: &Env,
    clock: &dyn Clock,
    notifications: u32,
    checks: Checks<'_>,
) -> Dashboard {
    let (agents, agents_error) = match agents_view::agents(store, env, clock, checks).await {
        Ok(a) => (a, None),
        Err(e) => (Agents::default(), Some(e.to_string())),
    };
    let (catalog, catalog_models) = match catalog_summary(store).await {
        Ok((source, n)) => (source.describe(), n),
        Err(e) => (format!("cannot read the stored catalog: {e}"), 0),
    };
    let (budget, budget_error) = match budget::load(store, clock).await {
        Ok(b) => (Some(b), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let (list, notifications_error) = match notifications::list(store, notifications).await {
        Ok(n) => (n, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let unread_notifications = match notifications::unread_count(store).await {
        Ok(n) => n,
        Err(_) => list.iter().filter(|n| n.is_unread()).count() as u64,
    };
    let main_model = hermes::routing_slots(&env.hermes_home.join("config.yaml"))
        .ok()
        .and_then(|slots| {
            slots
                .into_iter()
                .find(|s| s.name == hermes::MAIN_SLOT)
                .and_then(|s| s.model)
        });
    let background = background(store, clock.now()).await;
    Dashboard {
        now: clock.now(),
        background,
        gateway: gateway::status(&env.hermes_home, main_model),
        agents,
        agents_error,
        catalog,
        catalog_models,
        budget,
        budget_error,
        notifications: list,
        unread_notifications,
        notifications_error,
    }
}

/// Where the catalog in use came from and how many models it has, without reading the models (the
/// count of stored rows; the embedded snapshot's size when none is stored).
pub async fn catalog_summary(store: &Store) -> Result<(CatalogSource, usize), StoreError> {
    let conn = store.conn();
    let mut rows = conn
        .query(
            "SELECT m.source, m.fetched_at, (SELECT COUNT(*) FROM catalog_models) \
             FROM catalog_meta m WHERE m.id = 1",
            (),
        )
        .await?;
    if let Some(row) = rows.next().await? {
        let count: i64 = row.get(2)?;
        if count > 0 {
            return Ok((
                CatalogSource::Stored {
                    origin: row.get(0)?,
                    fetched_at: row.get(1)?,
                    unreadable: 0,
                },
                count as usize,
            ));
        }
    }
    static EMBEDDED_COUNT: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let n = *EMBEDDED_COUNT.get_or_init(|| catalog::embedded().models.len());
    Ok((
        CatalogSource::Embedded {
            date: catalog::EMBEDDED_CATALOG_DATE,
        },
        n,
    ))
}
