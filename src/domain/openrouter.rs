//! The OpenRouter API client: `GET /models`, `/key`, `/credits`, `/models/{author}/{slug}/endpoints`.
//!
//! Bounded retries with exponential backoff on connect errors, timeouts, 5xx and 429. A 429 honours
//! `Retry-After` or `X-RateLimit-Reset` (epoch ms), read from the response headers or, as OpenRouter
//! sends them, from the JSON body at `error.metadata.headers`. A wait longer than
//! [`RetryPolicy::max_retry_wait`] is not slept through: the caller gets [`OpenRouterError::RateLimited`]
//! with the time it may try again. The API key is sent as a bearer token and never logged.

use crate::domain::catalog::{self, ParsedCatalog};
use crate::domain::clock::{self, SharedClock};
use crate::domain::env::Env;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

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
        "OpenRouter refused the API key (HTTP {status}: {message}); check it with `nxr config set openrouter-key <key>` or create one at https://openrouter.ai/keys"
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
    #[error(
        "no OpenRouter API key is set; set one with `nxr config set openrouter-key <key>` (free keys at https://openrouter.ai/keys)"
    )]
    NoKey,
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

/// The OpenRouter client. Cheap to clone.
#[derive(Clone)]
pub struct OpenRouterClient {
    http: std::result::Result<reqwest::Client, String>,
    base_url: String,
    api_key: Option<String>,
    timeouts: Timeouts,
    retry: RetryPolicy,
    /// The most one call may take, attempts and waits together.
    total: Duration,
    clock: SharedClock,
    sleeper: Sleeper,
}

impl std::fmt::Debug for OpenRouterClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenRouterClient")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .finish()
    }
}

fn build_http(t: Timeouts) -> std::result::Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .connect_timeout(t.connect)
        .timeout(t.request)
        .user_agent(concat!("nxr/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot set up the HTTPS client: {e}"))
}

impl OpenRouterClient {
    /// `base_url` is the API base including `/api/v1` (e.g. `https://openrouter.ai/api/v1`).
    pub fn new(base_url: impl Into<String>, api_key: Option<String>) -> OpenRouterClient {
        let timeouts = Timeouts::default();
        OpenRouterClient {
            http: build_http(timeouts),
            base_url: base_url.into().trim_end_matches('/').to_string(),
            api_key: api_key.filter(|k| !k.trim().is_empty()),
            timeouts,
            retry: RetryPolicy::default(),
            total: DEFAULT_TOTAL_TIME,
            clock: clock::system(),
            sleeper: tokio_sleeper(),
        }
    }

