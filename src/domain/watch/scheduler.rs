//! The periodic work of `nxr serve`, one [`tick`] a minute: ingest the agents' usage, refresh the
//! account's free count from `GET /key` (every few minutes, when a key is stored), fire the budget
//! thresholds (and Paperclip's pause/resume guard), drain the task queue, and scan when the last scan is older than `scan_interval_hours`.
//!
//! In team mode several nxr share one database; a lease row (`leases`, name `scan`) lets one instance
//! at a time decide and run the scan, and the others skip it, so one scan runs per interval between
//! them. The lease is taken by one conditional upsert, which is atomic on a libSQL server too.

use crate::domain::base::clock::{self, Clock};
use crate::domain::base::env::Env;
use crate::domain::budget;
use crate::domain::budget::guard::{self, Alert};
use crate::domain::budget::queue::{self, DrainReport, TaskRunner};
use crate::domain::catalog::openrouter::OpenRouterClient;
use crate::domain::store::{Store, StoreError};
use crate::domain::watch::scanner::{self, ScanReport};
use chrono::{DateTime, Duration, Utc};
use libsql::params;
use serde::Serialize;

pub const SCAN_LEASE: &str = "scan";
/// How long a lease holds when its holder dies mid-scan.
pub const LEASE_TTL_MINUTES: i64 = 10;
/// How often the account's count is asked for.
pub const ACCOUNT_REFRESH_MINUTES: i64 = 5;

/// Takes (or renews) the lease `name` for `holder` until `now + ttl`, when it is free, expired or
/// already this holder's. True when `holder` holds it now.
pub async fn try_lease(
    store: &Store,
    name: &str,
    holder: &str,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = store
        .conn()
        .execute(
            "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
             WHERE leases.expires_at <= ?4 OR leases.holder = excluded.holder",
            params![name, holder, clock::to_db(now + ttl), clock::to_db(now)],
        )
        .await?;
    Ok(n > 0)
}

/// Gives the lease up (only when `holder` has it).
pub async fn release_lease(
    store: &Store,
    name: &str,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    store
        .conn()
        .execute(
            "UPDATE leases SET expires_at = ?1 WHERE name = ?2 AND holder = ?3",
            params![clock::to_db(now), name, holder],
        )
        .await?;
    Ok(())
}

/// The scan part of a tick.
#[derive(Debug, Serialize)]
#[serde(tag = "scan", rename_all = "snake_case")]
pub enum ScanDecision {
    Ran {
        report: Box<ScanReport>,
    },
    Failed {
        error: String,
    },
    /// The last scan is recent enough.
    NotDue {
        last: String,
        next: String,
    },
    /// Another instance holds the scan lease.
    Skipped {
        holder: String,
    },
}

#[derive(Debug, Serialize)]
pub struct TickReport {
    pub scan: Option<ScanDecision>,
    pub usage_added: u64,
    pub alerts: Vec<Alert>,
    pub drained: DrainReport,
    pub warnings: Vec<String>,
}

/// What one instance remembers between ticks.
#[derive(Debug, Default)]
pub struct TickState {
    pub last_account_refresh: Option<DateTime<Utc>>,
}

/// Runs the scan if it is due and this instance gets the lease.
pub async fn scan_if_due(
    store: &Store,
    env: &Env,
    client: &OpenRouterClient,
    clock: &dyn Clock,
    holder: &str,
) -> Result<ScanDecision, StoreError> {
    let now = clock.now();
    let interval = match scanner::scan_interval(store).await {
        Ok(i) => i,
        Err(e) => {
            return Ok(ScanDecision::Failed {
                error: e.to_string(),
            });
        }
    };
    if !try_lease(
        store,
        SCAN_LEASE,
        holder,
        Duration::minutes(LEASE_TTL_MINUTES),
        now,
    )
    .await?
    {
        let mut rows = store
            .conn()
            .query(
                "SELECT holder FROM leases WHERE name = ?1",
                params![SCAN_LEASE],
            )
            .await?;
        let holder = match rows.next().await? {
            Some(r) => r.get::<String>(0)?,
            None => String::new(),
        };
        return Ok(ScanDecision::Skipped { holder });
    }
    let decision = match scanner::last_scan_at(store).await? {
        Some(last) if now - last < interval => ScanDecision::NotDue {
            last: clock::to_db(last),
            next: clock::to_db(last + interval),
        },
        _ => match scanner::scan(store, env, client, clock, holder, &|_| {}).await {
            Ok(r) => ScanDecision::Ran {
                report: Box::new(r),
            },
            Err(e) => ScanDecision::Failed {
                error: e.to_string(),
            },
        },
    };
    release_lease(store, SCAN_LEASE, holder, clock.now()).await?;
    Ok(decision)
}

/// One minute of `nxr serve`'s background work. `client` carries the stored key, if any.
pub async fn tick(
    store: &Store,
    env: &Env,
    client: &OpenRouterClient,
    runner: &dyn TaskRunner,
    clock: &dyn Clock,
    holder: &str,
    state: &mut TickState,
) -> Result<TickReport, StoreError> {
    let now = clock.now();
    let mut warnings = Vec::new();
    let scan = Some(scan_if_due(store, env, client, clock, holder).await?);
    let usage = crate::domain::budget::usage::ingest(store, env, clock).await?;
    warnings.extend(usage.warnings);
    let due = state
        .last_account_refresh
        .is_none_or(|t| now - t >= Duration::minutes(ACCOUNT_REFRESH_MINUTES));
    let mut unread = None;
    if client.has_key() && due {
        state.last_account_refresh = Some(now);
        if let Err(e) = budget::refresh_account(store, client, clock).await {
            unread = Some(e.to_string());
        }
    }
    let b = budget::load(store, clock).await?;
    if let Some(why) = unread {
        warnings.push(budget::unread_count_warning(&b, &why));
    }
    let alerts = guard::check(store, env, &b, clock).await?;
    // Paperclip's agents on free models pause at 100 % and resume after the reset (when connected).
    if let Err(e) =
        crate::domain::paperclip::guard::budget_guard(store, env, clock, (&b).into()).await
    {
        warnings.push(format!("the Paperclip budget guard did not run: {e}"));
    }
    let drained = match queue::drain(store, env, runner, clock).await {
        Ok(d) => d,
        Err(e) => {
            warnings.push(format!("the task queue was not drained: {e}"));
            DrainReport::default()
        }
    };
    Ok(TickReport {
        scan,
        usage_added: usage.requests_added,
        alerts,
        drained,
        warnings,
    })
}
