//! `nxr config set|get|unset`.

use super::Ctx;
use crate::domain::credentials;
use crate::domain::onboarding;
use crate::domain::openrouter::{OpenRouterError, Timeouts};
use crate::domain::secrets;
use crate::domain::spread;
use clap::Subcommand;
use color_eyre::Result;
use color_eyre::eyre::bail;
use std::io::Read;

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Set a value, e.g. `nxr config set openrouter-key sk-or-…` (`-` reads the value from stdin).
    Set { key: String, value: String },
    /// Show a value (secrets are masked).
    Get { key: String },
    /// Remove a value, e.g. `nxr config unset openrouter-key` (from every agent's profile too).
    Unset { key: String },
}

/// The keys `nxr config` knows.
const KEYS: &str = "openrouter-key, auto-upgrade-free-models, scan-interval-hours, telegram-chat-id, \
allow-stealth, fallback-count, spread_default_agents";

/// A plain setting: its settings key, the check that gives the stored form of a value, and what a
/// valid value looks like.
type PlainSetting = (&'static str, fn(&str) -> Option<String>, &'static str);

/// Plain settings by their `nxr config` name.
fn plain_setting(name: &str) -> Option<PlainSetting> {
    use crate::domain::scanner;
    match name {
        "auto-upgrade-free-models" => Some((
            scanner::SETTING_AUTO_UPGRADE,
            |v| scanner::parse_bool(v).map(|b| b.to_string()),
            "true or false",
        )),
        "scan-interval-hours" => Some((
            scanner::SETTING_SCAN_INTERVAL_HOURS,
            |v| scanner::parse_hours(v).map(|h| h.to_string()),
            "a number of hours above 0, e.g. 6",
        )),
        "fallback-count" => Some((
            crate::domain::fallbacks::SETTING_FALLBACK_COUNT,
            |v| crate::domain::fallbacks::parse_count(v).map(|n| n.to_string()),
            "a whole number from 0 (no fallback chains) to 10, e.g. 3",
        )),
        "allow-stealth" => Some((
            crate::domain::rescore::SETTING_ALLOW_STEALTH,
            |v| scanner::parse_bool(v).map(|b| b.to_string()),
            "true or false",
        )),
        "telegram-chat-id" => Some((
            crate::domain::telegram::SETTING_CHAT_ID,
            |v| crate::domain::telegram::valid_chat_id(v).then(|| v.trim().to_string()),
            "a Telegram chat id, e.g. 123456789 or -1001234567890",
        )),
        _ => None,
    }
}

async fn set_plain(ctx: &Ctx, name: &str, value: &str) -> Result<bool> {
    let Some((key, check, expected)) = plain_setting(name) else {
        return Ok(false);
    };
    let Some(v) = check(value) else {
        bail!(
            "{name} = {:?} is not valid: expected {expected}; nothing was changed",
            value.chars().take(40).collect::<String>()
        );
    };
    let store = ctx.store().await?;
    store.set_setting(key, &v).await?;
    if ctx.json {
        super::print_json(&serde_json::json!({ "key": name, "value": v }))?;
    } else {
        outln!("{name}: {v}");
    }
    Ok(true)
}

async fn get_plain(ctx: &Ctx, name: &str) -> Result<bool> {
    let Some((key, _, _)) = plain_setting(name) else {
        return Ok(false);
    };
    let store = ctx.store().await?;
    let v = store.setting(key).await?;
    if ctx.json {
        super::print_json(&serde_json::json!({ "key": name, "value": v }))?;
    } else {
        outln!("{name}: {}", v.as_deref().unwrap_or("(default)"));
    }
    Ok(true)
}

