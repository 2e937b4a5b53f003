//! The free-tier budget (docs/design.md §5): OpenRouter allows 50 free-model requests per UTC day below 10
//! credits purchased, 1000 at or above. nxr counts the free requests its agents made today from
//! `usage_events`, projects the count to UTC midnight, and lists rate-limit (429) events.
//!
//! Settings read: `openrouter.credits_purchased` (a number; ≥ 10 lifts the limit to 1000) and
//! `budget.free_daily_limit` (an explicit override, e.g. when OpenRouter reports its own limit).

pub mod daily;
pub mod guard;
pub mod pacer;
pub mod queue;
pub mod relay_log;
pub mod relay_status;
pub mod run_gate;
pub mod usage;

use crate::domain::base::clock::{self, Clock};
use crate::domain::store::{Store, StoreError};
use chrono::{DateTime, Duration, TimeZone, Timelike, Utc};
use libsql::params;
use serde::Serialize;

pub const FREE_DAILY_LIMIT: u64 = 50;
pub const FREE_DAILY_LIMIT_WITH_CREDITS: u64 = 1000;
pub const CREDITS_FOR_HIGHER_LIMIT: f64 = 10.0;
pub const SETTING_CREDITS_PURCHASED: &str = "openrouter.credits_purchased";
pub const SETTING_FREE_DAILY_LIMIT: &str = "budget.free_daily_limit";
pub use crate::domain::catalog::ratelimit::STATUSES as RATE_LIMIT_STATUSES;

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

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AgentUsage {
    pub agent_id: Option<i64>,
    /// The agent's name, or `(no agent)` for requests not tied to one.
    pub agent: String,
    /// Requests today (UTC), in the last 7 and 30 UTC days (today included).
    pub today: u64,
    pub last_7d: u64,
    pub last_30d: u64,
    /// Prompt + completion tokens over the same days.
    pub tokens_today: u64,
    pub tokens_7d: u64,
    pub tokens_30d: u64,
    /// Cost in USD over the same days.
    pub cost_today: f64,
    pub cost_7d: f64,
    pub cost_30d: f64,
    /// The newest request in the last 30 days.
    pub last_at: Option<String>,
    /// Requests today and in the last 7 days answered by another model than the agent's own (a
    /// fallback of its chain took over; on the day of a model change, also the earlier model).
    pub other_model_today: u64,
    pub other_model_7d: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RateLimitEvent {
    pub at: String,
    pub model: String,
    pub agent: Option<String>,
    /// per_minute, per_day, upstream, funding or other (see `domain::catalog::ratelimit`).
    pub kind: Option<String>,
}

/// OpenRouter's own count of the account's free-model requests today (`GET /key`,
/// `free_model_daily_requests`): account-wide, so it includes requests made outside nxr's agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AccountCount {
    pub used: u64,
    pub limit: u64,
    pub remaining: u64,
    /// When it was read (unix seconds).
    pub read_at: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Budget {
    /// Free-model requests today (UTC): OpenRouter's account-wide count when a key gave one today,
    /// else what nxr's agents made.
    pub used_today: u64,
    pub daily_limit: u64,
    /// Free-model requests nxr's agents made today (from `usage_events`).
    pub agents_today: u64,
    /// OpenRouter's count, when a stored key gave one today.
    pub account: Option<AccountCount>,
    /// Requests OpenRouter counted that nxr's agents did not make (account − agents), with a key.
    pub outside_agents: Option<u64>,
    /// When the day (and the count) resets: the next UTC midnight.
    pub resets_at: String,
    /// `used_today` plus the recent rate times the hours left until midnight.
    pub projected_at_midnight: u64,
    /// Free requests per hour over the last [`RECENT_WINDOW_HOURS`] hours (or the day so far).
    pub rate_per_hour: f64,
    /// When, at that rate, the limit is reached today (`None` when it is not).
    pub hits_limit_at: Option<String>,
    /// Cumulative free requests at the end of each hour so far today (index = UTC hour).
    pub cumulative_by_hour: Vec<u64>,
    /// Fraction of the UTC day elapsed at the time of reading, in hours (0.0–24.0).
    pub hours_elapsed: f64,
    pub per_agent: Vec<AgentUsage>,
    /// Newest first.
    pub rate_limits: Vec<RateLimitEvent>,
    /// Today's rate-limit events by kind, with the models they hit (none counted as a request).
    pub rate_limits_today: Vec<crate::domain::catalog::ratelimit::KindTally>,
    /// True when `usage_events` holds no row at all (nothing to count yet).
    pub no_data: bool,
    /// What the relay did today (empty when no agent went through it).
    pub relay: relay_log::RelayToday,
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

/// The next reset of the free bucket: the next UTC midnight.
pub fn next_reset(now: DateTime<Utc>) -> DateTime<Utc> {
    day_start(now) + Duration::days(1)
}

/// `used` so far today, continued at the day's average rate to midnight.
pub fn project_to_midnight(used: u64, now: DateTime<Utc>) -> u64 {
    let elapsed = (now - day_start(now)).num_seconds().max(0) as u64;
    // Under ten minutes into the day the rate is noise: project nothing beyond what is used.
    if elapsed < 600 {
        return used;
    }
    used.saturating_mul(86_400) / elapsed
}

/// The rate of the last hours is what a projection continues.
pub const RECENT_WINDOW_HOURS: i64 = 3;

/// Where today ends at the recent rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Forecast {
    pub rate_per_hour: f64,
    pub projected_at_midnight: u64,
    pub hits_limit_at: Option<DateTime<Utc>>,
}

/// The window the recent rate is measured over: the last [`RECENT_WINDOW_HOURS`] hours, or the day
/// so far when it is younger.
pub fn recent_window(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        (now - Duration::hours(RECENT_WINDOW_HOURS)).max(day_start(now)),
        now,
    )
}

