//! Rate-limit answers from OpenRouter, told apart: the account's free per-minute limit, its free
//! per-day limit, one model's own limit under high demand (a `limit_rpm/…` message: "High demand
//! for M on OpenRouter - limited to 8 requests per minute"), an upstream provider's error ("Provider
//! returned error" with `error.metadata.provider_name`), and a 402 for a negative balance (which
//! stops free models too). Each one nxr sees is recorded as a `usage_events` row with status
//! `rate_limited`, no request counted, and its kind, so the budget says which limit ran out and which
//! model it hit: a rate-limited request is not a used free request.

use crate::domain::base::clock::{self, Clock};
use crate::domain::catalog::openrouter::OpenRouterError;
use crate::domain::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use libsql::params;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RateLimitKind {
    PerMinute,
    PerDay,
    HighDemand,
    Upstream,
    Funding,
    Other,
}

/// `usage_events.status` values that mean "rate limited" (`429` in rows from before the kinds).
pub const STATUSES: [&str; 2] = ["rate_limited", "429"];

/// Every kind, in the order the budget lists them.
pub const KINDS: [RateLimitKind; 6] = [
    RateLimitKind::PerMinute,
    RateLimitKind::PerDay,
    RateLimitKind::HighDemand,
    RateLimitKind::Upstream,
    RateLimitKind::Funding,
    RateLimitKind::Other,
];

impl RateLimitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RateLimitKind::PerMinute => "per_minute",
            RateLimitKind::PerDay => "per_day",
            RateLimitKind::HighDemand => "high_demand",
            RateLimitKind::Upstream => "upstream",
            RateLimitKind::Funding => "funding",
            RateLimitKind::Other => "other",
        }
    }

    /// What the user can do about it.
    pub fn hint(self) -> &'static str {
        match self {
            RateLimitKind::PerMinute => "the 20 requests/minute free limit: wait a minute",
            RateLimitKind::PerDay => "the free daily limit: it resets at 00:00 UTC",
            RateLimitKind::HighDemand => {
                "this model's own limit under high demand: its fallback chain takes over; try again shortly"
            }
            RateLimitKind::Upstream => {
                "the model's provider is busy: try again shortly or use another model"
            }
            RateLimitKind::Funding => "the balance is negative: add credits on openrouter.ai",
            RateLimitKind::Other => "a rate limit: wait and try again",
        }
    }
}

impl RateLimitKind {
    /// The kind stored as `s` (`as_str`); anything else, or nothing, is `Other`.
    pub fn parse(s: Option<&str>) -> RateLimitKind {
        KINDS
            .into_iter()
            .find(|k| Some(k.as_str()) == s)
            .unwrap_or(RateLimitKind::Other)
    }
}

/// The rate-limit events of one kind over a span, and the models they hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindTally {
    pub kind: RateLimitKind,
    pub count: u64,
    /// Most hit first.
    pub models: Vec<ModelTally>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelTally {
    pub model: String,
    pub count: u64,
}

/// The rate-limit events between `from` and `to` (database timestamps), by kind in [`KINDS`]
/// order; kinds with no event are left out.
pub async fn tally(store: &Store, from: &str, to: &str) -> Result<Vec<KindTally>, StoreError> {
    let mut rows = store
        .conn()
        .query(
            "SELECT rate_limit_kind, model, COUNT(*) FROM usage_events
             WHERE status IN ('rate_limited', '429') AND occurred_at >= ?1 AND occurred_at <= ?2
             GROUP BY 1, 2",
            params![from, to],
        )
        .await?;
    let mut out: Vec<KindTally> = Vec::new();
    while let Some(row) = rows.next().await? {
        let kind = RateLimitKind::parse(row.get::<Option<String>>(0)?.as_deref());
        let model: String = row.get::<Option<String>>(1)?.unwrap_or_default();
        let n = row.get::<Option<i64>>(2)?.unwrap_or(0).max(0) as u64;
        let at = match out.iter().position(|t| t.kind == kind) {
            Some(i) => i,
            None => {
                out.push(KindTally {
                    kind,
                    count: 0,
                    models: Vec::new(),
                });
                out.len() - 1
            }
        };
        let t = &mut out[at];
        t.count += n;
        match t.models.iter_mut().find(|m| m.model == model) {
            Some(m) => m.count += n,
            None => t.models.push(ModelTally { model, count: n }),
        }
    }
    for t in &mut out {
        t.models
            .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.model.cmp(&b.model)));
    }
    out.sort_by_key(|t| KINDS.iter().position(|k| *k == t.kind));
    Ok(out)
}

