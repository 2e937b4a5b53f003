//! Pointing agents' Hermes profiles at the relay and back. Pointing keeps a copy of the profile's
//! config.yaml, byte for byte, in `$NXR_HOME/relay-profiles/<profile>.yaml` (written and synced
//! before the profile changes), then sets the main model and every fallback entry to the relay's
//! per-agent URL in one atomic write. Unpointing puts the copy back when the profile still points
//! at the relay, so the file is exactly as before; when the profile was changed since (a model
//! switch writes its own provider), the change is kept and the copy dropped. Either step is
//! atomic per profile, so a crash leaves each profile before or after, and running a step again
//! finishes it.

use super::hermes::{self, ConfigValue, HermesError, Profile, Result};
use crate::domain::base::env::Env;
use std::path::PathBuf;

/// Setting: the port of the relay the profiles were pointed at (`nxr serve` starts the relay there).
pub const SETTING_PORT: &str = "relay.port";

/// The folder of the kept copies, under `$NXR_HOME`.
pub const COPIES_DIR: &str = "relay-profiles";

/// The OpenAI-compatible base URL of `profile` on the relay at `relay_base` (`http://127.0.0.1:PORT`).
pub fn agent_url(relay_base: &str, profile: &str) -> String {
    format!("{}/agents/{profile}/v1", relay_base.trim_end_matches('/'))
}

/// The port of a relay's per-agent URL (loopback, `/agents/NAME/v1`), or `None` for any other URL:
/// calls Hermes made to such a URL were recorded by the relay itself.
pub fn relay_port(url: &str) -> Option<u16> {
    let url = url.trim_end_matches('/');
    let rest = url
        .strip_prefix("http://127.0.0.1:")
        .or_else(|| url.strip_prefix("http://localhost:"))?;
    let (port, tail) = rest.split_once("/agents/")?;
    tail.ends_with("/v1").then_some(())?;
    port.parse::<u16>().ok()
}

/// Whether `url` is a relay's per-agent URL (see [`relay_port`]).
pub fn is_relay_url(url: &str) -> bool {
    relay_port(url).is_some()
}

fn copy_path(env: &Env, profile: &Profile) -> PathBuf {
    env.nxr_home
        .join(COPIES_DIR)
        .join(format!("{}.yaml", profile.name))
}

/// Whether `profile`'s main model goes through a relay now.
pub fn is_pointed(profile: &Profile) -> Result<bool> {
    let url = hermes::get_config(&profile.config_path(), "model.base_url")?;
    Ok(url.is_some_and(|u| u.ends_with(&format!("/agents/{}/v1", profile.name))))
}

/// Points `profile` at the relay at `relay_base`. Returns false when it already was.
pub fn point(env: &Env, profile: &Profile, relay_base: &str) -> Result<bool> {
    let config = profile.config_path();
    let url = agent_url(relay_base, &profile.name);
    if hermes::get_config(&config, "model.base_url")?.as_deref() == Some(url.as_str()) {
        return Ok(false);
    }
    let copy = copy_path(env, profile);
    if !copy.exists() {
        let bytes = std::fs::read(&config).map_err(|e| HermesError::io("read", &config, e))?;
        if let Some(dir) = copy.parent() {
            hermes::ensure_dir(dir)?;
        }
        hermes::write_atomic(&copy, &bytes, 0o600)?;
    }
    let chain = hermes::fallback_models(&config)?;
    let mut edits = vec![
        (
            "model.provider".to_string(),
            ConfigValue::Str("custom".into()),
        ),
        ("model.base_url".to_string(), ConfigValue::Str(url.clone())),
    ];
    if !chain.is_empty() {
        let entries = chain
            .into_iter()
            .map(|model| {
                vec![
                    ("provider".to_string(), "custom".to_string()),
                    ("model".to_string(), model),
                    ("base_url".to_string(), url.clone()),
                ]
            })
            .collect();
        edits.push((
            super::fallbacks::CONFIG_KEY.to_string(),
            ConfigValue::Entries(entries),
        ));
    }
    hermes::set_config(&config, &edits)?;
    Ok(true)
}

