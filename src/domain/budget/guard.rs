//! The free-tier guard: thresholds on the one shared daily bucket, each firing once per UTC day —
//! 70 %: a warning notification; 90 %: also a Telegram message when the gateway is configured and
//! the `budget` kind is forwarded (`domain::notifications::telegram_forward`; a Telegram error is logged and told as
//! a notification, never fatal); 100 %: a notification that
//! agents' tasks now queue until the reset (`domain::budget::queue`).

use crate::domain::base::clock::Clock;
use crate::domain::base::env::Env;
use crate::domain::budget::{self, Budget};
use crate::domain::notifications::telegram_forward::{self, Forwarded};
use crate::domain::notifications::{self, KIND_BUDGET, NewNotification};
use crate::domain::store::{Store, StoreError};
use serde::Serialize;

pub const THRESHOLDS: [u64; 3] = [70, 90, 100];

/// A threshold that fired now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub threshold: u64,
    pub day: String,
    pub used: u64,
    pub limit: u64,
    /// For 90 %: `Some(Ok)` sent, `Some(Err(why))` failed, `None` no Telegram gateway configured or
    /// the `budget` kind is not forwarded.
    pub telegram: Option<Result<(), String>>,
}

/// The Telegram text at 90 %.
pub fn telegram_text(used: u64, limit: u64, resets_at: &str) -> String {
    format!(
        "nxr: {used} of {limit} free OpenRouter requests used today ({} %). The bucket resets at {} UTC; at 100 % agents' tasks wait in `nxr queue`.",
        used * 100 / limit.max(1),
        resets_at.get(11..16).unwrap_or("00:00")
    )
}

fn note(threshold: u64, b: &Budget) -> NewNotification {
    let (title, body) = match threshold {
        100 => (
            "Free budget used up for today".to_string(),
            format!(
                "{} of {} free requests used today (UTC). Agents' tasks now queue (`nxr queue`) and run after the reset at {}.",
                b.used_today, b.daily_limit, b.resets_at
            ),
        ),
        t => (
            format!("Free budget at {t} %"),
            format!(
                "{} of {} free requests used today (UTC); projected {} by midnight. Resets at {}.",
                b.used_today, b.daily_limit, b.projected_at_midnight, b.resets_at
            ),
        ),
    };
    NewNotification {
        kind: KIND_BUDGET.into(),
        title,
        body,
        agent_id: None,
        payload: Some(format!(
            "{{\"threshold\":{threshold},\"used\":{},\"limit\":{}}}",
            b.used_today, b.daily_limit
        )),
    }
}

/// Fires the thresholds `b` has crossed that have not fired today.
pub async fn check(
    store: &Store,
    env: &Env,
    b: &Budget,
    clock: &dyn Clock,
) -> Result<Vec<Alert>, StoreError> {
    let day = budget::day_start(clock.now())
        .format("%Y-%m-%d")
        .to_string();
    let mut out = Vec::new();
    if b.daily_limit == 0 {
        return Ok(out);
    }
    for t in THRESHOLDS {
        if b.used_today * 100 < t * b.daily_limit {
            continue;
        }
        let key = format!("budget:{t}:{day}");
        // A read first: a threshold already told costs no write.
        if notifications::exists(store, &key).await? {
            continue;
        }
        if notifications::add_once(store, note(t, b), &key, clock)
            .await?
            .is_none()
        {
            continue;
        }
        let mut alert = Alert {
            threshold: t,
            day: day.clone(),
            used: b.used_today,
            limit: b.daily_limit,
            telegram: None,
        };
        if t == 90 {
            alert.telegram = send_telegram(store, env, b, clock).await?;
        }
        out.push(alert);
    }
    Ok(out)
}

async fn send_telegram(
    store: &Store,
    env: &Env,
    b: &Budget,
    clock: &dyn Clock,
) -> Result<Option<Result<(), String>>, StoreError> {
    let text = telegram_text(b.used_today, b.daily_limit, &b.resets_at);
    let sent = telegram_forward::forward(store, env, KIND_BUDGET, &text, clock).await?;
    if let Forwarded::Failed(why) = &sent {
        notifications::add(
            store,
            NewNotification {
                kind: KIND_BUDGET.into(),
                title: "The 90 % Telegram message was not sent".into(),
                body: why.clone(),
                agent_id: None,
                payload: None,
            },
            clock,
        )
        .await?;
    }
    Ok(sent.attempt())
}