/// `used` now, `recent` requests in [`recent_window`]: the projection to midnight (used + rate ×
/// hours left, rounded down) and, when that reaches `limit` while `used` has not, the time it does.
/// Under ten minutes into the day the rate is noise and nothing is projected beyond `used`.
pub fn forecast(used: u64, limit: u64, recent: u64, now: DateTime<Utc>) -> Forecast {
    let (from, to) = recent_window(now);
    let window = (to - from).num_seconds();
    if window < 600 {
        return Forecast {
            rate_per_hour: 0.0,
            projected_at_midnight: used,
            hits_limit_at: None,
        };
    }
    let per_second = recent as f64 / window as f64;
    let left = (next_reset(now) - now).num_seconds().max(0) as f64;
    let projected = used + (per_second * left).floor() as u64;
    let hits_limit_at = (used < limit && projected >= limit && per_second > 0.0).then(|| {
        let secs = ((limit - used) as f64 / per_second).ceil() as i64;
        now + Duration::seconds(secs)
    });
    Forecast {
        rate_per_hour: per_second * 3600.0,
        projected_at_midnight: projected,
        hits_limit_at,
    }
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
    info: &crate::domain::catalog::openrouter::KeyInfo,
) -> Result<Option<u64>, StoreError> {
    let Some(free) = info.free_model_daily_requests else {
        return Ok(None);
    };
    store
        .set_setting(SETTING_FREE_DAILY_LIMIT, &free.limit.to_string())
        .await?;
    Ok(Some(free.limit))
}

/// Setting: the last [`AccountCount`] read from `GET /key` (JSON).
pub const SETTING_ACCOUNT_COUNT: &str = "budget.account_free_requests";

/// Asks OpenRouter (`GET /key`) for the account's free-model count and records it (and its limit).
/// `Ok(None)` when the answer has no `free_model_daily_requests`.
pub async fn refresh_account(
    store: &Store,
    client: &crate::domain::catalog::openrouter::OpenRouterClient,
    clock: &dyn Clock,
) -> Result<Option<AccountCount>, BudgetError> {
    let info = match client.key().await {
        Ok(i) => i,
        Err(e) => {
            // A 429 / 402 here is the account's limit talking: log it with its kind.
            crate::domain::catalog::ratelimit::record_error(store, "(GET /key)", &e, clock).await?;
            return Err(e.into());
        }
    };
    record_key_limits(store, &info).await?;
    let Some(free) = info.free_model_daily_requests else {
        return Ok(None);
    };
    let count = AccountCount {
        used: free.used,
        limit: free.limit,
        remaining: free.remaining,
        read_at: clock.now().timestamp(),
    };
    store
        .set_setting(
            SETTING_ACCOUNT_COUNT,
            &serde_json::to_string(&count).unwrap_or_default(),
        )
        .await?;
    Ok(Some(count))
}