/// What unpointing did to one profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unpointed {
    /// The kept copy is back: the file is as it was before pointing.
    Restored,
    /// The profile no longer pointed at the relay (changed since); it is left as it is.
    KeptChanged,
    /// Nothing was kept for this profile.
    NotPointed,
}

/// Takes `profile` off the relay.
pub fn unpoint(env: &Env, profile: &Profile) -> Result<Unpointed> {
    let copy = copy_path(env, profile);
    if !copy.exists() {
        return Ok(Unpointed::NotPointed);
    }
    let config = profile.config_path();
    let kept = std::fs::read(&copy).map_err(|e| HermesError::io("read", &copy, e))?;
    let outcome = if is_pointed(profile)? {
        hermes::write_atomic(&config, &kept, 0o600)?;
        Unpointed::Restored
    } else if std::fs::read(&config).map_err(|e| HermesError::io("read", &config, e))? == kept {
        // Pointing stopped between keeping the copy and changing the file.
        Unpointed::Restored
    } else {
        Unpointed::KeptChanged
    };
    std::fs::remove_file(&copy).map_err(|e| HermesError::io("remove", &copy, e))?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "# the user's comment\nmodel:\n  default: qwen/qwen3-coder:free\n  provider: openrouter\nfallback_providers:\n- provider: openrouter\n  model: z-ai/glm-4.5-air:free\nterminal:\n  backend: local\n";

    fn setup() -> (tempfile::TempDir, Env, Profile) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let env = Env::for_dirs(dir.path().join("nxr"), dir.path().join("hermes"));
        let profile = hermes::profile_named(&env.hermes_home, "engineer");
        std::fs::create_dir_all(&profile.dir).expect("the profile dir");
        std::fs::write(profile.config_path(), CONFIG).expect("config.yaml");
        (dir, env, profile)
    }

    #[test]
    fn point_then_unpoint_gives_the_same_bytes() {
        let (_dir, env, profile) = setup();
        assert!(point(&env, &profile, "http://127.0.0.1:7879").expect("pointed"));
        let url = "http://127.0.0.1:7879/agents/engineer/v1";
        let cfg = profile.config_path();
        assert_eq!(
            hermes::get_config(&cfg, "model.base_url").expect("read"),
            Some(url.to_string())
        );
        assert_eq!(
            hermes::fallback_models(&cfg).expect("read"),
            vec!["z-ai/glm-4.5-air:free".to_string()]
        );
        let text = std::fs::read_to_string(&cfg).expect("read");
        assert!(text.contains("# the user's comment") && text.contains("backend: local"));
        assert_eq!(text.matches(url).count(), 2, "{text}");
        assert!(!point(&env, &profile, "http://127.0.0.1:7879").expect("again"));
        assert_eq!(
            unpoint(&env, &profile).expect("unpointed"),
            Unpointed::Restored
        );
        assert_eq!(std::fs::read_to_string(&cfg).expect("read"), CONFIG);
        assert_eq!(
            unpoint(&env, &profile).expect("again"),
            Unpointed::NotPointed
        );
    }

    #[test]
    fn a_profile_changed_while_pointed_keeps_the_change() {
        let (_dir, env, profile) = setup();
        point(&env, &profile, "http://127.0.0.1:7879").expect("pointed");
        let cfg = profile.config_path();
        hermes::set_config(
            &cfg,
            &[
                ("model.default".into(), ConfigValue::Str("m:free".into())),
                (
                    "model.provider".into(),
                    ConfigValue::Str("openrouter".into()),
                ),
                ("model.base_url".into(), ConfigValue::Remove),
            ],
        )
        .expect("a switch");
        let changed = std::fs::read_to_string(&cfg).expect("read");
        assert_eq!(
            unpoint(&env, &profile).expect("unpointed"),
            Unpointed::KeptChanged
        );
        assert_eq!(std::fs::read_to_string(&cfg).expect("read"), changed);
    }

    #[test]
    fn a_broken_config_is_refused_and_left_as_it_is() {
        let (_dir, env, profile) = setup();
        std::fs::write(profile.config_path(), "model: [unclosed\n").expect("write");
        assert!(point(&env, &profile, "http://127.0.0.1:7879").is_err());
        assert_eq!(
            std::fs::read_to_string(profile.config_path()).expect("read"),
            "model: [unclosed\n"
        );
    }
}
