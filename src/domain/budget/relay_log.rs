//! What the relay saw of each request, as `usage_events` rows with source `relay`, written when the
//! answer ends: the agent (by the profile name in the relay's path), the model that answered, the
//! tokens and cost from OpenRouter's `usage`, how long the request was held and how long the answer
//! took, and the outcome. The budget's counts, thresholds and projection read these rows like any
//! other; the Hermes state.db ingest skips calls that went through the relay (their billing URL is
//! the relay's), so nothing is counted twice. [`today`] sums what the relay did today for the
//! budget views: requests held (429s avoided), the waits, refusals and upstream limits.

use crate::domain::agents::hermes;
use crate::domain::base::clock::{self, Clock};
use crate::domain::base::roles::Role;
use crate::domain::catalog::ratelimit::RateLimitKind;
use crate::domain::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use libsql::params;
use serde::Serialize;

/// `usage_events.source` of rows the relay wrote.
pub const SOURCE_RELAY: &str = "relay";

/// How a request through the relay ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered 2xx to its end.
    Answered,
    /// Answered 2xx, but the client stopped reading before the end (OpenRouter counted it).
    ClientClosed,
    /// Answered 2xx, but the answer broke off upstream before its end (OpenRouter counted it).
    Broken,
    /// Answered 429 / 402 by OpenRouter.
    Limited(RateLimitKind),
    /// Refused by the relay itself (never sent): the day's count is used, or the wait ran out.
    Refused(RateLimitKind),
    /// Another status from OpenRouter, or no answer at all (status 0: not reached).
    Failed(u16),
}

impl Outcome {
    fn status(self) -> &'static str {
        match self {
            Outcome::Answered => "ok",
            Outcome::ClientClosed => "client_closed",
            Outcome::Broken => "broken",
            Outcome::Limited(_) | Outcome::Refused(_) => "rate_limited",
            Outcome::Failed(_) => "error",
        }
    }

    /// Whether OpenRouter took the request (and counts it against the day).
    fn counted(self) -> bool {
        matches!(
            self,
            Outcome::Answered | Outcome::ClientClosed | Outcome::Broken
        )
    }
}

/// What OpenRouter's answer said of itself: the model that answered and its `usage`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnswerUsage {
    pub model: Option<String>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost_usd: f64,
}

impl AnswerUsage {
    fn take(&mut self, v: &serde_json::Value) {
        if let Some(m) = v.get("model").and_then(|m| m.as_str())
            && !m.is_empty()
        {
            self.model = Some(m.to_string());
        }
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            let n = |k: &str| u.get(k).and_then(|x| x.as_u64()).unwrap_or(0);
            self.prompt_tokens = n("prompt_tokens");
            self.completion_tokens = n("completion_tokens");
            self.cost_usd = u
                .get("cost")
                .and_then(|c| c.as_f64())
                .filter(|c| c.is_finite() && *c >= 0.0)
                .unwrap_or(0.0);
        }
    }
}

/// Reads the model and `usage` from an answer: a JSON body, or the `data:` lines of a stream (the
/// last ones win; `text` may start mid-line when only the stream's tail was kept).
pub fn answer_usage(text: &str) -> AnswerUsage {
    let mut out = AnswerUsage::default();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text.trim()) {
        out.take(&v);
        return out;
    }
    for line in text.lines() {
        let Some(data) = line.strip_prefix("data:") else {
            continue;
        };
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(data.trim()) {
            out.take(&v);
        }
    }
    out
}

/// One request the relay handled.
#[derive(Debug, Clone)]
pub struct RelayRecord {
    /// The Hermes profile named in the relay's path.
    pub profile: String,
    /// The model the client asked for.
    pub model: String,
    pub free: bool,
    pub outcome: Outcome,
    pub usage: AnswerUsage,
    pub held_ms: u64,
    pub latency_ms: u64,
    /// When the answer ended (or the request was refused).
    pub at: DateTime<Utc>,
}

