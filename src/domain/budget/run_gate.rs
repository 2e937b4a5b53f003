//! Whether a prompt may spend a free request now. [`free_bucket`] asks OpenRouter for the account's
//! own count (`GET /key`, which spends no chat request) when a key is stored, then reads the budget:
//! the free daily bucket is used up when the count reached the limit or when OpenRouter answered a
//! run with its per-day 429 today. [`record_failure`] records a run's rate-limit failure so the next
//! prompt is stopped at once instead of waiting through Hermes' retries.

use crate::domain::agents::Agent;
use crate::domain::agents::hermes_run::Failure;
use crate::domain::base::clock::{self, Clock};
use crate::domain::base::env::Env;
use crate::domain::budget;
use crate::domain::catalog::openrouter::{OpenRouterClient, Timeouts};
use crate::domain::catalog::ratelimit::{self, RateLimitKind};
use crate::domain::store::secrets;
use crate::domain::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::Duration;

/// The free daily bucket is used up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BucketEmpty {
    pub used: u64,
    pub limit: u64,
    /// When it resets (the next 00:00 UTC).
    pub resets_at: String,
    /// What said so: OpenRouter's count, nxr's own count, or a per-day 429 answered today.
    pub source: BucketSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BucketSource {
    /// The count (OpenRouter's own when a key gave one today, else nxr's agents').
    Count,
    /// OpenRouter answered a request with its per-day 429 today.
    RateLimited,
}

/// How long the `GET /key` read may take before the run goes ahead without it.
const KEY_READ_LIMIT: Duration = Duration::from_secs(8);

/// Reads the account's count (when a key is stored) and says whether the free bucket is used up.
pub async fn free_bucket(
    store: &Store,
    env: &Env,
    clock: &dyn Clock,
) -> Result<Option<BucketEmpty>, StoreError> {
    if let Ok(Some(key)) = secrets::openrouter_key(env) {
        let client = OpenRouterClient::from_env(env, Some(key))
            .with_timeouts(Timeouts {
                connect: Duration::from_secs(3),
                request: KEY_READ_LIMIT,
            })
            .with_total_time(KEY_READ_LIMIT);
        // Best effort: without an answer the stored counts decide.
        let _ = budget::refresh_account(store, &client, clock).await;
    }
    stored_bucket(store, clock).await
}

/// [`free_bucket`] from what is stored (no request to OpenRouter).
pub async fn stored_bucket(
    store: &Store,
    clock: &dyn Clock,
) -> Result<Option<BucketEmpty>, StoreError> {
    let now = clock.now();
    let b = budget::load(store, clock).await?;
    let resets_at = clock::to_db(budget::next_reset(now));
    if b.used_today >= b.daily_limit {
        return Ok(Some(BucketEmpty {
            used: b.used_today,
            limit: b.daily_limit,
            resets_at,
            source: BucketSource::Count,
        }));
    }
    let today = clock::to_db(budget::day_start(now));
    let limited_today = b.rate_limits.iter().any(|e| {
        e.kind.as_deref() == Some(RateLimitKind::PerDay.as_str()) && e.at.as_str() >= today.as_str()
    });
    Ok(limited_today.then_some(BucketEmpty {
        used: b.used_today,
        limit: b.daily_limit,
        resets_at,
        source: BucketSource::RateLimited,
    }))
}

/// Records a failed run's rate limit (with the reset time for the daily one); returns its kind.
pub async fn record_failure(
    store: &Store,
    agent: &Agent,
    failure: &Failure,
    clock: &dyn Clock,
) -> Result<Option<RateLimitKind>, StoreError> {
    let Some(kind) = failure.rate_limit else {
        return Ok(None);
    };
    let retry_at: Option<DateTime<Utc>> =
        (kind == RateLimitKind::PerDay).then(|| budget::next_reset(clock.now()));
    ratelimit::record(store, Some(agent.id), &agent.model, kind, retry_at, clock).await?;
    Ok(Some(kind))
}
