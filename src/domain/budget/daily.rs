//! The per-agent per-day usage table (`usage_events` grouped by UTC day and agent) that `/budget`
//! lists and `/budget.csv` downloads, and its RFC 4180 CSV text.

use crate::domain::base::clock::{self, Clock};
use crate::domain::store::{Store, StoreError};
use chrono::Duration;
use libsql::params;
use serde::Serialize;

/// One agent's usage on one UTC day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayRow {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// The agent's name, or `(no agent)`.
    pub agent: String,
    pub requests: u64,
    pub free_requests: u64,
    pub rate_limited: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost_usd: f64,
}

/// The last `days` UTC days (today included), newest day first, then by agent name.
pub async fn daily_table(
    store: &Store,
    clock: &dyn Clock,
    days: u32,
) -> Result<Vec<DayRow>, StoreError> {
    let now = clock.now();
    let from =
        crate::domain::budget::day_start(now) - Duration::days(days.saturating_sub(1) as i64);
    let mut rows = store
        .conn()
        .query(
            "SELECT substr(u.occurred_at, 1, 10) AS day, COALESCE(a.name, '(no agent)'),
                    SUM(u.requests), SUM(CASE WHEN u.is_free = 1 THEN u.requests ELSE 0 END),
                    SUM(CASE WHEN u.status IN ('rate_limited', '429') THEN 1 ELSE 0 END),
                    SUM(u.prompt_tokens), SUM(u.completion_tokens), SUM(u.cost_usd)
             FROM usage_events u LEFT JOIN agents a ON a.id = u.agent_id
             WHERE u.occurred_at >= ?1 AND u.occurred_at <= ?2
             GROUP BY day, a.name ORDER BY day DESC, 2 ASC",
            params![clock::to_db(from), clock::to_db(now)],
        )
        .await?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        let n = |i: i32| -> Result<u64, StoreError> {
            Ok(row.get::<Option<i64>>(i)?.unwrap_or(0).max(0) as u64)
        };
        out.push(DayRow {
            day: row.get(0)?,
            agent: row.get(1)?,
            requests: n(2)?,
            free_requests: n(3)?,
            rate_limited: n(4)?,
            prompt_tokens: n(5)?,
            completion_tokens: n(6)?,
            cost_usd: row.get::<Option<f64>>(7)?.unwrap_or(0.0),
        });
    }
    Ok(out)
}

/// Prompt and completion tokens of every request in the last 30 days (the observed monthly volume).
pub async fn tokens_last_30d(store: &Store, clock: &dyn Clock) -> Result<(u64, u64), StoreError> {
    let now = clock.now();
    let mut rows = store
        .conn()
        .query(
            "SELECT SUM(prompt_tokens), SUM(completion_tokens) FROM usage_events WHERE occurred_at >= ?1 AND occurred_at <= ?2",
            params![clock::to_db(now - Duration::days(30)), clock::to_db(now)],
        )
        .await?;
    Ok(match rows.next().await? {
        Some(row) => (
            row.get::<Option<i64>>(0)?.unwrap_or(0).max(0) as u64,
            row.get::<Option<i64>>(1)?.unwrap_or(0).max(0) as u64,
        ),
        None => (0, 0),
    })
}

/// The header row of [`to_csv`].
pub const CSV_HEADER: [&str; 8] = [
    "day",
    "agent",
    "requests",
    "free_requests",
    "rate_limited",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
];

/// One RFC 4180 field: quoted when it holds a comma, quote, CR or LF (quotes doubled). A field that
/// a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) gets a leading `'`.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The table as RFC 4180 CSV: a header row, CRLF line ends.
pub fn to_csv(rows: &[DayRow]) -> String {
    let mut out = CSV_HEADER.join(",");
    out.push_str("\r\n");
    for r in rows {
        let cells = [
            field(&r.day),
            field(&r.agent),
            r.requests.to_string(),
            r.free_requests.to_string(),
            r.rate_limited.to_string(),
            r.prompt_tokens.to_string(),
            r.completion_tokens.to_string(),
            format!("{:.6}", r.cost_usd),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_commas_quotes_and_newlines_and_defuses_formulas() {
        let row = DayRow {
            day: "2026-11-29".into(),
            agent: "a, \"b\"\nc".into(),
            requests: 3,
            free_requests: 2,
            rate_limited: 1,
            prompt_tokens: 10,
            completion_tokens: 20,
            cost_usd: 0.5,
        };
        let csv = to_csv(&[
            row.clone(),
            DayRow {
                agent: "=cmd()".into(),
                ..row
            },
        ]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], CSV_HEADER.join(","));
        assert!(csv.contains("\"a, \"\"b\"\"\nc\""));
        assert!(csv.contains(",'=cmd(),"));
        assert!(csv.ends_with("\r\n"));
    }
}