/// One line per kind: "per_day 3 (m1 ×2, m2 ×1)".
pub fn tally_line(t: &KindTally) -> String {
    let models: Vec<String> = t
        .models
        .iter()
        .map(|m| format!("{} ×{}", m.model, m.count))
        .collect();
    format!("{} {} ({})", t.kind.as_str(), t.count, models.join(", "))
}

/// The kind of a 429 / 402 answer from its status and body (`{"error":{"message", "metadata"}}`).
/// `None` for any other status.
pub fn classify(status: u16, body: &str) -> Option<RateLimitKind> {
    if status == 402 {
        return Some(RateLimitKind::Funding);
    }
    if status != 429 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let message = v
        .pointer("/error/message")
        .and_then(|m| m.as_str())
        .unwrap_or("");
    let meta = v.pointer("/error/metadata");
    let provider = meta
        .and_then(|m| m.get("provider_name").or_else(|| m.get("provider_code")))
        .is_some_and(|p| !p.is_null());
    // An upstream error carries the provider's own words in `metadata.raw`.
    let raw = meta
        .and_then(|m| m.get("raw"))
        .and_then(|r| r.as_str())
        .unwrap_or("");
    Some(classify_message(&format!("{message} {raw}"), provider))
}

/// The kind from a 429's message text (and whether the metadata names an upstream provider).
pub fn classify_message(message: &str, provider: bool) -> RateLimitKind {
    let m = message.to_ascii_lowercase();
    if m.contains("free-models-per-day") {
        RateLimitKind::PerDay
    } else if m.contains("free-models-per-min") {
        RateLimitKind::PerMinute
    } else if m.contains("limit_rpm/") || m.contains("high demand for") {
        RateLimitKind::HighDemand
    } else if provider || m.contains("upstream") || m.contains("provider returned error") {
        RateLimitKind::Upstream
    } else if m.contains("per day") {
        RateLimitKind::PerDay
    } else if m.contains("per minute") {
        RateLimitKind::PerMinute
    } else {
        RateLimitKind::Other
    }
}

/// The kind of an OpenRouter client error, when it is a rate limit or a 402.
pub fn classify_error(e: &OpenRouterError) -> Option<RateLimitKind> {
    match e {
        OpenRouterError::RateLimited { message, .. } => Some(classify_message(message, false)),
        OpenRouterError::Rejected { status: 402, .. } => Some(RateLimitKind::Funding),
        _ => None,
    }
}

/// Records a rate-limit event (no request counted; the budget's log lists it with its kind).
pub async fn record(
    store: &Store,
    agent_id: Option<i64>,
    model: &str,
    kind: RateLimitKind,
    retry_at: Option<DateTime<Utc>>,
    clock: &dyn Clock,
) -> Result<(), StoreError> {
    let detail = retry_at.map(|t| format!("retry after {}", clock::to_db(t)));
    store
        .conn()
        .execute(
            "INSERT INTO usage_events (agent_id, model, is_free, requests, status, occurred_at, source, rate_limit_kind, detail)
             VALUES (?1, ?2, 1, 0, 'rate_limited', ?3, 'nxr', ?4, ?5)",
            params![agent_id, model, clock::to_db(clock.now()), kind.as_str(), detail],
        )
        .await?;
    Ok(())
}

/// Records `e` when it is a rate limit; returns its kind.
pub async fn record_error(
    store: &Store,
    model: &str,
    e: &OpenRouterError,
    clock: &dyn Clock,
) -> Result<Option<RateLimitKind>, StoreError> {
    let Some(kind) = classify_error(e) else {
        return Ok(None);
    };
    record(store, None, model, kind, e.retry_at(), clock).await?;
    Ok(Some(kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> (u16, String) {
        let all: serde_json::Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/openrouter/errors.json"
        )))
        .unwrap_or_default();
        let e = &all[name];
        (
            e["status"].as_u64().unwrap_or(0) as u16,
            e["body"].to_string(),
        )
    }

    #[test]
    fn recorded_429_bodies_say_which_limit_ran_out() {
        for (name, want) in [
            (
                "free_models_per_day_under_10_credits",
                RateLimitKind::PerDay,
            ),
            ("free_models_per_day_high_balance", RateLimitKind::PerDay),
            ("free_models_per_min", RateLimitKind::PerMinute),
            ("per_model_high_demand_rpm", RateLimitKind::HighDemand),
            ("provider_returned_error_upstream", RateLimitKind::Upstream),
            ("documented_generic_429", RateLimitKind::Other),
        ] {
            let (status, body) = fixture(name);
            assert_eq!(classify(status, &body), Some(want), "{name}");
        }
        assert_eq!(classify(402, "{}"), Some(RateLimitKind::Funding));
        assert_eq!(classify(500, "{}"), None);
        assert_eq!(classify(429, "not json"), Some(RateLimitKind::Other));
    }
}
