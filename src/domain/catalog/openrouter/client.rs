//! The OpenRouter HTTP client: one request per call with bounded retries and backoff, the 429 wait
//! rules, and the typed answers of `/models`, `/key`, `/credits` and the endpoints of a model. The key
//! is sent as a bearer token and never logged.

use super::*;

/// The OpenRouter client. Cheap to clone.
#[derive(Clone)]
pub struct OpenRouterClient {
    pub(super) http: std::result::Result<reqwest::Client, String>,
    pub(super) base_url: String,
    pub(super) api_key: Option<String>,
    pub(super) timeouts: Timeouts,
    pub(super) retry: RetryPolicy,
    /// The most one call may take, attempts and waits together.
    pub(super) total: Duration,
    pub(super) clock: SharedClock,
    pub(super) sleeper: Sleeper,
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

pub(super) fn build_http(t: Timeouts) -> std::result::Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .connect_timeout(t.connect)
        .timeout(t.request)
        .user_agent(concat!("nxr/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot set up the HTTPS client: {e}"))
}

/// The largest credit total (USD) taken as a real answer from `/credits`.
pub const MAX_PLAUSIBLE_CREDITS: f64 = 1e9;

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

    /// `GET /credits` (OpenRouter may require a management key: 403 → `Unauthorized`). A total
    /// outside 0 ..= [`MAX_PLAUSIBLE_CREDITS`] is `Malformed`.
    pub async fn credits(&self) -> Result<Credits> {
        let body = self.get("/credits", true).await?;
        let c: Credits = parse_data(&body, "credits")?;
        // Amounts no account can have (1e308, negative) are a broken answer, not a balance.
        for (name, v) in [
            ("total_credits", c.total_credits),
            ("total_usage", c.total_usage),
        ] {
            if !v.is_finite() || !(0.0..=MAX_PLAUSIBLE_CREDITS).contains(&v) {
                let shown = if v.is_finite() && v.abs() < MAX_PLAUSIBLE_CREDITS {
                    v.to_string()
                } else {
                    format!("{v:e}")
                };
                return Err(OpenRouterError::Malformed {
                    what: format!("{name} {shown} is not a credit amount an account can have"),
                });
            }
        }
        Ok(c)
    }

    /// `GET /models/{author}/{slug}/endpoints`: per-provider uptime and latency of one model.
    pub async fn endpoints(&self, model_id: &str) -> Result<ModelEndpoints> {
        let path = endpoints_path(model_id)?;
        let body = self.get(&path, self.api_key.is_some()).await?;
        parse_data(&body, "model endpoints")
    }

    pub(super) async fn get(&self, path: &str, needs_key: bool) -> Result<String> {
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
                Err(e) => Attempt::Retry {
                    error: OpenRouterError::Unavailable {
                        reason: describe_reqwest(&e, limit),
                    },
                    wait: None,
                },
            };
            let (error, wait) = match outcome {
                Attempt::Done(r) => return r,
                Attempt::Retry { error, wait } => (error, wait),
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

    pub(super) async fn answer(
        &self,
        resp: reqwest::Response,
        url: &str,
        limit: Duration,
    ) -> Attempt {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = match resp.text().await {
            Ok(b) => b,
            Err(e) => {
                return Attempt::Retry {
                    error: OpenRouterError::Unavailable {
                        reason: describe_reqwest(&e, limit),
                    },
                    wait: None,
                };
            }
        };
        if (200..300).contains(&status) {
            return Attempt::Done(Ok(body));
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
            401 | 403 => Attempt::Done(Err(OpenRouterError::Unauthorized { status, message })),
            429 => Attempt::Retry {
                error: OpenRouterError::RateLimited { until, message },
                wait,
            },
            500..=599 | 408 => Attempt::Retry {
                error: OpenRouterError::ServerError {
                    url: url.to_string(),
                    status,
                    message,
                },
                wait,
            },
            _ => Attempt::Done(Err(OpenRouterError::Rejected { status, message })),
        }
    }
}
