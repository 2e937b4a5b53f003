//! Which notifications nxr forwards to Telegram, and the one function every sender goes through.
//!
//! Each notification kind has a toggle, stored in the settings table as `telegram.forward.<kind>`
//! (`true` / `false`; missing = on). [`forward`] sends a text for a kind only when that kind is on
//! and a Telegram gateway is configured (`domain::notifications::telegram::gateway`), and honours a `retry_after`
//! Telegram asked for: until then nothing is sent (the setting `telegram.retry_not_before`). No
//! surface decides whether to send; they read and change the toggles through [`toggles`] and
//! [`set_toggles`].

use crate::domain::base::clock::{self, Clock};
use crate::domain::base::env::Env;
use crate::domain::notifications::telegram::{self, TelegramError};
use crate::domain::notifications::{
    self, KIND_AUTO_UPGRADED, KIND_BUDGET, KIND_CAPABILITY_LOST, KIND_EXPIRING, KIND_MODEL_GONE,
    KIND_NOW_PAID, KIND_ON_FALLBACK, KIND_UPGRADE, NewNotification,
};
use crate::domain::store::{Store, StoreError};
use serde::Serialize;

/// The settings key of a kind's toggle.
pub fn setting_key(kind: &str) -> String {
    format!("telegram.forward.{kind}")
}

/// Until when Telegram asked nxr not to send (a `retry_after`), as a DB timestamp.
pub const SETTING_RETRY_NOT_BEFORE: &str = "telegram.retry_not_before";

/// The kinds that can be forwarded, in the order the surfaces list them, with what each is about.
pub const KINDS: &[(&str, &str)] = &[
    (KIND_UPGRADE, "A better free model for an agent"),
    (
        KIND_AUTO_UPGRADED,
        "Auto-upgrade done: nxr moved an agent to a better free model",
    ),
    (KIND_EXPIRING, "An agent's model expires within a week"),
    (
        KIND_MODEL_GONE,
        "An agent's model was removed from the catalog",
    ),
    (KIND_NOW_PAID, "An agent's free model is paid now"),
    (
        KIND_CAPABILITY_LOST,
        "An agent's model lost a capability its role needs",
    ),
    (
        KIND_ON_FALLBACK,
        "An agent ran mostly on its fallback chain today",
    ),
    (
        KIND_BUDGET,
        "The free daily budget reached 90 % (agents' tasks queue at 100 %)",
    ),
    (
        notifications::KIND_PAPERCLIP_BUDGET,
        "Paperclip agents paused or resumed for the free budget",
    ),
];

/// One kind's toggle, as every surface shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Toggle {
    pub kind: String,
    pub label: String,
    /// Forwarded to Telegram.
    pub on: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("unknown notification kind {kind:?}; the kinds are: {known}")]
    UnknownKind { kind: String, known: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn known_kinds() -> String {
    KINDS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
}

/// The kind as nxr knows it (`kind` matched without regard to case and surrounding spaces).
pub fn known_kind(kind: &str) -> Result<&'static str, ForwardError> {
    let k = kind.trim();
    KINDS
        .iter()
        .map(|(known, _)| *known)
        .find(|known| known.eq_ignore_ascii_case(k))
        .ok_or_else(|| ForwardError::UnknownKind {
            kind: k.chars().filter(|c| !c.is_control()).take(60).collect(),
            known: known_kinds(),
        })
}

fn parse_on(v: &str) -> bool {
    !matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "false" | "off" | "0" | "no"
    )
}

/// Whether notifications of `kind` go to Telegram (on unless turned off).
pub async fn is_on(store: &Store, kind: &str) -> Result<bool, StoreError> {
    Ok(store
        .setting(&setting_key(kind))
        .await?
        .is_none_or(|v| parse_on(&v)))
}

/// Every kind's toggle, in [`KINDS`] order.
pub async fn toggles(store: &Store) -> Result<Vec<Toggle>, StoreError> {
    let mut out = Vec::with_capacity(KINDS.len());
    for (kind, label) in KINDS {
        out.push(Toggle {
            kind: (*kind).to_string(),
            label: (*label).to_string(),
            on: is_on(store, kind).await?,
        });
    }
    Ok(out)
}

