//! The secrets nxr manages reach every agent. Hermes runs a named profile (`hermes -p <name>`) with
//! that profile's own `profiles/<name>/.env` and never reads the root `$HERMES_HOME/.env`, so each
//! variable nxr manages is kept in step from the root `.env` into every nxr agent profile's `.env`:
//! set to the root's value, or removed when the root has none. Only those variables are touched; every
//! other line a user put in a profile's `.env` stays as it was. Writes are atomic with mode 0600, and no
//! value is ever logged.

use crate::domain::agents::hermes::Profile;
use crate::domain::agents::{self, AgentError};
use crate::domain::base::env::Env;
use crate::domain::store::Store;
use crate::domain::store::secrets::{self, SecretError};
use std::path::PathBuf;

/// The variables nxr manages in `.env` files, each copied from the root into every agent profile.
pub const MANAGED_VARS: [&str; 1] = [secrets::OPENROUTER_KEY_VAR];

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Agents(#[from] AgentError),
    #[error(
        "the root .env was updated, but {} agent profile(s) could not be: {}; fix that and run the same command again (it brings every profile in step)",
        .0.len(),
        .0.iter().map(|(p, e)| format!("{p}: {e}")).collect::<Vec<_>>().join("; ")
    )]
    Profiles(Vec<(String, SecretError)>),
}

/// A profile's `.env` (the root profile's is `$HERMES_HOME/.env` itself).
pub fn profile_env_file(profile: &Profile) -> PathBuf {
    profile.dir.join(".env")
}

/// The root's value of every managed variable (`None` when unset).
fn root_values(env: &Env) -> Result<Vec<(&'static str, Option<String>)>, SecretError> {
    let root = secrets::env_file(env);
    MANAGED_VARS
        .iter()
        .map(|var| Ok((*var, secrets::read_var(&root, var)?)))
        .collect()
}

/// The `.env` text a new agent profile starts with: a line per managed variable the root sets.
pub fn seed_for_new_profile(env: &Env) -> Result<String, SecretError> {
    let mut out = String::new();
    for (var, value) in root_values(env)? {
        if let Some(v) = value {
            secrets::check_value(var, &v)?;
            out.push_str(&format!("{var}={v}\n"));
        }
    }
    Ok(out)
}

/// Brings one profile's `.env` in step with the root for every managed variable. Writes only when a
/// value differs; the root profile needs nothing. Returns true when it wrote.
pub fn sync_profile(env: &Env, profile: &Profile) -> Result<bool, SecretError> {
    if profile.is_root() || !profile.dir.is_dir() {
        return Ok(false);
    }
    sync_file(&profile_env_file(profile), &root_values(env)?)
}

fn sync_file(
    path: &std::path::Path,
    values: &[(&str, Option<String>)],
) -> Result<bool, SecretError> {
    let mut wrote = false;
    for (var, value) in values {
        let have = secrets::read_var(path, var)?;
        match value {
            Some(v) if have.as_deref() != Some(v.as_str()) => {
                secrets::set_var(path, var, v)?;
                wrote = true;
            }
            None if have.is_some() => wrote |= secrets::remove_var(path, var)?,
            _ => {}
        }
    }
    Ok(wrote)
}

/// Brings every nxr agent profile in step with the root `.env` (under the agents lock, so an agent
/// created meanwhile gets the same values). Agents without a usable profile are skipped. Returns the
/// names of the profiles it wrote; errors name every profile that could not be written.
pub async fn sync_all(env: &Env, store: &Store) -> Result<Vec<String>, CredentialError> {
    let _lock = agents::agents_lock(env).await;
    let values = root_values(env)?;
    let mut wrote = Vec::new();
    let mut failed = Vec::new();
    for agent in agents::list(store, env).await? {
        let Ok(profile) = agent.usable_profile() else {
            continue;
        };
        if profile.is_root() || !profile.dir.is_dir() || !agent.is_here(env) {
            continue;
        }
        match sync_file(&profile_env_file(&profile), &values) {
            Ok(true) => wrote.push(profile.name),
            Ok(false) => {}
            Err(e) => failed.push((profile.name, e)),
        }
    }
    if !failed.is_empty() {
        return Err(CredentialError::Profiles(failed));
    }
    tracing::info!(
        profiles = wrote.len(),
        "agent profiles' .env brought in step"
    );
    Ok(wrote)
}

/// Stores the OpenRouter key in the root `.env` and in every agent profile's `.env`.
pub async fn set_openrouter_key(
    env: &Env,
    store: &Store,
    key: &str,
) -> Result<Vec<String>, CredentialError> {
    secrets::set_openrouter_key(env, key)?;
    sync_all(env, store).await
}

/// Removes the OpenRouter key from the root `.env` and from every agent profile's `.env`. Returns
/// whether the root had one.
pub async fn remove_openrouter_key(env: &Env, store: &Store) -> Result<bool, CredentialError> {
    let had = secrets::remove_var(&secrets::env_file(env), secrets::OPENROUTER_KEY_VAR)?;
    sync_all(env, store).await?;
    Ok(had)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_follows_the_root_and_keeps_its_own_lines() {
        let dir = tempfile::tempdir().unwrap();
        let env = Env::for_dirs(dir.path().join("nxr"), dir.path().join("h"));
        let profile = crate::domain::agents::hermes::profile_named(&env.hermes_home, "pm");
        std::fs::create_dir_all(&profile.dir).unwrap();
        let file = profile_env_file(&profile);
        std::fs::write(&file, "MY_TOKEN=abc\nOPENROUTER_API_KEY=stale\n").unwrap();
        // Nothing in the root: the managed variable goes, the user's line stays.
        assert!(sync_profile(&env, &profile).unwrap());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "MY_TOKEN=abc\n");
        secrets::set_openrouter_key(&env, "sk-or-v1-aaaa1111bbbb").unwrap();
        assert!(sync_profile(&env, &profile).unwrap());
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "MY_TOKEN=abc\nOPENROUTER_API_KEY=sk-or-v1-aaaa1111bbbb\n"
        );
        assert!(!sync_profile(&env, &profile).unwrap(), "nothing to change");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            seed_for_new_profile(&env).unwrap(),
            "OPENROUTER_API_KEY=sk-or-v1-aaaa1111bbbb\n"
        );
    }
}
