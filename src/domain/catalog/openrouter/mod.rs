//! The OpenRouter API client: `GET /models`, `/key`, `/credits`, `/models/{author}/{slug}/endpoints`.
//!
//! Bounded retries with exponential backoff on connect errors, timeouts, 5xx and 429. A 429 honours
//! `Retry-After` or `X-RateLimit-Reset` (epoch ms), read from the response headers or, as OpenRouter
//! sends them, from the JSON body at `error.metadata.headers`. A wait longer than
//! [`RetryPolicy::max_retry_wait`] is not slept through: the caller gets [`OpenRouterError::RateLimited`]
//! with the time it may try again. The API key is sent as a bearer token and never logged.

use crate::domain::base::clock::{self, SharedClock};
use crate::domain::base::env::Env;
use crate::domain::catalog::{self, ParsedCatalog};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

mod client;
mod responses;

pub use client::*;
pub use responses::*;

/// How long to wait for OpenRouter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing the TCP/TLS connection.
    pub connect: Duration,
    /// The whole request, body included.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(30),
        }
    }
}

/// The longest one call (every attempt and wait together) takes by default.
pub const DEFAULT_TOTAL_TIME: Duration = Duration::from_secs(30);

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, the first one included (at least 1).
    pub max_attempts: u32,
    /// Wait before the 2nd attempt; doubles for each further one.
    pub base_backoff: Duration,
    /// Upper bound of one backoff wait.
    pub max_backoff: Duration,
    /// A server-requested wait (Retry-After, X-RateLimit-Reset) longer than this is not slept through:
    /// the call fails with [`OpenRouterError::RateLimited`] saying when to retry.
    pub max_retry_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_wait: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// The backoff before attempt `next` (2, 3, …).
    pub fn backoff(&self, next: u32) -> Duration {
        let exp = next.saturating_sub(2).min(16);
        self.base_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff)
    }
}

/// Waits for a duration. Injected so tests can record waits instead of sleeping.
pub type Sleeper = Arc<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// The real sleeper (tokio).
pub fn tokio_sleeper() -> Sleeper {
    Arc::new(|d| Box::pin(tokio::time::sleep(d)))
}

#[derive(Debug, thiserror::Error)]
pub enum OpenRouterError {
    #[error(
        "OpenRouter refused the API key (HTTP {status}: {message}); check the key, or create one at https://openrouter.ai/keys"
    )]
    Unauthorized { status: u16, message: String },
    #[error("OpenRouter rate limit reached ({message}); {}", retry_hint(.until))]
    RateLimited {
        until: Option<DateTime<Utc>>,
        message: String,
    },
    #[error(
        "OpenRouter is unreachable ({reason}); check the network or NXR_OPENROUTER_URL and try again later"
    )]
    Unavailable { reason: String },
    #[error(
        "OpenRouter at {url} answered HTTP {status} ({message}); the service is having trouble, nothing was changed — try again later"
    )]
    ServerError {
        url: String,
        status: u16,
        message: String,
    },
    #[error(
        "OpenRouter sent a response nxr cannot read ({what}); nothing was changed, try again later"
    )]
    Malformed { what: String },
    #[error(
        "OpenRouter rejected the request (HTTP {status}: {message}); check the model id or NXR_OPENROUTER_URL"
    )]
    Rejected { status: u16, message: String },
    #[error(
        "`{0}` is not an OpenRouter model id; use the form author/slug, e.g. qwen/qwen3-coder:free"
    )]
    InvalidModelId(String),
    #[error("no OpenRouter API key is set (free keys at https://openrouter.ai/keys)")]
    NoKey,
}

impl crate::domain::base::hint::Hinted for OpenRouterError {
    fn hints(&self) -> Vec<crate::domain::base::hint::Hint> {
        match self {
            OpenRouterError::Unauthorized { .. } | OpenRouterError::NoKey => {
                vec![crate::domain::base::hint::Hint::AddOpenRouterKey]
            }
            _ => Vec::new(),
        }
    }
}

fn retry_hint(until: &Option<DateTime<Utc>>) -> String {
    match until {
        Some(t) => format!("it may be retried after {}", clock::to_db(*t)),
        None => "wait a minute and try again".to_string(),
    }
}

