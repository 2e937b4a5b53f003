//! What an interrupted agent change can leave on disk, and how the next change deals with it:
//! profile directories nxr made (they carry nxr's marker file) whose database row never landed, and
//! the hidden staging directories (`.nxr-tmp-*`, `.nxr-old-*`) a change builds in. Also where a
//! deleted agent's profile directory is kept (a dated backup, never deleted outright).
//!
//! Every function here runs while the agents lock is held (`agents::agents_lock`), so no other nxr
//! process is half-way through a change: what is found is left over, not in progress.

use crate::domain::agents::hermes::Profile;
use crate::domain::base::roles::Role;
use std::path::{Path, PathBuf};

/// The file nxr writes into every profile directory it makes: JSON naming the agent and its role.
pub const MARKER_FILE: &str = ".nxr-profile";

/// The prefixes of the staging directories an agent change builds in.
pub const STAGING_PREFIXES: [&str; 2] = [".nxr-tmp-", ".nxr-old-"];

/// The marker's content for an agent.
pub fn marker(role: Role, agent_name: &str) -> String {
    let mut text =
        serde_json::json!({ "made_by": "nxr", "agent": agent_name, "role": role.as_str() })
            .to_string();
    text.push('\n');
    text
}

/// True when `profile`'s directory was made by nxr: it has nxr's marker, or (made by an nxr older
/// than the marker) its SOUL.md is exactly the persona nxr writes for this agent.
pub fn made_by_nxr(profile: &Profile, role: Role, agent_name: &str) -> bool {
    let marked = std::fs::read_to_string(profile.dir.join(MARKER_FILE))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|v| v.get("made_by").and_then(|m| m.as_str()) == Some("nxr"));
    marked
        || std::fs::read_to_string(profile.soul_path())
            .is_ok_and(|t| t == crate::domain::agents::skills::persona(role, agent_name))
}

fn is_staging(name: &str) -> bool {
    STAGING_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Removes staging directories left by an interrupted change under `$HERMES_HOME`: in the home
/// itself, in `profiles/`, and in each profile's skill folders. Returns how many were removed.
pub fn remove_staging_dirs(hermes_home: &Path) -> usize {
    let mut places = vec![
        hermes_home.to_path_buf(),
        hermes_home.join("profiles"),
        hermes_home.join("skills"),
        hermes_home
            .join("skills")
            .join(crate::domain::agents::hermes::NXR_SKILL_CATEGORY),
    ];
    if let Ok(entries) = std::fs::read_dir(hermes_home.join("profiles")) {
        for e in entries.flatten() {
            let dir = e.path();
            if dir.is_dir() {
                places.push(dir.join("skills"));
                places.push(
                    dir.join("skills")
                        .join(crate::domain::agents::hermes::NXR_SKILL_CATEGORY),
                );
            }
        }
    }
    let mut removed = 0;
    for place in places {
        let Ok(entries) = std::fs::read_dir(&place) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            // Only directories: a `.nxr-tmp-` file may be another writer's atomic write in flight.
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            if is_staging(&name) && is_dir && std::fs::remove_dir_all(e.path()).is_ok() {
                tracing::info!(path = %e.path().display(), "removed a leftover staging directory");
                removed += 1;
            }
        }
    }
    removed
}

/// Where a deleted agent's profile directory is kept:
/// `$HERMES_HOME/.nxr-backups/profiles/<profile>-<UTC time>` (outside `profiles/`, so Hermes does
/// not list it). A number is appended when that name is taken.
pub fn profile_backup_path(
    hermes_home: &Path,
    profile_name: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> PathBuf {
    let base = hermes_home.join(".nxr-backups").join("profiles");
    let stamp = now.format("%Y%m%dT%H%M%SZ");
    let first = base.join(format!("{profile_name}-{stamp}"));
    if !first.exists() {
        return first;
    }
    (2..)
        .map(|n| base.join(format!("{profile_name}-{stamp}-{n}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_staging_directories_are_removed() {
        let home = tempfile::tempdir().unwrap();
        let profiles = home.path().join("profiles");
        std::fs::create_dir_all(profiles.join(".nxr-tmp-abc/skills")).unwrap();
        std::fs::create_dir_all(profiles.join("pm/skills/nxr/.nxr-old-x/moved")).unwrap();
        std::fs::create_dir_all(profiles.join("keep")).unwrap();
        std::fs::write(home.path().join(".nxr-tmp-file"), "in flight").unwrap();
        assert_eq!(remove_staging_dirs(home.path()), 2);
        assert!(profiles.join("keep").is_dir());
        assert!(profiles.join("pm/skills/nxr").is_dir());
        assert!(home.path().join(".nxr-tmp-file").is_file());
    }
}
