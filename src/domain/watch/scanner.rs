//! The scanner: fetch the OpenRouter catalog (never a chat request), store it, rescore every role at
//! the scan time, then tell the user what the new catalog means for each agent — a better free model
//! for its role, its model gone from the catalog, a capability its role needs lost, an expiration
//! date within a week — once per fact (notifications carry a dedupe key). With
//! `auto_upgrade_free_models` on, agents whose model nxr chose and that run a free model are moved to
//! the better model through the agents' atomic switch, and the notification says so; a model the user
//! chose is never switched.
//!
//! Each scan is recorded in `scans`; `nxr scan` runs one, `nxr serve` one per `scan_interval_hours`.

use crate::domain::agents::{self, Agent, AgentError};
use crate::domain::base::clock::{self, Clock};
use crate::domain::base::env::Env;
use crate::domain::catalog::openrouter::OpenRouterClient;
use crate::domain::catalog::{self, CatalogSource, Model, RefreshError};
use crate::domain::notifications::NewNotification;
use crate::domain::scoring::rescore::{self, RoleBest, ScoringError};
use crate::domain::store::{Store, StoreError};
use crate::domain::upgrade::recommend::Recommendation;
use chrono::{DateTime, Duration, Utc};
use libsql::params;
use serde::Serialize;

/// Setting: "true" lets a scan switch auto-assigned agents on free models to a better free model.
pub const SETTING_AUTO_UPGRADE: &str = "auto_upgrade_free_models";
/// Setting: hours between the scans of `nxr serve` (default [`DEFAULT_SCAN_INTERVAL_HOURS`]).
pub const SETTING_SCAN_INTERVAL_HOURS: &str = "scan_interval_hours";
pub const DEFAULT_SCAN_INTERVAL_HOURS: f64 = 6.0;
pub use crate::domain::watch::scan_notices::{EXPIRY_NOTICE_DAYS, Notice};
use crate::domain::watch::scan_notices::{
    agent_notices, auto_upgraded_notice, is_ranked_upgrade, recommendations,
};
/// The largest `scan-interval-hours`: a year.
pub const MAX_SCAN_INTERVAL_HOURS: f64 = 24.0 * 365.0;

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Refresh(#[from] RefreshError),
    #[error(transparent)]
    Scoring(#[from] ScoringError),
    #[error(transparent)]
    Agents(#[from] AgentError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("setting {key} = {value:?} is not valid; {fix}")]
    BadSetting {
        key: &'static str,
        value: String,
        fix: &'static str,
    },
}

impl From<libsql::Error> for ScanError {
    fn from(e: libsql::Error) -> Self {
        ScanError::Store(e.into())
    }
}

/// Where a scan is; the CLI shows it as progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    FetchingCatalog,
    Rescoring,
    Notifying,
    IngestingUsage,
}

impl Step {
    pub fn label(self) -> &'static str {
        match self {
            Step::FetchingCatalog => "fetching the model catalog",
            Step::Rescoring => "rescoring every role",
            Step::Notifying => "checking the agents' models",
            Step::IngestingUsage => "reading the agents' usage",
        }
    }
}

/// An agent that a scan moved to another model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Switch {
    pub agent: String,
    pub from_model: String,
    pub to_model: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    pub scanned_at: String,
    pub catalog: CatalogSource,
    pub models: usize,
    pub free_models: usize,
    pub skipped: usize,
    pub rows_scored: usize,
    pub best: Vec<RoleBest>,
    /// Notifications this scan recorded (facts already told before are not repeated).
    pub notifications: Vec<Notice>,
    pub switched: Vec<Switch>,
    pub usage: Option<crate::domain::budget::usage::IngestReport>,
    /// Budget thresholds this scan crossed (70 / 90 / 100 %, once a day).
    pub alerts: Vec<crate::domain::budget::guard::Alert>,
    /// Problems that did not stop the scan (e.g. a profile's state.db that cannot be read).
    pub warnings: Vec<String>,
    /// Agents whose fallback chain this scan rewrote.
    pub chains_rewritten: Vec<String>,
}

/// Reads `auto_upgrade_free_models` (default false).
pub async fn auto_upgrade_enabled(store: &Store) -> Result<bool, ScanError> {
    match store.setting(SETTING_AUTO_UPGRADE).await? {
        None => Ok(false),
        Some(v) => parse_bool(&v).ok_or(ScanError::BadSetting {
            key: SETTING_AUTO_UPGRADE,
            value: v.chars().take(40).collect(),
            fix: "set it with `nxr config set auto-upgrade-free-models true` (or false)",
        }),
    }
}

pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Reads `scan_interval_hours` (default 6).
pub async fn scan_interval(store: &Store) -> Result<Duration, ScanError> {
    let hours = match store.setting(SETTING_SCAN_INTERVAL_HOURS).await? {
        None => DEFAULT_SCAN_INTERVAL_HOURS,
        Some(v) => parse_hours(&v).ok_or(ScanError::BadSetting {
            key: SETTING_SCAN_INTERVAL_HOURS,
            value: v.chars().take(40).collect(),
            fix: "set it with `nxr config set scan-interval-hours 6` (a number of hours above 0 and at most 8760), or go back to the default with `nxr config unset scan-interval-hours`",
        })?,
    };
    Ok(Duration::milliseconds((hours * 3_600_000.0) as i64))
}

pub fn parse_hours(v: &str) -> Option<f64> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|h| h.is_finite() && *h > 0.0 && *h <= MAX_SCAN_INTERVAL_HOURS)
}

/// How long past its interval a scan may be late before it counts as overdue (`nxr serve` ticks
/// each minute; a scan takes a while).
pub const SCAN_GRACE_MINUTES: i64 = 10;

/// True when no scan ran yet, or the last one is older than the interval and the grace.
pub fn scan_overdue(last: Option<DateTime<Utc>>, interval: Duration, now: DateTime<Utc>) -> bool {
    last.is_none_or(|at| now - at > interval + Duration::minutes(SCAN_GRACE_MINUTES))
}

pub use crate::domain::store::heartbeat::last_scan_at;

/// One scan at `clock.now()`: refresh, rescore, notices, auto-upgrades, usage ingest.
pub async fn scan(
    store: &Store,
    env: &Env,
    client: &OpenRouterClient,
    clock: &dyn Clock,
    holder: &str,
    progress: &(dyn Fn(Step) + Sync),
) -> Result<ScanReport, ScanError> {
    let now = clock.now();
    let started = clock::to_db(now);
    store
        .conn()
        .execute(
            "INSERT INTO scans (started_at, holder) VALUES (?1, ?2)",
            params![started.clone(), holder],
        )
        .await?;
    let scan_id = store.conn().last_insert_rowid();
    let outcome = scan_inner(store, env, client, clock, progress).await;
    let (status, models, notes, error) = match &outcome {
        Ok(r) => ("ok", r.models as i64, r.notifications.len() as i64, None),
        Err(e) => ("failed", 0, 0, Some(e.to_string())),
    };
    store
        .conn()
        .execute(
            "UPDATE scans SET finished_at = ?1, status = ?2, models = ?3, notifications = ?4, error = ?5 WHERE id = ?6",
            params![clock::to_db(clock.now()), status, models, notes, error, scan_id],
        )
        .await?;
    outcome
}

/// The scan's work between its `scans` row being opened and closed: refresh, rescore, notices and
/// auto-upgrades, fallback chains, usage ingest and budget alerts.
async fn scan_inner(
    store: &Store,
    env: &Env,
    client: &OpenRouterClient,
    clock: &dyn Clock,
    progress: &(dyn Fn(Step) + Sync),
) -> Result<ScanReport, ScanError> {
    let mut warnings = Vec::new();
    let start = scan_start(store, clock, &mut warnings).await?;
    let now = start.now;

    progress(Step::FetchingCatalog);
    let refreshed = fetch_catalog(store, client, clock).await?;

    progress(Step::Rescoring);
    let report = rescore::rescore(store, env, now).await?;

    progress(Step::Notifying);
    let inputs = rescore::inputs(store, now).await?;
    let agent_list = agents::list(store, env).await?;
    let (switched, mut recorded) = notify_agents(
        store,
        env,
        clock,
        &start,
        &inputs,
        &agent_list,
        &mut warnings,
    )
    .await?;

    // Chains follow the ranking: a member gone, paid now or expiring is replaced (hand-edited kept).
    let (chains_rewritten, chain_problems) =
        crate::domain::agents::fallbacks::refresh_all(store, env).await;
    warnings.extend(chain_problems);

    progress(Step::IngestingUsage);
    let usage = ingest_usage(store, env, &inputs.models, clock, &mut warnings).await;
    // The usage just read may cross a budget threshold.
    let alerts = budget_alerts(
        store,
        env,
        clock,
        now,
        &agent_list,
        &mut recorded,
        &mut warnings,
    )
    .await?;
    tracing::info!(
        models = refreshed.catalog.models.len(),
        notifications = recorded.len(),
        switched = switched.len(),
        "scan done"
    );
    Ok(ScanReport {
        scanned_at: report.scored_at,
        catalog: refreshed.catalog.source.clone(),
        models: refreshed.catalog.models.len(),
        free_models: refreshed
            .catalog
            .models
            .iter()
            .filter(|m| m.is_free())
            .count(),
        skipped: refreshed.skipped,
        rows_scored: report.rows_written,
        best: report.best,
        notifications: recorded,
        chains_rewritten,
        switched,
        usage,
        alerts,
        warnings,
    })
}