/// The warning for an account count that could not be read now (`why`), naming the count the
/// budget shows instead: OpenRouter's earlier read of today, or nxr's agents' own count.
pub fn unread_count_warning(b: &Budget, why: &str) -> String {
    match &b.account {
        Some(a) => {
            let at = DateTime::<Utc>::from_timestamp(a.read_at, 0)
                .map(|t| t.format("%H:%M UTC").to_string())
                .unwrap_or_else(|| "earlier today".into());
            format!(
                "OpenRouter's own count was not read now ({why}); showing the count it gave at {at} ({} for the account)",
                a.used
            )
        }
        None => format!("OpenRouter's own count was not read ({why}); showing nxr's agents' count"),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    OpenRouter(#[from] crate::domain::catalog::openrouter::OpenRouterError),
}

/// The recorded account count, when it was read today (UTC).
async fn account_today(
    store: &Store,
    now: DateTime<Utc>,
) -> Result<Option<AccountCount>, StoreError> {
    let Some(v) = store.setting(SETTING_ACCOUNT_COUNT).await? else {
        return Ok(None);
    };
    Ok(serde_json::from_str::<AccountCount>(&v)
        .ok()
        .filter(|c| c.read_at >= day_start(now).timestamp() && c.read_at <= now.timestamp()))
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

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// Everything the budget views show, read at `clock.now()`. Day totals come from `usage_daily`
/// (kept by a trigger on `usage_events`), so the cost does not grow with the history; today's hours
/// and the recent rate from today's events.
pub async fn load(store: &Store, clock: &dyn Clock) -> Result<Budget, StoreError> {
    let now = clock.now();
    let start = day_start(now);
    let today = clock::to_db(start);
    let now_s = clock::to_db(now);
    let limit_setting = daily_limit(store).await?;
    let account = account_today(store, now).await?;
    let daily_limit = account.map(|a| a.limit).unwrap_or(limit_setting);
    let no_data = count(store, "SELECT EXISTS (SELECT 1 FROM usage_events)", ()).await? == 0;

    let cumulative_by_hour = cumulative_by_hour(store, now, &today, &now_s).await?;
    let agents_today = cumulative_by_hour.last().copied().unwrap_or(0);
    let (from, _) = recent_window(now);
    let recent = count(
        store,
        "SELECT SUM(requests) FROM usage_events WHERE is_free = 1 AND occurred_at >= ?1 AND occurred_at <= ?2",
        params![clock::to_db(from), now_s.clone()],
    )
    .await?;
    let used_today = account
        .map(|a| a.used.max(agents_today))
        .unwrap_or(agents_today);
    let outside_agents = account.map(|a| a.used.saturating_sub(agents_today));
    let f = forecast(used_today, daily_limit, recent, now);

    let mut per_agent = per_agent_usage(store, now).await?;
    add_other_model_counts(store, now, &mut per_agent).await?;
    let rate_limits = recent_rate_limits(store).await?;

    let rate_limits_today = crate::domain::catalog::ratelimit::tally(store, &today, &now_s).await?;
    let hours_elapsed = (now - start).num_seconds() as f64 / 3600.0;
    let relay = relay_log::today(store, clock).await?;
    Ok(Budget {
        used_today,
        daily_limit,
        agents_today,
        account,
        outside_agents,
        resets_at: clock::to_db(next_reset(now)),
        projected_at_midnight: f.projected_at_midnight,
        rate_per_hour: f.rate_per_hour,
        hits_limit_at: f.hits_limit_at.map(clock::to_db),
        cumulative_by_hour,
        hours_elapsed,
        per_agent,
        rate_limits,
        rate_limits_today,
        no_data,
        relay,
    })
}

/// Cumulative free requests at the end of each UTC hour from `today` (the day's start) up to
/// `now_s`, one slot per hour so far (index = hour); the last slot is the day's total.
async fn cumulative_by_hour(
    store: &Store,
    now: DateTime<Utc>,
    today: &str,
    now_s: &str,
) -> Result<Vec<u64>, StoreError> {
    let mut cumulative_by_hour = vec![0u64; now.hour() as usize + 1];
    let mut rows = store
        .conn()
        .query(
            "SELECT CAST(substr(occurred_at, 12, 2) AS INTEGER), SUM(requests) FROM usage_events
             WHERE is_free = 1 AND occurred_at >= ?1 AND occurred_at <= ?2 GROUP BY 1",
            params![today.to_string(), now_s.to_string()],
        )
        .await?;
    while let Some(row) = rows.next().await? {
        let h = row.get::<Option<i64>>(0)?.unwrap_or(-1);
        let n = row.get::<Option<i64>>(1)?.unwrap_or(0).max(0) as u64;
        if let Some(slot) = usize::try_from(h)
            .ok()
            .and_then(|h| cumulative_by_hour.get_mut(h))
        {
            *slot += n;
        }
    }
    let mut acc = 0;
    for v in cumulative_by_hour.iter_mut() {
        acc += *v;
        *v = acc;
    }
    Ok(cumulative_by_hour)
}

/// Requests, tokens and cost per agent today and over the last 7 and 30 UTC days (from
/// `usage_daily`), busiest over 30 days first; the other-model counts are left at 0.
async fn per_agent_usage(store: &Store, now: DateTime<Utc>) -> Result<Vec<AgentUsage>, StoreError> {
    let mut per_agent = Vec::new();
    let mut rows = store
        .conn()
        .query(
            "SELECT d.agent_id, a.name,
                    SUM(CASE WHEN d.day >= ?1 THEN d.requests ELSE 0 END),
                    SUM(CASE WHEN d.day >= ?2 THEN d.requests ELSE 0 END),
                    SUM(d.requests),
                    SUM(CASE WHEN d.day >= ?1 THEN d.tokens ELSE 0 END),
                    SUM(CASE WHEN d.day >= ?2 THEN d.tokens ELSE 0 END),
                    SUM(d.tokens),
                    SUM(CASE WHEN d.day >= ?1 THEN d.cost_usd ELSE 0.0 END),
                    SUM(CASE WHEN d.day >= ?2 THEN d.cost_usd ELSE 0.0 END),
                    SUM(d.cost_usd),
                    MAX(d.last_at)
             FROM usage_daily d LEFT JOIN agents a ON a.id = d.agent_id
             WHERE d.day >= ?3 AND d.day <= ?4
             GROUP BY d.agent_id, a.name
             ORDER BY 5 DESC, a.name ASC",
            params![
                day(now),
                day(now - Duration::days(6)),
                day(now - Duration::days(29)),
                day(now)
            ],
        )
        .await?;
    while let Some(row) = rows.next().await? {
        per_agent.push(agent_usage(&row)?);
    }
    Ok(per_agent)
}

/// One row of the per-agent query as an [`AgentUsage`]; requests and tokens below 0 count as 0,
/// and a cost is read whether SQLite summed it as an integer or a real.
fn agent_usage(row: &libsql::Row) -> Result<AgentUsage, StoreError> {
    let v = |i: i32| -> Result<u64, StoreError> {
        Ok(row.get::<Option<i64>>(i)?.unwrap_or(0).max(0) as u64)
    };
    // SQLite's SUM gives an integer or a real by what it summed: take either.
    let c = |i: i32| -> Result<f64, StoreError> {
        Ok(match row.get_value(i)? {
            libsql::Value::Real(r) if r.is_finite() => r.max(0.0),
            libsql::Value::Integer(n) => n.max(0) as f64,
            _ => 0.0,
        })
    };
    let id: i64 = row.get::<Option<i64>>(0)?.unwrap_or(0);
    Ok(AgentUsage {
        agent_id: (id != 0).then_some(id),
        agent: row
            .get::<Option<String>>(1)?
            .unwrap_or_else(|| "(no agent)".to_string()),
        today: v(2)?,
        last_7d: v(3)?,
        last_30d: v(4)?,
        tokens_today: v(5)?,
        tokens_7d: v(6)?,
        tokens_30d: v(7)?,
        cost_today: c(8)?,
        cost_7d: c(9)?,
        cost_30d: c(10)?,
        last_at: row.get::<Option<String>>(11)?,
        other_model_today: 0,
        other_model_7d: 0,
    })
}

/// Fills in how often each agent ran on another model than its own today and over the last 7
/// days (its fallback chain took over), counting successful requests only.
async fn add_other_model_counts(
    store: &Store,
    now: DateTime<Utc>,
    per_agent: &mut [AgentUsage],
) -> Result<(), StoreError> {
    let mut rows = store
        .conn()
        .query(
            "SELECT e.agent_id,
                    SUM(CASE WHEN e.occurred_at >= ?1 THEN e.requests ELSE 0 END),
                    SUM(e.requests)
             FROM usage_events e JOIN agents a ON a.id = e.agent_id
             WHERE e.occurred_at >= ?2 AND e.status = 'ok' AND e.model != a.model
             GROUP BY e.agent_id",
            params![day(now), day(now - Duration::days(6))],
        )
        .await?;
    while let Some(row) = rows.next().await? {
        let id: Option<i64> = row.get(0)?;
        let n = |i: i32| -> Result<u64, StoreError> {
            Ok(row.get::<Option<i64>>(i)?.unwrap_or(0).max(0) as u64)
        };
        if let Some(u) = per_agent.iter_mut().find(|u| u.agent_id == id) {
            u.other_model_today = n(1)?;
            u.other_model_7d = n(2)?;
        }
    }
    Ok(())
}

/// The newest 50 rate-limit events over both rate-limit statuses, newest first.
async fn recent_rate_limits(store: &Store) -> Result<Vec<RateLimitEvent>, StoreError> {
    let mut rate_limits = Vec::new();
    let mut rows = store
        .conn()
        .query(
            // Each status walks its own (status, occurred_at) index backwards for its newest 50, so
            // the cost does not grow with the history.
            "SELECT u.occurred_at, u.model, a.name, u.rate_limit_kind FROM (
                 SELECT * FROM (SELECT id, occurred_at, model, agent_id, rate_limit_kind FROM usage_events
                                WHERE status = ?1 ORDER BY occurred_at DESC LIMIT 50)
                 UNION ALL
                 SELECT * FROM (SELECT id, occurred_at, model, agent_id, rate_limit_kind FROM usage_events
                                WHERE status = ?2 ORDER BY occurred_at DESC LIMIT 50)
             ) u LEFT JOIN agents a ON a.id = u.agent_id
             ORDER BY u.occurred_at DESC, u.id DESC LIMIT 50",
            params![RATE_LIMIT_STATUSES[0], RATE_LIMIT_STATUSES[1]],
        )
        .await?;
    while let Some(row) = rows.next().await? {
        rate_limits.push(RateLimitEvent {
            at: row.get(0)?,
            model: row.get(1)?,
            agent: row.get(2)?,
            kind: row.get(3)?,
        });
    }
    Ok(rate_limits)
}

impl crate::domain::base::hint::Hinted for BudgetError {
    fn hints(&self) -> Vec<crate::domain::base::hint::Hint> {
        #[allow(unused_imports)]
        use crate::domain::base::hint::{Hint, Hinted};
        match self {
            BudgetError::Store(e) => e.hints(),
            BudgetError::OpenRouter(e) => e.hints(),
        }
    }
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

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 1, h, m, 0).unwrap()
    }

    #[test]
    fn forecast_continues_the_last_three_hours_to_midnight() {
        // 15:00, 30 used of 50, 9 in the last three hours (12:00–15:00): 3 an hour. Nine hours
        // left: 30 + 27 = 57 ≥ 50, so the limit falls 20 requests later: 20 / 3 h = 6 h 40 min → 21:40.
        let f = forecast(30, 50, 9, at(15, 0));
        assert_eq!(f.projected_at_midnight, 57);
        assert!((f.rate_per_hour - 3.0).abs() < 1e-9);
        assert_eq!(f.hits_limit_at, Some(at(21, 40)));
        // 20:00, 10 used of 50, 6 in the last three hours: 2 an hour × 4 h = 8 → 18, never the limit.
        let f = forecast(10, 50, 6, at(20, 0));
        assert_eq!(f.projected_at_midnight, 18);
        assert_eq!(f.hits_limit_at, None);
        // 01:30: the window is the 90 minutes so far. 45 in them: 30 an hour × 22.5 h = 675 → 720;
        // a 1000 limit is hit 955 / 30 h = 31 h 50 min later: after midnight, so not today.
        let f = forecast(45, 1000, 45, at(1, 30));
        assert_eq!(f.projected_at_midnight, 720);
        assert_eq!(f.hits_limit_at, None);
        // 06:00, 700 used, 300 in the last three hours: 100 an hour; 300 to go → 09:00.
        let f = forecast(700, 1000, 300, at(6, 0));
        assert_eq!(f.projected_at_midnight, 700 + 1800);
        assert_eq!(f.hits_limit_at, Some(at(9, 0)));
        // Already at the limit: no "on track to hit" time.
        assert_eq!(forecast(50, 50, 10, at(12, 0)).hits_limit_at, None);
        // Five minutes into the day: nothing projected.
        let f = forecast(3, 50, 3, at(0, 5));
        assert_eq!((f.projected_at_midnight, f.hits_limit_at), (3, None));
    }

    #[test]
    fn projection_is_linear_to_midnight() {
        let noon = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();
        assert_eq!(project_to_midnight(10, noon), 20);
        let early = Utc.with_ymd_and_hms(2026, 5, 1, 0, 5, 0).unwrap();
        assert_eq!(project_to_midnight(3, early), 3);
    }
}