    /// A client for `env.openrouter_url` (`NXR_OPENROUTER_URL`).
    pub fn from_env(env: &Env, api_key: Option<String>) -> OpenRouterClient {
        OpenRouterClient::new(env.openrouter_url.clone(), api_key)
    }

    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self.http = build_http(timeouts);
        self
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = RetryPolicy {
            max_attempts: retry.max_attempts.max(1),
            ..retry
        };
        self
    }

    /// Bounds one call (every attempt and wait together); default [`DEFAULT_TOTAL_TIME`].
    pub fn with_total_time(mut self, total: Duration) -> Self {
        self.total = total;
        self
    }

    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_sleeper(mut self, sleeper: Sleeper) -> Self {
        self.sleeper = sleeper;
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn has_key(&self) -> bool {
        self.api_key.is_some()
    }

    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// `GET /models`, the raw body (no key needed).
    pub async fn models_body(&self) -> Result<String> {
        self.get("/models", false).await
    }

    /// `GET /models`, parsed. Bad entries are skipped and counted; an unreadable body is `Malformed`.
    pub async fn models(&self) -> Result<ParsedCatalog> {
        let body = self.models_body().await?;
        catalog::parse_catalog(&body).map_err(|e| OpenRouterError::Malformed {
            what: format!("model list: {e}"),
        })
    }

    /// `GET /key`: validates the key and reports its limits.
    pub async fn key(&self) -> Result<KeyInfo> {
        let body = self.get("/key", true).await?;
        parse_data(&body, "key info")
    }

    /// `GET /credits` (OpenRouter may require a management key: 403 → `Unauthorized`).
    pub async fn credits(&self) -> Result<Credits> {
        let body = self.get("/credits", true).await?;
        parse_data(&body, "credits")
    }

    /// `GET /models/{author}/{slug}/endpoints`: per-provider uptime and latency of one model.
    pub async fn endpoints(&self, model_id: &str) -> Result<ModelEndpoints> {
        let path = endpoints_path(model_id)?;
        let body = self.get(&path, self.api_key.is_some()).await?;
        parse_data(&body, "model endpoints")
    }

    async fn get(&self, path: &str, needs_key: bool) -> Result<String> {
        let http = self
            .http
            .as_ref()
            .map_err(|e| OpenRouterError::Unavailable { reason: e.clone() })?;
        if needs_key && self.api_key.is_none() {
            return Err(OpenRouterError::NoKey);
        }
        let url = format!("{}{}", self.base_url, path);
        let started = std::time::Instant::now();
        let mut attempt = 1;
        loop {
            // Each attempt gets the per-request timeout, cut to what is left of the whole call's.
            let left = self.total.saturating_sub(started.elapsed());
            let limit = self.timeouts.request.min(left);
            let mut req = http
                .get(&url)
                .header("Accept", "application/json")
                .timeout(limit);
            if let Some(key) = &self.api_key {
                req = req.bearer_auth(key);
            }
            tracing::debug!(%url, attempt, "openrouter request");
            let outcome = match req.send().await {
                Ok(resp) => self.answer(resp, &url, limit).await,
                Err(e) => Outcome::Retry {
                    error: OpenRouterError::Unavailable {
                        reason: describe_reqwest(&e, limit),
                    },
                    wait: None,
                },
            };
            let (error, wait) = match outcome {
                Outcome::Done(r) => return r,
                Outcome::Retry { error, wait } => (error, wait),
            };
            tracing::info!(%url, attempt, error = %error, "openrouter request failed");
            let give_up = |error| with_attempts(error, attempt, started.elapsed());
            if attempt >= self.retry.max_attempts {
                return Err(give_up(error));
            }
            let wait = wait.unwrap_or_else(|| self.retry.backoff(attempt + 1));
            if wait > self.retry.max_retry_wait {
                return Err(give_up(error));
            }
            // Another attempt only when it would still have a useful share of the time left.
            let left = self.total.saturating_sub(started.elapsed() + wait);
            if left < MIN_ATTEMPT_TIME {
                return Err(give_up(error));
            }
            (self.sleeper)(wait).await;
            attempt += 1;
        }
    }

    async fn answer(&self, resp: reqwest::Response, url: &str, limit: Duration) -> Outcome {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = match resp.text().await {
            Ok(b) => b,
            Err(e) => {
                return Outcome::Retry {
                    error: OpenRouterError::Unavailable {
                        reason: describe_reqwest(&e, limit),
                    },
                    wait: None,
                };
            }
        };
        if (200..300).contains(&status) {
            return Outcome::Done(Ok(body));
        }
        let parsed: Option<serde_json::Value> = serde_json::from_str(&body).ok();
        let message = parsed
            .as_ref()
            .and_then(|v| v.pointer("/error/message"))
            .and_then(|m| m.as_str())
            .map(clean_message)
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| http_reason(status));
        let hint = |name: &str| -> Option<String> {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
                .or_else(|| {
                    parsed
                        .as_ref()
                        .and_then(|v| v.pointer("/error/metadata/headers"))
                        .and_then(|h| h.as_object())
                        .and_then(|h| {
                            h.iter()
                                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                                .and_then(|(_, v)| match v {
                                    serde_json::Value::String(s) => Some(s.clone()),
                                    serde_json::Value::Number(n) => Some(n.to_string()),
                                    _ => None,
                                })
                        })
                })
        };
        let now = self.clock.now();
        let until = hint("retry-after")
            .and_then(|v| parse_retry_after(&v, now))
            .or_else(|| hint("x-ratelimit-reset").and_then(|v| parse_reset(&v)));
        let wait = until.map(|t| (t - now).to_std().unwrap_or(Duration::ZERO));
        match status {
            401 | 403 => Outcome::Done(Err(OpenRouterError::Unauthorized { status, message })),
            429 => Outcome::Retry {
                error: OpenRouterError::RateLimited { until, message },
                wait,
            },
            500..=599 | 408 => Outcome::Retry {
                error: OpenRouterError::ServerError {
                    url: url.to_string(),
                    status,
                    message,
                },
                wait,
            },
            _ => Outcome::Done(Err(OpenRouterError::Rejected { status, message })),
        }
    }
}