/// What a scan reads before it fetches the catalog.
struct ScanStart {
    /// The scan's time.
    now: DateTime<Utc>,
    /// `auto_upgrade_free_models`.
    auto_upgrade: bool,
    /// The stored catalog as it was before the refresh (`None` when only the embedded one was there).
    before_models: Option<Vec<Model>>,
}

/// Reads the scan's time, the auto-upgrade setting (a bad value counts as off, and a warning says
/// so: it must not stop the scan) and the catalog before the refresh.
async fn scan_start(
    store: &Store,
    clock: &dyn Clock,
    warnings: &mut Vec<String>,
) -> Result<ScanStart, ScanError> {
    let now = clock.now();
    let auto_upgrade = auto_upgrade_enabled(store).await.unwrap_or_else(|e| {
        warnings.push(e.to_string());
        false
    });
    let before = catalog::load(store).await?;
    let before_models =
        matches!(before.source, CatalogSource::Stored { .. }).then_some(before.models);
    Ok(ScanStart {
        now,
        auto_upgrade,
        before_models,
    })
}

/// Checks each agent against the new catalog: moves it to a better free model when auto-upgrade
/// allows, else gathers the facts about its model; records the notices once each. Returns the
/// switches and the notices recorded now.
async fn notify_agents(
    store: &Store,
    env: &Env,
    clock: &dyn Clock,
    start: &ScanStart,
    inputs: &rescore::Inputs,
    agent_list: &[Agent],
    warnings: &mut Vec<String>,
) -> Result<(Vec<Switch>, Vec<Notice>), ScanError> {
    let before_models = start.before_models.as_deref();
    let recs = recommendations(agent_list, inputs, start.now);
    let mut switched = Vec::new();
    let mut notices = Vec::new();
    for agent in agent_list {
        let rec = recs.iter().find(|r| r.agent == agent.name);
        if start.auto_upgrade
            && let Some((s, n)) = try_auto_upgrade(
                store,
                env,
                before_models,
                &inputs.models,
                agent,
                rec,
                warnings,
            )
            .await?
        {
            notices.push(n);
            switched.push(s);
            continue;
        }
        notices.extend(agent_notices(
            agent,
            before_models,
            &inputs.models,
            rec,
            &inputs.cfg,
            start.now,
        ));
    }
    let recorded = record_notices(store, env, clock, notices, warnings).await?;
    Ok((switched, recorded))
}

/// Fetches and stores the OpenRouter catalog; a failed fetch is also recorded as a rate-limit
/// event when it was one.
async fn fetch_catalog(
    store: &Store,
    client: &OpenRouterClient,
    clock: &dyn Clock,
) -> Result<catalog::RefreshReport, ScanError> {
    match catalog::refresh_with_report(store, client, clock).await {
        Ok(r) => Ok(r),
        Err(e) => {
            if let RefreshError::Fetch(fetch) = &e {
                crate::domain::catalog::ratelimit::record_error(
                    store,
                    "(GET /models)",
                    fetch,
                    clock,
                )
                .await?;
            }
            Err(e.into())
        }
    }
}

/// Moves the agent to its recommended model when that is a ranked upgrade, nxr chose its current
/// model and that model is free; returns the switch and the notice telling it. `None` when the agent
/// does not qualify, or when the switch failed (then a warning says so).
async fn try_auto_upgrade(
    store: &Store,
    env: &Env,
    before: Option<&[Model]>,
    models: &[Model],
    agent: &Agent,
    rec: Option<&Recommendation>,
    warnings: &mut Vec<String>,
) -> Result<Option<(Switch, Notice)>, ScanError> {
    let Some(rec) = rec.filter(|r| is_ranked_upgrade(r)) else {
        return Ok(None);
    };
    if !agent.model_auto_assigned || !runs_free_model(store, before, models, agent).await? {
        return Ok(None);
    }
    match switch(store, env, models, agent, rec).await {
        Ok(s) => Ok(Some((s, auto_upgraded_notice(agent, rec, models)))),
        Err(e) => {
            warnings.push(format!(
                "could not move {} to {}: {e}",
                agent.name, rec.recommended_model
            ));
            Ok(None)
        }
    }
}

/// Reads the agents' usage from their profiles; its problems, or the failure to read it, are
/// warnings.
async fn ingest_usage(
    store: &Store,
    env: &Env,
    models: &[Model],
    clock: &dyn Clock,
    warnings: &mut Vec<String>,
) -> Option<crate::domain::budget::usage::IngestReport> {
    match crate::domain::budget::usage::ingest_with(store, env, Some(models), clock).await {
        Ok(u) => {
            warnings.extend(u.warnings.iter().cloned());
            Some(u)
        }
        Err(e) => {
            warnings.push(format!("usage was not read: {e}"));
            None
        }
    }
}

