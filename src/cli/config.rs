//! `nxr config set|get|unset`: the OpenRouter key (in `.env` files, through `credentials`) and the
//! plain settings of `domain::setup::settings`.

use super::Ctx;
use crate::domain::agents::credentials;
use crate::domain::catalog::openrouter::{OpenRouterError, Timeouts};
use crate::domain::onboarding;
use crate::domain::setup::settings;
use crate::domain::store::secrets;
use clap::Subcommand;
use color_eyre::Result;
use color_eyre::eyre::bail;
use std::io::Read;

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Set a value, e.g. `nxr config set openrouter-key sk-or-…` (`-` reads the value from stdin).
    Set {
        key: String,
        /// The value; a negative number (a Telegram group's chat id) needs no `--` before it.
        #[arg(allow_negative_numbers = true)]
        value: String,
    },
    /// Show a value (secrets are masked).
    Get { key: String },
    /// Remove a value: the key from every agent's profile too, a setting back to its default.
    Unset { key: String },
}

/// The name of the one setting kept in `.env` files rather than in the database.
const KEY_NAME: &str = "openrouter-key";
/// This machine's name in team mode, kept in `$NXR_HOME/host-name` (see `base::host`).
const HOST_NAME: &str = "host-name";

/// A plain setting by name, or the error that lists every name.
fn setting(name: &str) -> Result<&'static settings::Setting> {
    settings::find(name).ok_or_else(|| {
        color_eyre::eyre::eyre!(
            "{}; e.g. `nxr config get scan-interval-hours`",
            settings::unknown(name, &[KEY_NAME, HOST_NAME])
        )
    })
}

/// A setting's name as nxr spells it: `_` and `-` are the same (`auto_upgrade_free_models` is
/// `auto-upgrade-free-models`, `spread-default-agents` is `spread_default_agents`).
pub fn canonical_name(name: &str) -> String {
    let dashed = name.trim().replace('_', "-");
    if dashed == crate::domain::scoring::spread::SETTING_SPREAD.replace('_', "-") {
        crate::domain::scoring::spread::SETTING_SPREAD.to_string()
    } else {
        dashed
    }
}

pub async fn run(ctx: &Ctx, cmd: ConfigCmd) -> Result<()> {
    let cmd = match cmd {
        ConfigCmd::Set { key, value } => ConfigCmd::Set {
            key: canonical_name(&key),
            value,
        },
        ConfigCmd::Get { key } => ConfigCmd::Get {
            key: canonical_name(&key),
        },
        ConfigCmd::Unset { key } => ConfigCmd::Unset {
            key: canonical_name(&key),
        },
    };
    match cmd {
        ConfigCmd::Set { key, value } if key == KEY_NAME => set_openrouter_key(ctx, &value).await,
        ConfigCmd::Unset { key } if key == KEY_NAME => unset_openrouter_key(ctx).await,
        ConfigCmd::Get { key } if key == KEY_NAME => get_openrouter_key(ctx),
        ConfigCmd::Set { key, value } if key == HOST_NAME => {
            super::hosts::set_host_name(ctx, &value).await
        }
        ConfigCmd::Get { key } if key == HOST_NAME => super::hosts::get_host_name(ctx),
        ConfigCmd::Unset { key } if key == HOST_NAME => bail!(
            "host-name cannot be unset: agents are assigned to it; set another name with `nxr config set host-name NAME`"
        ),
        ConfigCmd::Set { key, value } => {
            let s = setting(&key)?;
            let store = ctx.store().await?;
            let v = s.set(&store, &value).await?;
            if ctx.json {
                return super::print_json(&serde_json::json!({ "key": s.name, "value": v }));
            }
            match s.note {
                Some(note) => outln!("{}: {v} ({note})", s.name),
                None => outln!("{}: {v}", s.name),
            }
            Ok(())
        }
        ConfigCmd::Get { key } => {
            let s = setting(&key)?;
            let store = ctx.store_read().await?;
            let v = s.get(&store).await?;
            if ctx.json {
                return super::print_json(
                    &serde_json::json!({ "key": s.name, "value": v, "default": s.default }),
                );
            }
            match v {
                Some(v) => outln!("{}: {}", s.name, super::shown(&v)),
                None => outln!("{}: {} (default)", s.name, s.default),
            }
            Ok(())
        }
        ConfigCmd::Unset { key } => {
            let s = setting(&key)?;
            let store = ctx.store().await?;
            let had = s.unset(&store).await?;
            if ctx.json {
                return super::print_json(
                    &serde_json::json!({ "key": s.name, "removed": had, "default": s.default }),
                );
            }
            if had {
                outln!("{}: back to the default, {}", s.name, s.default);
            } else {
                outln!(
                    "{}: was not set; the default applies, {}",
                    s.name,
                    s.default
                );
            }
            Ok(())
        }
    }
}

async fn unset_openrouter_key(ctx: &Ctx) -> Result<()> {
    let store = ctx.store().await?;
    let had = credentials::remove_openrouter_key(&ctx.env, &store).await?;
    if ctx.json {
        return super::print_json(&serde_json::json!({
            "key": KEY_NAME,
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

fn get_openrouter_key(ctx: &Ctx) -> Result<()> {
    let stored = secrets::openrouter_key(&ctx.env)?;
    let masked = stored.as_deref().map(secrets::mask);
    if ctx.json {
        return super::print_json(&serde_json::json!({
            "key": KEY_NAME,
            "set": masked.is_some(),
            "value": masked,
            "file": secrets::env_file(&ctx.env).display().to_string(),
        }));
    }
    match masked {
        Some(m) => outln!("openrouter-key: {m}"),
        None => {
            outln!("openrouter-key: not set (add one with `nxr config set openrouter-key <key>`)")
        }
    }
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