impl OpenRouterError {
    /// For a rate limit: when the request may be retried.
    pub fn retry_at(&self) -> Option<DateTime<Utc>> {
        match self {
            OpenRouterError::RateLimited { until, .. } => *until,
            _ => None,
        }
    }
}

pub type Result<T, E = OpenRouterError> = std::result::Result<T, E>;

/// `GET /key`: what the key may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// OpenRouter's own masked form of the key, e.g. `sk-or-v1-au7...890`.
    #[serde(default)]
    pub label: String,
    /// Credit limit in USD; `None` = unlimited.
    #[serde(default)]
    pub limit: Option<f64>,
    #[serde(default)]
    pub limit_remaining: Option<f64>,
    #[serde(default)]
    pub limit_reset: Option<String>,
    #[serde(default)]
    pub usage: f64,
    #[serde(default)]
    pub usage_daily: Option<f64>,
    #[serde(default)]
    pub usage_weekly: Option<f64>,
    #[serde(default)]
    pub usage_monthly: Option<f64>,
    #[serde(default)]
    pub is_free_tier: bool,
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Present on newer responses only.
    #[serde(default)]
    pub free_model_daily_requests: Option<FreeModelDailyRequests>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreeModelDailyRequests {
    pub used: u64,
    pub limit: u64,
    pub remaining: u64,
}

/// `GET /credits`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Credits {
    pub total_credits: f64,
    pub total_usage: f64,
}

/// `GET /models/{author}/{slug}/endpoints`: the providers serving one model and their health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelEndpoints {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub provider_name: String,
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub context_length: Option<u64>,
    #[serde(default)]
    pub max_completion_tokens: Option<u64>,
    #[serde(default)]
    pub quantization: Option<String>,
    #[serde(default)]
    pub status: Option<i64>,
    /// Percent, 0–100.
    #[serde(default)]
    pub uptime_last_5m: Option<f64>,
    #[serde(default)]
    pub uptime_last_30m: Option<f64>,
    #[serde(default)]
    pub uptime_last_1d: Option<f64>,
    /// Seconds.
    #[serde(default)]
    pub latency_last_30m: Option<Percentiles>,
    /// Tokens per second.
    #[serde(default)]
    pub throughput_last_30m: Option<Percentiles>,
    #[serde(default)]
    pub supported_parameters: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    #[serde(default)]
    pub p50: Option<f64>,
    #[serde(default)]
    pub p75: Option<f64>,
    #[serde(default)]
    pub p90: Option<f64>,
    #[serde(default)]
    pub p99: Option<f64>,
}

#[derive(Deserialize)]
struct DataEnvelope<T> {
    data: T,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy {
            max_attempts: 5,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            max_retry_wait: Duration::from_secs(1),
        };
        assert_eq!(p.backoff(2), Duration::from_millis(100));
        assert_eq!(p.backoff(3), Duration::from_millis(200));
        assert_eq!(p.backoff(4), Duration::from_millis(350));
    }

    #[test]
    fn reset_is_epoch_millis() {
        let t = parse_reset("1779321600000").unwrap();
        assert_eq!(clock::to_db(t), "2026-05-21T00:00:00Z");
        assert_eq!(parse_reset("garbage"), None);
    }

    #[test]
    fn retry_after_seconds_and_date() {
        let now = clock::from_db("2026-05-01T00:00:00Z").unwrap();
        assert_eq!(
            clock::to_db(parse_retry_after("30", now).unwrap()),
            "2026-05-01T00:00:30Z"
        );
        assert_eq!(
            clock::to_db(parse_retry_after("Fri, 01 May 2026 00:01:00 GMT", now).unwrap()),
            "2026-05-01T00:01:00Z"
        );
    }

    #[test]
    fn endpoints_path_refuses_hostile_ids() {
        assert_eq!(
            endpoints_path("qwen/qwen3-coder:free").unwrap(),
            "/models/qwen/qwen3-coder:free/endpoints"
        );
        for bad in ["../../etc", "a/b/c", "a/..", "noslash", "a/b?x=1", "a/b\n"] {
            assert!(endpoints_path(bad).is_err(), "{bad}");
        }
    }
}
