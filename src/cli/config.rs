//! `nxr config set|get|unset`.

use super::Ctx;
use crate::domain::credentials;
use crate::domain::onboarding;
use crate::domain::openrouter::{OpenRouterError, Timeouts};
use crate::domain::secrets;
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
const KEYS: &str = "openrouter-key";

pub async fn run(ctx: &Ctx, cmd: ConfigCmd) -> Result<()> {
    match cmd {
        ConfigCmd::Set { key, value } => match key.as_str() {
            "openrouter-key" => set_openrouter_key(ctx, &value).await,
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
            other => bail!("unknown setting {other:?}; known settings: {KEYS}"),
        },
    }
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
