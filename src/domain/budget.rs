//! The free-tier budget (DESIGN.md §5): OpenRouter allows 50 free-model requests per UTC day below 10
//! credits purchased, 1000 at or above. nxr counts the free requests its agents made today from
//! `usage_events`, projects the count to UTC midnight, and lists rate-limit (429) events.
//!
//! Settings read: `openrouter.credits_purchased` (a number; ≥ 10 lifts the limit to 1000) and
//! `budget.free_daily_limit` (an explicit override, e.g. when OpenRouter reports its own limit).

use crate::domain::clock::{self, Clock};
use crate::domain::store::{Store, StoreError};
use chrono::{DateTime, Duration, TimeZone, Timelike, Utc};
use libsql::params;
use serde::Serialize;

pub const FREE_DAILY_LIMIT: u64 = 50;
pub const FREE_DAILY_LIMIT_WITH_CREDITS: u64 = 1000;
pub const CREDITS_FOR_HIGHER_LIMIT: f64 = 10.0;
pub const SETTING_CREDITS_PURCHASED: &str = "openrouter.credits_purchased";
pub const SETTING_FREE_DAILY_LIMIT: &str = "budget.free_daily_limit";
/// `usage_events.status` values that mean "rate limited".
pub const RATE_LIMIT_STATUSES: [&str; 2] = ["rate_limited", "429"];

/// The daily free-request limit for a key with this many credits purchased (None = unknown / no key).
pub fn free_daily_limit(credits_purchased: Option<f64>) -> u64 {
    match credits_purchased {
        Some(c) if c >= CREDITS_FOR_HIGHER_LIMIT => FREE_DAILY_LIMIT_WITH_CREDITS,
        _ => FREE_DAILY_LIMIT,
    }
}

/// How full the budget is, for colouring (70 / 90 / 100 %).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Ok,
    Warn,
    High,
    Exhausted,
}

