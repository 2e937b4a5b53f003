//! Telegram Bot API: `POST {base}/bot<token>/sendMessage`. The token is Hermes' `TELEGRAM_BOT_TOKEN`
//! (in `$HERMES_HOME/.env`); the chat is Hermes' `TELEGRAM_HOME_CHANNEL`, else the first of
//! `TELEGRAM_ALLOWED_USERS`, else nxr's setting `telegram.chat_id`. The base URL is
//! `NXR_TELEGRAM_API_URL`. The token is never logged or shown.

use crate::domain::env::Env;
use crate::domain::secrets;
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
        "Telegram refused the message (HTTP {status}: {message}); check TELEGRAM_BOT_TOKEN in Hermes' .env and the chat id"
    )]
    Refused { status: u16, message: String },
}

pub fn valid_chat_id(v: &str) -> bool {
    let v = v.trim();
    let digits = v.strip_prefix('-').unwrap_or(v);
    (!digits.is_empty() && digits.len() <= 20 && digits.chars().all(|c| c.is_ascii_digit()))
        || (v.starts_with('@') && v.len() > 1 && v.len() <= 64)
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

/// Sends `text` to the gateway's chat.
pub async fn send(gw: &Gateway, text: &str) -> Result<(), TelegramError> {
    let url = format!("{}/bot{}/sendMessage", gw.api_url, gw.token);
    let shown = format!("{}/bot…/sendMessage", gw.api_url);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| TelegramError::Unreachable {
            url: shown.clone(),
            reason: e.to_string(),
        })?;
    let resp = client
        .post(&url)
        .json(&serde_json::json!({ "chat_id": gw.chat_id, "text": text }))
        .send()
        .await
        .map_err(|e| TelegramError::Unreachable {
            url: shown.clone(),
            // reqwest's message may carry the URL, and so the token.
            reason: e.to_string().replace(&gw.token, "…"),
        })?;
    let status = resp.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(());
    }
    let body = resp.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("description")
                .and_then(|d| d.as_str())
                .map(String::from)
        })
        .unwrap_or_else(|| "no description".into())
        .replace(&gw.token, "…")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    Err(TelegramError::Refused { status, message })
}
