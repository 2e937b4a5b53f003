//! The key half of an upgrade: validate the stored (or a given) OpenRouter key with `GET /key`, read the
//! balance from `GET /credits` (management keys only; an ordinary key gets 403 there, and what `/key`
//! says is used instead), and work out the free-model daily limit the account has.

use super::UpgradeError;
use crate::domain::base::env::Env;
use crate::domain::budget;
use crate::domain::catalog::openrouter::{
    Credits, KeyInfo, OpenRouterClient, OpenRouterError, RetryPolicy, Timeouts,
};
use crate::domain::onboarding::{self, OnboardingError};
use crate::domain::store::Store;
use crate::domain::store::secrets;
use serde::Serialize;

/// Where the credits-purchased figure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditsFrom {
    /// `GET /credits` (`total_credits`).
    Credits,
    /// `/credits` refused the key: `/key`'s `usage` (credits spent had to be bought), a lower bound.
    KeyUsage,
}

/// Where the free-model daily limit came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FreeLimitFrom {
    /// `/key`'s own `free_model_daily_requests.limit`.
    KeyReport,
    /// The documented rule: 1000 a day at ≥ 10 credits purchased, else 50.
    CreditsPurchased,
}

/// What OpenRouter says of the key, as every surface shows it. Never holds the key itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyStatus {
    /// OpenRouter's own masked form of the key.
    pub label: String,
    pub is_free_tier: bool,
    /// Credits spent with this key (USD).
    pub usage: f64,
    /// The key's spending limit (USD); `None` = unlimited.
    pub limit: Option<f64>,
    pub limit_remaining: Option<f64>,
    /// Credits left: `total_credits - total_usage` from `/credits`, else the key's `limit_remaining`.
    pub balance: Option<f64>,
    pub credits_purchased: Option<f64>,
    pub credits_from: CreditsFrom,
    /// Why `/credits` was not used, when it was not.
    pub credits_note: Option<String>,
    pub free_daily_limit: u64,
    pub free_limit_from: FreeLimitFrom,
}

/// The status from `/key` and, when it answered, `/credits` (pure).
pub fn key_status(info: &KeyInfo, credits: Option<&Credits>) -> KeyStatus {
    let (credits_purchased, credits_from, balance) = match credits {
        Some(c) => (
            Some(c.total_credits),
            CreditsFrom::Credits,
            Some(c.total_credits - c.total_usage),
        ),
        None => (
            (info.usage > 0.0).then_some(info.usage),
            CreditsFrom::KeyUsage,
            info.limit_remaining,
        ),
    };
    let (free_daily_limit, free_limit_from) = match info.free_model_daily_requests {
        Some(f) => (f.limit, FreeLimitFrom::KeyReport),
        None => (
            budget::free_daily_limit(credits_purchased),
            FreeLimitFrom::CreditsPurchased,
        ),
    };
    KeyStatus {
        label: info.label.clone(),
        is_free_tier: info.is_free_tier,
        usage: info.usage,
        limit: info.limit,
        limit_remaining: info.limit_remaining,
        balance,
        credits_purchased,
        credits_from,
        credits_note: None,
        free_daily_limit,
        free_limit_from,
    }
}

/// Why `/credits` gave no balance, in the words every surface shows: only a 403 means the key is
/// not a management key; a 5xx is OpenRouter's trouble; anything else says what happened.
pub fn credits_note(e: &OpenRouterError) -> String {
    match e {
        OpenRouterError::Unauthorized { status: 403, .. } => {
            "/credits needs a management key".into()
        }
        OpenRouterError::ServerError { status, .. } => {
            format!(
                "/credits answered HTTP {status}, a server error at OpenRouter; try again later"
            )
        }
        OpenRouterError::Malformed { what } => format!("/credits answered {what}"),
        other => format!("/credits was not read: {other}"),
    }
}

/// True when a key is stored in `$HERMES_HOME/.env` (no network).
pub fn has_stored_key(env: &Env) -> bool {
    matches!(secrets::openrouter_key(env), Ok(Some(_)))
}

/// Validates `given` (refused when empty; then, when `store_given`, stores it exactly as `nxr config set openrouter-key`
/// does) or else the stored key, reads the balance, and records what the budget needs (the free daily
/// limit, credits purchased). A refused key, a network error or a 5xx is an error and nothing is
/// stored or changed. A dry run passes `store_given = false` and records nothing.
pub async fn check_key(
    store: &Store,
    env: &Env,
    given: Option<&str>,
    store_given: bool,
    timeouts: Timeouts,
) -> Result<KeyStatus, UpgradeError> {
    let map = |e: OnboardingError| match e {
        OnboardingError::InvalidKey(e) => UpgradeError::InvalidKey(e.to_string()),
        OnboardingError::KeyCheck(source) => UpgradeError::KeyCheck {
            url: env.openrouter_url.clone(),
            source,
        },
        other => UpgradeError::Other(other.to_string()),
    };
    // A key given empty is refused, never taken as "use the stored one".
    let given = given.map(str::trim);
    if given.is_some_and(str::is_empty) {
        return Err(UpgradeError::EmptyKey);
    }
    let (key, info) = match given {
        Some(k) if store_given => (
            k.to_string(),
            onboarding::store_key(env, store, k, timeouts)
                .await
                .map_err(map)?,
        ),
        Some(k) => (
            k.to_string(),
            onboarding::validate_key(env, k, timeouts)
                .await
                .map_err(map)?,
        ),
        None => {
            let stored = secrets::openrouter_key(env)
                .map_err(|e| UpgradeError::Other(e.to_string()))?
                .ok_or(UpgradeError::NoKey)?;
            let info = onboarding::validate_key(env, &stored, timeouts)
                .await
                .map_err(map)?;
            if store_given {
                budget::record_key_limits(store, &info).await?;
            }
            (stored, info)
        }
    };
    let client = OpenRouterClient::from_env(env, Some(key))
        .with_timeouts(timeouts)
        .with_retry(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        });
    let (credits, note) = match client.credits().await {
        Ok(c) => (Some(c), None),
        Err(e) => (None, Some(credits_note(&e))),
    };
    let mut status = key_status(&info, credits.as_ref());
    status.credits_note = note;
    if let (true, CreditsFrom::Credits, Some(c)) =
        (store_given, status.credits_from, status.credits_purchased)
    {
        store
            .set_setting(budget::SETTING_CREDITS_PURCHASED, &c.to_string())
            .await?;
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::openrouter::FreeModelDailyRequests;

    fn info(usage: f64) -> KeyInfo {
        serde_json::from_value(serde_json::json!({"label": "sk-or-v1-x...y", "usage": usage}))
            .expect("key info")
    }

    #[test]
    fn free_limit_follows_the_key_report_then_credits_purchased() {
        assert_eq!(key_status(&info(5.0), None).free_daily_limit, 50);
        assert_eq!(key_status(&info(12.0), None).free_daily_limit, 1000);
        let c = Credits {
            total_credits: 12.0,
            total_usage: 2.5,
        };
        let s = key_status(&info(0.0), Some(&c));
        assert_eq!(s.free_daily_limit, 1000);
        assert_eq!(s.balance, Some(9.5));
        assert_eq!(s.credits_from, CreditsFrom::Credits);
        let mut reported = info(0.0);
        reported.free_model_daily_requests = Some(FreeModelDailyRequests {
            used: 1,
            limit: 200,
            remaining: 199,
        });
        let s = key_status(&reported, Some(&c));
        assert_eq!(
            (s.free_daily_limit, s.free_limit_from),
            (200, FreeLimitFrom::KeyReport)
        );
    }
}
