//! This machine's name in team mode: the host its agents are assigned to. It must stay the same
//! across restarts (agents assigned to a name that vanished would lose their profiles here), so it is
//! kept on the machine, never in the shared database: `$NXR_HOST_NAME` when set, else the name in
//! `$NXR_HOME/host-name` (`nxr config set host-name`), else the machine's hostname, written to that
//! file the first time so that renaming the machine later does not move its agents.

use crate::domain::base::env::Env;
use crate::domain::base::fsutil;
use std::path::PathBuf;

/// The longest host name nxr accepts.
pub const MAX_LEN: usize = 63;

/// A host name that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(
        "invalid host name {0:?}: a host name has 1 to 63 letters, digits, '-', '_' or '.' (e.g. \"laptop\" or \"build-box\")"
    )]
    Invalid(String),
    #[error("cannot keep the host name in {path}: {source}; check that NXR_HOME is writable")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The file that keeps this machine's host name.
pub fn file(env: &Env) -> PathBuf {
    env.nxr_home.join("host-name")
}

/// `name` trimmed, or why it is not a host name.
pub fn validate(name: &str) -> Result<String, HostError> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name.len() <= MAX_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.');
    if ok {
        Ok(name.to_string())
    } else {
        Err(HostError::Invalid(
            crate::domain::base::text::escape_invisible(&name.chars().take(60).collect::<String>()),
        ))
    }
}

/// This machine's host name (see the module docs). Never fails: a name that cannot be kept is still
/// returned (and the next call reads the hostname again).
/// The file is read once per process and `$NXR_HOME` (a running `nxr serve` keeps its name).
pub fn this_host(env: &Env) -> String {
    if let Some(name) = env.host_name.as_deref().and_then(|n| validate(n).ok()) {
        return name;
    }
    if let Some((_, name)) = lock_known().iter().find(|(home, _)| *home == env.nxr_home) {
        return name.clone();
    }
    let name = match std::fs::read_to_string(file(env))
        .ok()
        .and_then(|t| validate(&t).ok())
    {
        Some(name) => name,
        None => {
            let name = machine_hostname();
            let _ = keep(env, &name);
            name
        }
    };
    remember(env, &name);
    name
}

/// The names read or kept in this process, by `$NXR_HOME`.
static KNOWN: std::sync::Mutex<Vec<(PathBuf, String)>> = std::sync::Mutex::new(Vec::new());

fn lock_known() -> std::sync::MutexGuard<'static, Vec<(PathBuf, String)>> {
    KNOWN.lock().unwrap_or_else(|p| p.into_inner())
}

fn remember(env: &Env, name: &str) {
    let mut known = lock_known();
    known.retain(|(home, _)| *home != env.nxr_home);
    known.push((env.nxr_home.clone(), name.to_string()));
}

/// Keeps `name` as this machine's host name in `$NXR_HOME/host-name` (atomically).
pub fn keep(env: &Env, name: &str) -> Result<String, HostError> {
    let name = validate(name)?;
    let path = file(env);
    fsutil::write_atomic(
        &path,
        format!("{name}\n").as_bytes(),
        fsutil::FileMode::KeepOr(0o644),
        true,
    )
    .map_err(|e| HostError::Write {
        path: path.display().to_string(),
        source: e.source,
    })?;
    remember(env, &name);
    Ok(name)
}

/// The machine's hostname made a valid host name ("host" when it has none).
pub fn machine_hostname() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let cleaned: String = raw
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .take(MAX_LEN)
        .collect();
    validate(cleaned.trim_start_matches('.')).unwrap_or_else(|_| "host".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert_eq!(validate(" laptop ").unwrap(), "laptop");
        assert!(validate("build-box.lan").is_ok());
        for bad in ["", " ", "a b", "a/b", "../x", ".hidden", &"x".repeat(64)] {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_name_is_kept_and_the_variable_wins() {
        let home = tempfile::tempdir().unwrap();
        let mut env = Env::for_dirs(home.path(), home.path().join("h"));
        let first = this_host(&env);
        assert_eq!(validate(&first).unwrap(), first);
        assert_eq!(
            std::fs::read_to_string(file(&env)).unwrap().trim(),
            first,
            "the hostname is kept so that it stays the same"
        );
        keep(&env, "box-2").unwrap();
        assert_eq!(this_host(&env), "box-2");
        env.host_name = Some("from-env".into());
        assert_eq!(this_host(&env), "from-env");
    }
}