/// Reads today's budget, records the on-the-fallback-chain notices for the day of `now` (added to
/// `recorded`) and returns the budget thresholds crossed; a budget that cannot be read is a warning.
async fn budget_alerts(
    store: &Store,
    env: &Env,
    clock: &dyn Clock,
    now: DateTime<Utc>,
    agent_list: &[Agent],
    recorded: &mut Vec<Notice>,
    warnings: &mut Vec<String>,
) -> Result<Vec<crate::domain::budget::guard::Alert>, ScanError> {
    match crate::domain::budget::load(store, clock).await {
        Ok(b) => {
            let day = now.format("%Y-%m-%d").to_string();
            let told =
                crate::domain::watch::scan_notices::on_fallback_notices(&b, agent_list, &day);
            recorded.extend(record_notices(store, env, clock, told, warnings).await?);
            Ok(crate::domain::budget::guard::check(store, env, &b, clock).await?)
        }
        Err(e) => {
            warnings.push(format!("the budget was not read: {e}"));
            Ok(Vec::new())
        }
    }
}

/// True when the agent runs a free model: free in the new or the previous catalog (a free model that
/// turned paid was still chosen as a free one), or — for a model that left both — per its last stored
/// score.
async fn runs_free_model(
    store: &Store,
    before: Option<&[Model]>,
    models: &[Model],
    agent: &Agent,
) -> Result<bool, ScanError> {
    if agent.provider == "ollama" {
        return Ok(false);
    }
    let now = models.iter().find(|m| m.id == agent.model);
    let then = before.and_then(|b| b.iter().find(|m| m.id == agent.model));
    if now.is_some() || then.is_some() {
        return Ok(now.is_some_and(|m| m.is_free()) || then.is_some_and(|m| m.is_free()));
    }
    let mut rows = store
        .conn()
        .query(
            "SELECT is_free FROM model_scores WHERE model_id = ?1 ORDER BY scored_at DESC LIMIT 1",
            params![agent.model.as_str()],
        )
        .await?;
    Ok(match rows.next().await? {
        Some(r) => r.get::<i64>(0)? != 0,
        None => agent.model.ends_with(":free"),
    })
}

async fn switch(
    store: &Store,
    env: &Env,
    models: &[Model],
    agent: &Agent,
    rec: &Recommendation,
) -> Result<Switch, AgentError> {
    let cat = catalog::Catalog {
        models: models.to_vec(),
        source: CatalogSource::Embedded { date: "" },
    };
    let mut choice = agents::choose_model(&cat, &rec.recommended_model)?;
    choice.score = rec.recommended_score.map(i64::from);
    agents::set_model_choice(
        store,
        env,
        &agent.name,
        &choice,
        "auto-upgrade (scan)",
        true,
    )
    .await?;
    Ok(Switch {
        agent: agent.name.clone(),
        from_model: agent.model.clone(),
        to_model: rec.recommended_model.clone(),
    })
}

/// This process's name in `scans.holder` and in leases: the host and pid plus a random tag (pids
/// repeat across machines sharing one database).
pub fn holder_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let mut tag = [0u8; 4];
    let _ = getrandom::fill(&mut tag);
    format!(
        "{host}:{}:{:02x}{:02x}{:02x}{:02x}",
        std::process::id(),
        tag[0],
        tag[1],
        tag[2],
        tag[3]
    )
}

/// Records each notice once (by its dedupe key) and forwards it to Telegram; returns the ones
/// recorded now. A Telegram copy that failed is a warning.
async fn record_notices(
    store: &Store,
    env: &Env,
    clock: &dyn Clock,
    notices: Vec<Notice>,
    warnings: &mut Vec<String>,
) -> Result<Vec<Notice>, ScanError> {
    let mut recorded = Vec::new();
    for n in notices {
        let new = NewNotification {
            kind: n.kind.to_string(),
            title: n.title.clone(),
            body: n.body.clone(),
            agent_id: Some(n.agent_id),
            payload: n.payload.clone(),
        };
        if let Some((_, sent)) = crate::domain::notifications::telegram_forward::record_once(
            store,
            env,
            new,
            &n.dedupe_key,
            clock,
        )
        .await?
        {
            if let crate::domain::notifications::telegram_forward::Forwarded::Failed(why) = sent {
                warnings.push(format!(
                    "the Telegram copy of “{}” was not sent: {why}",
                    n.title
                ));
            }
            recorded.push(n);
        }
    }
    Ok(recorded)
}