pub fn level(used: u64, limit: u64) -> Level {
    if limit == 0 || used >= limit {
        return Level::Exhausted;
    }
    let pct = used * 100 / limit;
    match pct {
        90.. => Level::High,
        70.. => Level::Warn,
        _ => Level::Ok,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentUsage {
    pub agent_id: Option<i64>,
    /// The agent's name, or `(no agent)` for requests not tied to one.
    pub agent: String,
    pub today: u64,
    pub last_7d: u64,
    pub last_30d: u64,
    /// The newest request in the last 30 days.
    pub last_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RateLimitEvent {
    pub at: String,
    pub model: String,
    pub agent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Budget {
    /// Free-model requests today (UTC).
    pub used_today: u64,
    pub daily_limit: u64,
    /// When the day (and the count) resets: the next UTC midnight.
    pub resets_at: String,
    /// Linear projection of `used_today` to UTC midnight.
    pub projected_at_midnight: u64,
    /// Cumulative free requests at the end of each hour so far today (index = UTC hour).
    pub cumulative_by_hour: Vec<u64>,
    /// Fraction of the UTC day elapsed at the time of reading, in hours (0.0–24.0).
    pub hours_elapsed: f64,
    pub per_agent: Vec<AgentUsage>,
    /// Newest first.
    pub rate_limits: Vec<RateLimitEvent>,
    /// True when `usage_events` holds no row at all (nothing to count yet).
    pub no_data: bool,
}

impl Budget {
    pub fn level(&self) -> Level {
        level(self.used_today, self.daily_limit)
    }
    pub fn remaining(&self) -> u64 {
        self.daily_limit.saturating_sub(self.used_today)
    }
    pub fn percent(&self) -> u64 {
        (self.used_today * 100)
            .checked_div(self.daily_limit)
            .unwrap_or(100)
    }
}

pub fn day_start(now: DateTime<Utc>) -> DateTime<Utc> {
    Utc.from_utc_datetime(&now.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// `used` so far today, continued at the same rate to midnight.
pub fn project_to_midnight(used: u64, now: DateTime<Utc>) -> u64 {
    let elapsed = (now - day_start(now)).num_seconds().max(0) as u64;
    // Under ten minutes into the day the rate is noise: project nothing beyond what is used.
    if elapsed < 600 {
        return used;
    }
    used.saturating_mul(86_400) / elapsed
}

async fn count(
    store: &Store,
    sql: &str,
    p: impl libsql::params::IntoParams,
) -> Result<u64, StoreError> {
    let mut rows = store.conn().query(sql, p).await?;
    Ok(match rows.next().await? {
        Some(row) => row.get::<Option<i64>>(0)?.unwrap_or(0).max(0) as u64,
        None => 0,
    })
}

/// Records what OpenRouter said of a validated key that the budget depends on: its own free-model
/// daily limit (`free_model_daily_requests.limit`, on newer responses) becomes
/// `budget.free_daily_limit`. Returns the limit recorded, if any.
pub async fn record_key_limits(
    store: &Store,
    info: &crate::domain::openrouter::KeyInfo,
) -> Result<Option<u64>, StoreError> {
    let Some(free) = info.free_model_daily_requests else {
        return Ok(None);
    };
    store
        .set_setting(SETTING_FREE_DAILY_LIMIT, &free.limit.to_string())
        .await?;
    Ok(Some(free.limit))
}

/// Reads the limit from settings (`budget.free_daily_limit`, else `openrouter.credits_purchased`).
pub async fn daily_limit(store: &Store) -> Result<u64, StoreError> {
    if let Some(v) = store.setting(SETTING_FREE_DAILY_LIMIT).await?
        && let Ok(n) = v.trim().parse::<u64>()
    {
        return Ok(n);
    }
    let credits = store
        .setting(SETTING_CREDITS_PURCHASED)
        .await?
        .and_then(|v| v.trim().parse::<f64>().ok());
    Ok(free_daily_limit(credits))
}

/// Everything the budget views show, read at `clock.now()`.
pub async fn load(store: &Store, clock: &dyn Clock) -> Result<Budget, StoreError> {
    let now = clock.now();
    let start = day_start(now);
    let today = clock::to_db(start);
    let now_s = clock::to_db(now);
    let week = clock::to_db(now - Duration::days(7));
    let month = clock::to_db(now - Duration::days(30));
    let daily_limit = daily_limit(store).await?;
    let total_rows = count(store, "SELECT COUNT(*) FROM usage_events", ()).await?;
    let used_today = count(
        store,
        "SELECT SUM(requests) FROM usage_events WHERE is_free = 1 AND occurred_at >= ?1 AND occurred_at <= ?2",
        params![today.clone(), now_s.clone()],
    )
    .await?;

    let mut cumulative_by_hour = vec![0u64; now.hour() as usize + 1];
    let mut rows = store
        .conn()
        .query(
            "SELECT occurred_at, requests FROM usage_events WHERE is_free = 1 AND occurred_at >= ?1 AND occurred_at <= ?2",
            params![today.clone(), now_s.clone()],
        )
        .await?;
    while let Some(row) = rows.next().await? {
        let at: String = row.get(0)?;
        let n: i64 = row.get(1)?;
        if let Some(t) = clock::from_db(&at) {
            let h = t.hour() as usize;
            if h < cumulative_by_hour.len() {
                cumulative_by_hour[h] += n.max(0) as u64;
            }
        }
    }
    let mut acc = 0;
    for v in cumulative_by_hour.iter_mut() {
        acc += *v;
        *v = acc;
    }

    let mut per_agent = Vec::new();
    let mut rows = store
        .conn()
        .query(
            "SELECT u.agent_id, a.name,
                    SUM(CASE WHEN u.occurred_at >= ?1 THEN u.requests ELSE 0 END),
                    SUM(CASE WHEN u.occurred_at >= ?2 THEN u.requests ELSE 0 END),
                    SUM(u.requests),
                    MAX(u.occurred_at)
             FROM usage_events u LEFT JOIN agents a ON a.id = u.agent_id
             WHERE u.occurred_at >= ?3 AND u.occurred_at <= ?4
             GROUP BY u.agent_id, a.name
             ORDER BY 5 DESC, a.name ASC",
            params![today.clone(), week, month, now_s.clone()],
        )
        .await?;
    while let Some(row) = rows.next().await? {
        let v = |i: i32| -> Result<u64, StoreError> {
            Ok(row.get::<Option<i64>>(i)?.unwrap_or(0).max(0) as u64)
        };
        per_agent.push(AgentUsage {
            agent_id: row.get(0)?,
            agent: row
                .get::<Option<String>>(1)?
                .unwrap_or_else(|| "(no agent)".to_string()),
            today: v(2)?,
            last_7d: v(3)?,
            last_30d: v(4)?,
            last_at: row.get::<Option<String>>(5)?,
        });
    }

    let mut rate_limits = Vec::new();
    let mut rows = store
        .conn()
        .query(
            "SELECT u.occurred_at, u.model, a.name FROM usage_events u LEFT JOIN agents a ON a.id = u.agent_id
             WHERE u.status IN (?1, ?2) ORDER BY u.occurred_at DESC, u.id DESC LIMIT 50",
            params![RATE_LIMIT_STATUSES[0], RATE_LIMIT_STATUSES[1]],
        )
        .await?;
    while let Some(row) = rows.next().await? {
        rate_limits.push(RateLimitEvent {
            at: row.get(0)?,
            model: row.get(1)?,
            agent: row.get(2)?,
        });
    }

    let hours_elapsed = (now - start).num_seconds() as f64 / 3600.0;
    Ok(Budget {
        used_today,
        daily_limit,
        resets_at: clock::to_db(start + Duration::days(1)),
        projected_at_midnight: project_to_midnight(used_today, now),
        cumulative_by_hour,
        hours_elapsed,
        per_agent,
        rate_limits,
        no_data: total_rows == 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_follows_credits() {
        assert_eq!(free_daily_limit(None), 50);
        assert_eq!(free_daily_limit(Some(9.99)), 50);
        assert_eq!(free_daily_limit(Some(10.0)), 1000);
    }

    #[test]
    fn levels_change_at_70_90_100() {
        assert_eq!(level(34, 50), Level::Ok);
        assert_eq!(level(35, 50), Level::Warn);
        assert_eq!(level(45, 50), Level::High);
        assert_eq!(level(50, 50), Level::Exhausted);
    }

    #[test]
    fn projection_is_linear_to_midnight() {
        let noon = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();
        assert_eq!(project_to_midnight(10, noon), 20);
        let early = Utc.with_ymd_and_hms(2026, 5, 1, 0, 5, 0).unwrap();
        assert_eq!(project_to_midnight(3, early), 3);
    }
}
