//! Telegram Bot API: `POST {base}/bot<token>/sendMessage`. The token is Hermes' `TELEGRAM_BOT_TOKEN`
//! (in `$HERMES_HOME/.env`); the chat is Hermes' `TELEGRAM_HOME_CHANNEL`, else the first of
//! `TELEGRAM_ALLOWED_USERS`, else nxr's setting `telegram.chat_id`. The base URL is
//! `NXR_TELEGRAM_API_URL`. The token is never logged or shown. A message is sent only when the Bot API
//! answers `"ok": true`; whether a notification is sent at all is `domain::notifications::telegram_forward`'s call.

use crate::domain::base::env::Env;
use crate::domain::store::secrets;
use crate::domain::store::{Store, StoreError};
use std::time::Duration;

pub const SETTING_CHAT_ID: &str = "telegram.chat_id";

/// Where to send: the bot token and the chat.
#[derive(Clone)]
pub struct Gateway {
    token: String,
    pub chat_id: String,
    pub api_url: String,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("chat_id", &self.chat_id)
            .field("api_url", &self.api_url)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    #[error(
        "cannot reach the Telegram Bot API at {url} ({reason}); check NXR_TELEGRAM_API_URL or the network"
    )]
    Unreachable { url: String, reason: String },
    #[error(
        "Telegram refused the message (error {status}: {message}); check TELEGRAM_BOT_TOKEN in Hermes' .env and the chat id"
    )]
    Refused {
        /// The Bot API's `error_code`, else the HTTP status.
        status: u16,
        message: String,
    },
    #[error(
        "Telegram is rate-limiting the bot ({message}); {}",
        match retry_after {
            Some(s) => format!("it accepts messages again in {s} s, nxr sends nothing to it before then"),
            None => "try again later".to_string(),
        }
    )]
    RateLimited {
        retry_after: Option<u64>,
        message: String,
    },
    #[error(
        "Telegram's answer (HTTP {status}) is not a Bot API reply, so the message may not have been sent; check NXR_TELEGRAM_API_URL (a proxy in between?)"
    )]
    Unreadable { status: u16 },
}

/// A chat id Telegram accepts: a number (negative for groups and channels) or a public @username
/// (5 to 32 letters, digits or underscores).
pub fn valid_chat_id(v: &str) -> bool {
    let v = v.trim();
    let digits = v.strip_prefix('-').unwrap_or(v);
    (!digits.is_empty() && digits.len() <= 20 && digits.chars().all(|c| c.is_ascii_digit()))
        || v.strip_prefix('@').is_some_and(|name| {
            (5..=32).contains(&name.len())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// The configured gateway, or `None` when the token or a chat id is missing.
pub async fn gateway(env: &Env, store: &Store) -> Result<Option<Gateway>, StoreError> {
    let file = secrets::env_file(env);
    let var = |name: &str| {
        secrets::read_var(&file, name)
            .ok()
            .flatten()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let Some(token) = var("TELEGRAM_BOT_TOKEN") else {
        return Ok(None);
    };
    let chat = var("TELEGRAM_HOME_CHANNEL")
        .or_else(|| {
            var("TELEGRAM_ALLOWED_USERS").and_then(|v| {
                v.split(',')
                    .map(str::trim)
                    .find(|s| !s.is_empty())
                    .map(String::from)
            })
        })
        .filter(|c| valid_chat_id(c));
    let chat = match chat {
        Some(c) => Some(c),
        None => store.setting(SETTING_CHAT_ID).await?,
    };
    Ok(chat.map(|chat_id| Gateway {
        token,
        chat_id,
        api_url: env.telegram_api_url.clone(),
    }))
}

/// The longest `retry_after` [`send`] waits out itself before trying once more; a longer one is
/// returned as [`TelegramError::RateLimited`] for the caller to honour.
pub const MAX_INLINE_RETRY: Duration = Duration::from_secs(3);

/// The most of Telegram's answer nxr reads (a Bot API reply is a few hundred bytes).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Sends `text` to the gateway's chat. Sent means the Bot API answered `"ok": true`; any other
/// answer (an HTTP 200 from a proxy with `"ok": false` too) is an error carrying Telegram's
/// description. A 429 whose `retry_after` is at most [`MAX_INLINE_RETRY`] is waited out and tried
/// once more.
pub async fn send(gw: &Gateway, text: &str) -> Result<(), TelegramError> {
    match send_once(gw, text).await {
        Err(TelegramError::RateLimited {
            retry_after: Some(secs),
            ..
        }) if Duration::from_secs(secs) <= MAX_INLINE_RETRY => {
            tokio::time::sleep(Duration::from_secs(secs)).await;
            send_once(gw, text).await
        }
        other => other,
    }
}

async fn send_once(gw: &Gateway, text: &str) -> Result<(), TelegramError> {
    let url = format!("{}/bot{}/sendMessage", gw.api_url, gw.token);
    let shown = format!("{}/bot…/sendMessage", gw.api_url);
    let unreachable = |e: reqwest::Error| TelegramError::Unreachable {
        url: shown.clone(),
        // reqwest's message may carry the URL, and so the token.
        reason: e.to_string().replace(&gw.token, "…"),
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(unreachable)?;
    let mut resp = client
        .post(&url)
        .json(&serde_json::json!({ "chat_id": gw.chat_id, "text": text }))
        .send()
        .await
        .map_err(unreachable)?;
    let status = resp.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(unreachable)? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_ANSWER_BYTES {
            break;
        }
    }
    judge(status, &body, &gw.token)
}

/// What a `sendMessage` answer means: `Ok` only for a Bot API reply with `"ok": true` on a 2xx.
fn judge(status: u16, body: &[u8], token: &str) -> Result<(), TelegramError> {
    let answer = serde_json::from_slice::<serde_json::Value>(body).ok();
    let ok = answer.as_ref().and_then(|v| v.get("ok")?.as_bool());
    if ok == Some(true) && (200..300).contains(&status) {
        return Ok(());
    }
    let Some(answer) = answer.filter(|_| ok.is_some()) else {
        return Err(TelegramError::Unreadable { status });
    };
    let message = clean(
        answer
            .get("description")
            .and_then(|d| d.as_str())
            .unwrap_or("no description"),
        token,
    );
    let code = answer
        .get("error_code")
        .and_then(|c| c.as_u64())
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| (100..600).contains(c))
        .unwrap_or(status);
    let retry_after = answer
        .get("parameters")
        .and_then(|p| p.get("retry_after"))
        .and_then(|r| r.as_u64());
    if code == 429 || status == 429 || retry_after.is_some() {
        return Err(TelegramError::RateLimited {
            retry_after,
            message,
        });
    }
    Err(TelegramError::Refused {
        status: code,
        message,
    })
}

/// Telegram's description as nxr shows it: no token, no control characters, at most 200 characters.
fn clean(s: &str, token: &str) -> String {
    s.replace(token, "…")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}
