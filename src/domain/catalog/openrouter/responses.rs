//! Reading OpenRouter's answers: the `data` envelope, error messages cleaned for display, the attempt
//! count added to an error, and the `Retry-After` / `X-RateLimit-Reset` headers. Pure functions; no
//! request is sent from here.

use super::*;

/// What one attempt at a request came to: the answer (or a final error), or an error worth another try
/// after `wait`.
pub(super) enum Attempt {
    Done(Result<String>),
    Retry {
        error: OpenRouterError,
        wait: Option<Duration>,
    },
}

pub(super) fn parse_data<T: serde::de::DeserializeOwned>(body: &str, what: &str) -> Result<T> {
    serde_json::from_str::<DataEnvelope<T>>(body)
        .map(|e| e.data)
        .map_err(|e| OpenRouterError::Malformed {
            what: format!("{what}: {e}"),
        })
}

/// `author/slug` → `/models/author/slug/endpoints`, refusing anything that could escape the path.
pub(super) fn endpoints_path(model_id: &str) -> Result<String> {
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
pub(super) fn clean_message(s: &str) -> String {
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

pub(super) fn http_reason(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error")
        .to_string()
}

/// An attempt is only started with at least this much of the call's time left.
pub(super) const MIN_ATTEMPT_TIME: Duration = Duration::from_secs(2);

/// The final error of a call that took several attempts, saying how many and how long in all.
pub(super) fn with_attempts(
    error: OpenRouterError,
    attempts: u32,
    took: Duration,
) -> OpenRouterError {
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

pub(super) fn describe_reqwest(e: &reqwest::Error, limit: Duration) -> String {
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
