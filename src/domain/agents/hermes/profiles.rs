//! Hermes profiles (the name `hermes -p` takes and its directory under `$HERMES_HOME`) and the atomic
//! file writes every edit here goes through. An agent's name becomes a profile name only through
//! `profile_slug`, which refuses anything that could leave `profiles/`.

use super::*;

/// One Hermes profile: the name `hermes -p <name>` takes and its directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub name: String,
    pub dir: PathBuf,
}

impl Profile {
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("config.yaml")
    }
    pub fn soul_path(&self) -> PathBuf {
        self.dir.join("SOUL.md")
    }
    pub fn skills_dir(&self) -> PathBuf {
        self.dir.join("skills")
    }
    /// Where nxr writes the skills it manages: `skills/nxr/<skill>/SKILL.md`.
    pub fn nxr_skills_dir(&self) -> PathBuf {
        self.skills_dir().join(NXR_SKILL_CATEGORY)
    }
    pub fn is_root(&self) -> bool {
        self.name == ROOT_PROFILE
    }
}

/// The skills category directory nxr owns inside a profile.
pub const NXR_SKILL_CATEGORY: &str = "nxr";

/// True when `name` is a profile id Hermes accepts on disk: `^[a-z0-9][a-z0-9_-]{0,63}$` and not reserved
/// (same rule as hermes_cli/profiles.py `validate_profile_name`).
pub fn is_valid_profile_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-')
        && !RESERVED_PROFILE_NAMES.contains(&name)
}

/// The profile slug for an agent name: lower-case ASCII letters, digits and `-` (every other run of
/// characters becomes one `-`), at most 64 characters. A name Hermes reserves (`test`, `root`, …) gets
/// `-agent` appended. Errors when nothing usable is left (e.g. a name of only symbols).
pub fn profile_slug(agent_name: &str) -> Result<String> {
    let mut slug = String::new();
    let mut dash = false;
    // Accents and other scripts are transliterated ("Ünï" -> "uni", "默认" -> "mo-ren") so that a
    // non-ASCII name keeps its letters instead of collapsing to the few ASCII ones it has.
    let ascii = deunicode::deunicode_with_tofu(agent_name.trim(), " ");
    for c in ascii.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            if dash && !slug.is_empty() {
                slug.push('-');
            }
            dash = false;
            slug.push(c);
        } else {
            dash = true;
        }
    }
    slug.truncate(64);
    let slug = slug.trim_end_matches('-').to_string();
    if slug.is_empty() {
        return Err(HermesError::Invalid(format!(
            "the agent name {agent_name:?} needs at least one ASCII letter or digit (after transliteration) for its Hermes profile name; use a name such as \"pm-1\""
        )));
    }
    if RESERVED_PROFILE_NAMES.contains(&slug.as_str()) {
        let mut s = slug;
        s.truncate(58);
        return Ok(format!("{s}-agent"));
    }
    Ok(slug)
}

/// The profile an agent lives in: the `hermes` role uses the root profile (`$HERMES_HOME`), every other
/// agent `$HERMES_HOME/profiles/<slug>/`.
pub fn profile_for(hermes_home: &Path, role: Role, agent_name: &str) -> Result<Profile> {
    if role == Role::Hermes {
        return Ok(Profile {
            name: ROOT_PROFILE.to_string(),
            dir: hermes_home.to_path_buf(),
        });
    }
    let slug = profile_slug(agent_name)?;
    Ok(Profile {
        dir: hermes_home.join("profiles").join(&slug),
        name: slug,
    })
}

/// A profile by its Hermes name (`default` = the root).
pub fn profile_named(hermes_home: &Path, name: &str) -> Profile {
    if name == ROOT_PROFILE {
        Profile {
            name: ROOT_PROFILE.into(),
            dir: hermes_home.to_path_buf(),
        }
    } else {
        Profile {
            name: name.into(),
            dir: hermes_home.join("profiles").join(name),
        }
    }
}

/// Writes `bytes` to `path` atomically: a temp file in the same directory, fsync, rename, fsync of the
/// directory. An existing file keeps its mode; a new one gets `new_mode`. A symlink is followed (its target
/// is replaced), so a user's linked config stays linked.
pub fn write_atomic(path: &Path, bytes: &[u8], new_mode: u32) -> Result<()> {
    use crate::domain::base::fsutil;
    fsutil::write_atomic(path, bytes, fsutil::FileMode::KeepOr(new_mode), false)
        .map_err(|e| HermesError::io(e.action, &e.path, e.source))
}

/// Creates `dir` and its parents, with a clear error.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| HermesError::io("create the directory", dir, e))
}