/// Turns forwarding on or off for each `(kind, on)`, all in one transaction: an unknown kind
/// changes nothing. Returns every kind's toggle afterwards.
pub async fn set_toggles(
    store: &Store,
    changes: &[(String, bool)],
    clock: &dyn Clock,
) -> Result<Vec<Toggle>, ForwardError> {
    let mut checked = Vec::with_capacity(changes.len());
    for (kind, on) in changes {
        checked.push((setting_key(known_kind(kind)?), *on));
    }
    let at = clock::to_db(clock.now());
    store
        .in_transaction(|conn| async move {
            for (key, on) in checked {
                conn.execute(
                    "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    libsql::params![key, if on { "true" } else { "false" }, at.clone()],
                )
                .await?;
            }
            Ok(())
        })
        .await
        .map_err(StoreError::from)?;
    Ok(toggles(store).await?)
}

/// What became of one forward.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "detail", rename_all = "snake_case")]
pub enum Forwarded {
    Sent,
    /// The kind's toggle is off.
    TurnedOff,
    /// No bot token or no chat is configured.
    NotConfigured,
    /// Not sent; why (Telegram's description, or the `retry_after` still running).
    Failed(String),
}

impl Forwarded {
    /// `None` when nothing was attempted, else whether it was sent.
    pub fn attempt(&self) -> Option<Result<(), String>> {
        match self {
            Forwarded::Sent => Some(Ok(())),
            Forwarded::Failed(why) => Some(Err(why.clone())),
            Forwarded::TurnedOff | Forwarded::NotConfigured => None,
        }
    }
}

/// Sends `text` to Telegram for a notification of `kind`, when that kind is on and a gateway is
/// configured. A failure is logged and returned, never raised: nxr's own record of the
/// notification is what counts.
pub async fn forward(
    store: &Store,
    env: &Env,
    kind: &str,
    text: &str,
    clock: &dyn Clock,
) -> Result<Forwarded, StoreError> {
    if !is_on(store, kind).await? {
        return Ok(Forwarded::TurnedOff);
    }
    let Some(gw) = telegram::gateway(env, store).await? else {
        return Ok(Forwarded::NotConfigured);
    };
    let now = clock.now();
    if let Some(until) = store
        .setting(SETTING_RETRY_NOT_BEFORE)
        .await?
        .and_then(|v| clock::from_db(&v))
        .filter(|until| *until > now)
    {
        return Ok(Forwarded::Failed(format!(
            "Telegram asked nxr to wait until {} UTC before sending again",
            until.format("%Y-%m-%d %H:%M:%S")
        )));
    }
    match telegram::send(&gw, text).await {
        Ok(()) => Ok(Forwarded::Sent),
        Err(e) => {
            tracing::warn!(kind, error = %e, "telegram forward failed");
            if let TelegramError::RateLimited {
                retry_after: Some(secs),
                ..
            } = &e
            {
                let secs = i64::try_from(*secs).unwrap_or(i64::MAX).min(7 * 24 * 3600);
                let until = now + chrono::Duration::seconds(secs);
                store
                    .set_setting(SETTING_RETRY_NOT_BEFORE, &clock::to_db(until))
                    .await?;
            }
            Ok(Forwarded::Failed(e.to_string()))
        }
    }
}

/// The Telegram text of a notification.
pub fn text_of(n: &NewNotification) -> String {
    format!("nxr: {}\n{}", n.title, n.body)
}

/// Forwards a notification nxr just recorded (see [`forward`]).
pub async fn forward_notification(
    store: &Store,
    env: &Env,
    n: &NewNotification,
    clock: &dyn Clock,
) -> Result<Forwarded, StoreError> {
    forward(store, env, &n.kind, &text_of(n), clock).await
}

/// Records a notification ([`notifications::add`]) and forwards it; returns its id and what
/// became of the forward.
pub async fn record(
    store: &Store,
    env: &Env,
    new: NewNotification,
    clock: &dyn Clock,
) -> Result<(i64, Forwarded), StoreError> {
    let id = notifications::add(store, new.clone(), clock).await?;
    Ok((id, forward_notification(store, env, &new, clock).await?))
}

/// Records a notification unless one with `dedupe_key` exists ([`notifications::add_once`]) and
/// forwards it when it was recorded; `None` when it had been told before.
pub async fn record_once(
    store: &Store,
    env: &Env,
    new: NewNotification,
    dedupe_key: &str,
    clock: &dyn Clock,
) -> Result<Option<(i64, Forwarded)>, StoreError> {
    let Some(id) = notifications::add_once(store, new.clone(), dedupe_key, clock).await? else {
        return Ok(None);
    };
    Ok(Some((
        id,
        forward_notification(store, env, &new, clock).await?,
    )))
}
