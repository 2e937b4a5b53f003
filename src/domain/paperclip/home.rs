//! Where Paperclip runs an nxr agent: its HOME under `$NXR_HOME/paperclip/homes`, whose `.hermes`
//! links to the agent's Hermes profile, and the Paperclip role of an nxr role.

use super::sync::SyncError;
use crate::domain::agents::Agent;
use crate::domain::base::env::Env;
use crate::domain::base::roles::Role;
use std::path::{Path, PathBuf};

/// Paperclip's role for an nxr role (Paperclip knows ceo, cto, engineer, pm, researcher, general, …).
pub fn paperclip_role(role: Role) -> &'static str {
    match role {
        Role::Pm => "pm",
        Role::Engineer => "engineer",
        Role::Research => "researcher",
        Role::Hermes | Role::Creative | Role::Custom => "general",
    }
}

/// The HOME Paperclip runs an agent with: `$NXR_HOME/paperclip/homes/<profile>`, whose `.hermes` links to
/// the agent's Hermes profile (the `hermes_local` adapter reads `$HOME/.hermes/skills`).
pub fn agent_home(env: &Env, agent: &Agent) -> PathBuf {
    env.nxr_home
        .join("paperclip")
        .join("homes")
        .join(&agent.hermes_profile)
}

/// Creates (or points again) `home/.hermes` at `profile_dir`, atomically (a new link renamed over).
pub fn ensure_home(home: &Path, profile_dir: &Path) -> Result<(), SyncError> {
    let fail = |path: &Path, reason| SyncError::Home {
        path: path.display().to_string(),
        reason,
    };
    std::fs::create_dir_all(home).map_err(|e| fail(home, e))?;
    let link = home.join(".hermes");
    if std::fs::read_link(&link).is_ok_and(|t| t == profile_dir) {
        return Ok(());
    }
    // A real directory there was made by Paperclip's adapter before the link existed (it holds only
    // Paperclip's own skill links); the home is nxr's, so it goes.
    if std::fs::symlink_metadata(&link).is_ok_and(|m| m.is_dir()) {
        std::fs::remove_dir_all(&link).map_err(|e| fail(&link, e))?;
    }
    let tmp = home.join(format!(".hermes.nxr-tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(profile_dir, &tmp).map_err(|e| fail(&tmp, e))?;
    std::fs::rename(&tmp, &link).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(&link, e)
    })
}