pub async fn run(ctx: &Ctx, cmd: ConfigCmd) -> Result<()> {
    match &cmd {
        ConfigCmd::Set { key, value } if set_plain(ctx, key, value).await? => return Ok(()),
        ConfigCmd::Get { key } if get_plain(ctx, key).await? => return Ok(()),
        _ => {}
    }
    match cmd {
        ConfigCmd::Set { key, value } => match key.as_str() {
            "openrouter-key" => set_openrouter_key(ctx, &value).await,
            spread::SETTING_SPREAD => set_spread(ctx, &value).await,
            other => bail!("unknown setting {other:?}; known settings: {KEYS}"),
        },
        ConfigCmd::Unset { key } => match key.as_str() {
            "openrouter-key" => {
                let store = ctx.store().await?;
                let had = credentials::remove_openrouter_key(&ctx.env, &store).await?;
                if ctx.json {
                    return super::print_json(&serde_json::json!({
                        "key": "openrouter-key",
                        "set": false,
                        "removed": had,
                    }));
                }
                if had {
                    outln!(
                        "openrouter-key: removed from {} and every agent's profile",
                        secrets::env_file(&ctx.env).display()
                    );
                } else {
                    outln!("openrouter-key: was not set; every agent's profile is in step");
                }
                Ok(())
            }
            other => bail!("unknown setting {other:?}; known settings: {KEYS}"),
        },
        ConfigCmd::Get { key } => match key.as_str() {
            "openrouter-key" => {
                let stored = secrets::openrouter_key(&ctx.env)?;
                let masked = stored.as_deref().map(secrets::mask);
                if ctx.json {
                    return super::print_json(&serde_json::json!({
                        "key": "openrouter-key",
                        "set": masked.is_some(),
                        "value": masked,
                        "file": secrets::env_file(&ctx.env).display().to_string(),
                    }));
                }
                match masked {
                    Some(m) => outln!("openrouter-key: {m}"),
                    None => outln!(
                        "openrouter-key: not set (add one with `nxr config set openrouter-key <key>`)"
                    ),
                }
                Ok(())
            }
            spread::SETTING_SPREAD => {
                let store = ctx.store().await?;
                let on = spread::enabled(&store).await?;
                if ctx.json {
                    return super::print_json(
                        &serde_json::json!({ "key": spread::SETTING_SPREAD, "value": on }),
                    );
                }
                outln!("{}: {on}", spread::SETTING_SPREAD);
                Ok(())
            }
            other => bail!("unknown setting {other:?}; known settings: {KEYS}"),
        },
    }
}

async fn set_spread(ctx: &Ctx, value: &str) -> Result<()> {
    let Some(on) = spread::parse_setting(value) else {
        bail!(
            "{} takes true or false, not {:?}",
            spread::SETTING_SPREAD,
            value
                .chars()
                .filter(|c| !c.is_control())
                .take(40)
                .collect::<String>()
        );
    };
    let store = ctx.store().await?;
    store
        .set_setting(spread::SETTING_SPREAD, if on { "true" } else { "false" })
        .await?;
    if ctx.json {
        return super::print_json(
            &serde_json::json!({ "key": spread::SETTING_SPREAD, "value": on }),
        );
    }
    outln!(
        "{}: {on} (applies the next time the default agents are assigned, e.g. `nxr init`)",
        spread::SETTING_SPREAD
    );
    Ok(())
}

async fn set_openrouter_key(ctx: &Ctx, value: &str) -> Result<()> {
    let key = if value == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s.trim().to_string()
    } else {
        value.trim().to_string()
    };
    let store = ctx.store().await?;
    match onboarding::store_key(&ctx.env, &store, &key, Timeouts::default()).await {
        Ok(_) => {}
        // init's wording suggests `nxr init --free`; here the key simply has to wait.
        Err(onboarding::OnboardingError::KeyCheck(e)) => {
            let url = &ctx.env.openrouter_url;
            if matches!(e, OpenRouterError::Unavailable { .. }) {
                bail!(
                    "cannot reach OpenRouter to validate the key at {url}: {e} — nothing was stored; try `nxr config set openrouter-key` again when online"
                )
            }
            bail!(
                "cannot validate the key with OpenRouter at {url}: {e} — nothing was stored; try `nxr config set openrouter-key` again later"
            )
        }
        Err(e) => return Err(e.into()),
    }
    let masked = secrets::mask(&key);
    let file = secrets::env_file(&ctx.env);
    if ctx.json {
        return super::print_json(&serde_json::json!({
            "key": "openrouter-key",
            "set": true,
            "value": masked,
            "file": file.display().to_string(),
        }));
    }
    outln!(
        "openrouter-key: {masked} (valid; stored in {} and in every agent's profile .env, mode 0600)",
        file.display()
    );
    Ok(())
}