enum Outcome {
    Done(Result<String>),
    Retry {
        error: OpenRouterError,
        wait: Option<Duration>,
    },
}

fn parse_data<T: serde::de::DeserializeOwned>(body: &str, what: &str) -> Result<T> {
    serde_json::from_str::<DataEnvelope<T>>(body)
        .map(|e| e.data)
        .map_err(|e| OpenRouterError::Malformed {
            what: format!("{what}: {e}"),
        })
}

/// `author/slug` → `/models/author/slug/endpoints`, refusing anything that could escape the path.
fn endpoints_path(model_id: &str) -> Result<String> {
    let ok_part = |p: &str| {
        !p.is_empty()
            && p != "."
            && p != ".."
            && p.len() <= 128
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '~'))
    };
    match model_id.split_once('/') {
        Some((author, slug)) if ok_part(author) && ok_part(slug) => {
            Ok(format!("/models/{author}/{slug}/endpoints"))
        }
        _ => Err(OpenRouterError::InvalidModelId(clean_message(model_id))),
    }
}

/// Server text shown to the user: no control characters, bounded length.
fn clean_message(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.chars().count() > 300 {
        let cut: String = trimmed.chars().take(300).collect();
        format!("{cut}…")
    } else {
        trimmed.to_string()
    }
}

fn http_reason(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error")
        .to_string()
}

/// An attempt is only started with at least this much of the call's time left.
const MIN_ATTEMPT_TIME: Duration = Duration::from_secs(2);

/// The final error of a call that took several attempts, saying how many and how long in all.
fn with_attempts(error: OpenRouterError, attempts: u32, took: Duration) -> OpenRouterError {
    if attempts < 2 {
        return error;
    }
    let said = format!("{attempts} attempts in {:.1} s", took.as_secs_f64());
    match error {
        OpenRouterError::Unavailable { reason } => OpenRouterError::Unavailable {
            reason: format!("{reason}; {said}"),
        },
        OpenRouterError::ServerError {
            url,
            status,
            message,
        } => OpenRouterError::ServerError {
            url,
            status,
            message: format!("{message}; {said}"),
        },
        other => other,
    }
}

fn describe_reqwest(e: &reqwest::Error, limit: Duration) -> String {
    if e.is_timeout() {
        format!("no answer within {:.1} s", limit.as_secs_f64())
    } else if e.is_connect() {
        "cannot connect".to_string()
    } else if e.is_body() || e.is_decode() {
        "the response was cut off".to_string()
    } else {
        "request failed".to_string()
    }
}

/// `Retry-After`: delay seconds or an HTTP date.
pub fn parse_retry_after(v: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<f64>() {
        if !secs.is_finite() || secs < 0.0 {
            return None;
        }
        let d = chrono::Duration::milliseconds((secs.min(1e9) * 1000.0) as i64);
        return Some(now + d);
    }
    DateTime::parse_from_rfc2822(v)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `X-RateLimit-Reset`: epoch milliseconds (OpenRouter), or epoch seconds for small values.
pub fn parse_reset(v: &str) -> Option<DateTime<Utc>> {
    let n: i64 = v.trim().parse().ok()?;
    if n <= 0 {
        return None;
    }
    let ms = if n < 100_000_000_000 { n * 1000 } else { n };
    DateTime::from_timestamp_millis(ms)
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