/// The agent whose Hermes profile is `profile`, if any.
pub async fn agent_for_profile(store: &Store, profile: &str) -> Result<Option<i64>, StoreError> {
    let mut rows = store
        .conn()
        .query("SELECT id, name, role FROM agents ORDER BY id", ())
        .await?;
    while let Some(row) = rows.next().await? {
        let (id, name, role): (i64, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let role: Role = role.parse().unwrap_or(Role::Custom);
        let slug = match role {
            Role::Hermes => Ok(hermes::ROOT_PROFILE.to_string()),
            _ => hermes::profile_slug(&name),
        };
        if slug.is_ok_and(|s| s == profile) {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Writes one request as a `usage_events` row (source `relay`).
pub async fn record(store: &Store, r: &RelayRecord) -> Result<(), StoreError> {
    let agent_id = agent_for_profile(store, &r.profile).await?;
    let model = r.usage.model.clone().unwrap_or_else(|| r.model.clone());
    let kind = match r.outcome {
        Outcome::Limited(k) | Outcome::Refused(k) => Some(k.as_str()),
        _ => None,
    };
    let detail = match r.outcome {
        Outcome::Refused(_) => format!("refused by the relay (never sent); profile {}", r.profile),
        Outcome::Failed(0) => format!("OpenRouter not reached; profile {}", r.profile),
        Outcome::Failed(s) => format!("HTTP {s}; profile {}", r.profile),
        Outcome::ClientClosed => format!("the client closed the answer; profile {}", r.profile),
        Outcome::Broken => format!("the answer broke off upstream; profile {}", r.profile),
        _ => format!("profile {}", r.profile),
    };
    store
        .conn()
        .execute(
            "INSERT INTO usage_events (agent_id, model, is_free, requests, prompt_tokens, completion_tokens,
               cost_usd, status, occurred_at, source, rate_limit_kind, detail, held_ms, latency_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                agent_id,
                model,
                i64::from(r.free),
                i64::from(r.outcome.counted()),
                r.usage.prompt_tokens as i64,
                r.usage.completion_tokens as i64,
                r.usage.cost_usd,
                r.outcome.status(),
                clock::to_db(r.at),
                SOURCE_RELAY,
                kind,
                detail,
                r.held_ms as i64,
                r.latency_ms as i64
            ],
        )
        .await?;
    Ok(())
}

/// What the relay did today (UTC), for the budget views.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RelayToday {
    /// Requests the relay forwarded that OpenRouter took.
    pub forwarded: u64,
    /// Of those, held for a slot of the account's minute first: each one a 429 avoided.
    pub held: u64,
    /// The time they were held, in total and the longest, in milliseconds.
    pub held_ms_total: u64,
    pub held_ms_max: u64,
    /// Refused by the relay (the day's count used, or the wait bound passed).
    pub refused: u64,
    /// Answered 429 / 402 by OpenRouter all the same (another limit: one model's demand, funding…).
    pub upstream_limited: u64,
    /// Answers the client stopped reading before the end.
    pub client_closed: u64,
}

impl RelayToday {
    /// Nothing went through the relay today.
    pub fn is_empty(&self) -> bool {
        *self == RelayToday::default()
    }

    /// The one line every surface shows, e.g. "30 sent, 12 held for a slot of the minute (12
    /// 429s avoided), waited 41.2 s in all, longest 5.9 s; 0 refused; 0 limited upstream".
    pub fn summary(&self) -> String {
        let secs = |ms: u64| format!("{:.1} s", ms as f64 / 1000.0);
        let mut out = format!(
            "{} sent, {} held for a slot of the minute ({} 429s avoided), waited {} in all, longest {}; {} refused by the relay; {} limited upstream",
            self.forwarded,
            self.held,
            self.held,
            secs(self.held_ms_total),
            secs(self.held_ms_max),
            self.refused,
            self.upstream_limited
        );
        if self.client_closed > 0 {
            out.push_str(&format!("; {} closed by the client", self.client_closed));
        }
        out
    }
}

/// Sums today's relay rows (from 00:00 UTC of `clock.now()`).
pub async fn today(store: &Store, clock: &dyn Clock) -> Result<RelayToday, StoreError> {
    let start = clock::to_db(super::day_start(clock.now()));
    let mut rows = store
        .conn()
        .query(
            "SELECT
               SUM(CASE WHEN requests > 0 THEN 1 ELSE 0 END),
               SUM(CASE WHEN requests > 0 AND held_ms > 0 THEN 1 ELSE 0 END),
               SUM(CASE WHEN requests > 0 THEN COALESCE(held_ms, 0) ELSE 0 END),
               MAX(CASE WHEN requests > 0 THEN COALESCE(held_ms, 0) ELSE 0 END),
               SUM(CASE WHEN detail LIKE 'refused by the relay%' THEN 1 ELSE 0 END),
               SUM(CASE WHEN status = 'rate_limited' AND detail NOT LIKE 'refused by the relay%' THEN 1 ELSE 0 END),
               SUM(CASE WHEN status = 'client_closed' THEN 1 ELSE 0 END)
             FROM usage_events WHERE source = ?1 AND occurred_at >= ?2",
            params![SOURCE_RELAY, start],
        )
        .await?;
    let Some(row) = rows.next().await? else {
        return Ok(RelayToday::default());
    };
    let n = |i: i32| -> Result<u64, StoreError> {
        Ok(row.get::<Option<i64>>(i)?.unwrap_or(0).max(0) as u64)
    };
    Ok(RelayToday {
        forwarded: n(0)?,
        held: n(1)?,
        held_ms_total: n(2)?,
        held_ms_max: n(3)?,
        refused: n(4)?,
        upstream_limited: n(5)?,
        client_closed: n(6)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_is_read_from_a_json_answer_and_from_a_stream_tail() {
        let json = r#"{"id":"x","model":"openai/gpt-oss-20b:free","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"cost":0.0}}"#;
        let u = answer_usage(json);
        assert_eq!(u.model.as_deref(), Some("openai/gpt-oss-20b:free"));
        assert_eq!((u.prompt_tokens, u.completion_tokens), (12, 3));
        let sse = "tent\":\"po\"}}]}\n\ndata: {\"model\":\"m/a\",\"choices\":[]}\n\n: OPENROUTER PROCESSING\n\ndata: {\"model\":\"m/a\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"cost\":0.0012}}\n\ndata: [DONE]\n\n";
        let u = answer_usage(sse);
        assert_eq!(u.model.as_deref(), Some("m/a"));
        assert_eq!((u.prompt_tokens, u.completion_tokens), (5, 2));
        assert!((u.cost_usd - 0.0012).abs() < 1e-12);
        assert_eq!(answer_usage("not json at all"), AnswerUsage::default());
    }
}
