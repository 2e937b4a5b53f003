//! SOUL.md and the skill files of a profile: writing a persona only where none exists, reading the
//! skills on disk with their front matter. A user's persona or skill is never overwritten.

use super::*;

/// Writes SOUL.md with `persona` unless one already exists (a user's persona is never overwritten).
/// Returns true when it wrote one.
pub fn ensure_soul(profile: &Profile, persona: &str) -> Result<bool> {
    let path = profile.soul_path();
    if path.exists() {
        return Ok(false);
    }
    ensure_dir(&profile.dir)?;
    write_atomic(&path, persona.as_bytes(), 0o644)?;
    Ok(true)
}

/// A skill found on disk in a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkillOnDisk {
    /// The `name:` from the front matter, or the directory name.
    pub name: String,
    /// The category directory (`nxr` for the ones nxr manages), or "" for `skills/<name>/SKILL.md`.
    pub category: String,
    /// Path of the SKILL.md.
    pub path: PathBuf,
    /// True when the front matter says nxr wrote it (`metadata.nxr.managed: true`).
    pub nxr_managed: bool,
    pub description: Option<String>,
}

/// Parses the YAML front matter of a SKILL.md (between the first two `---` lines).
pub fn front_matter(text: &str) -> Option<serde_norway::Value> {
    let rest = text.strip_prefix("---")?;
    let rest = rest
        .strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))?;
    let end = rest.find("\n---")?;
    serde_norway::from_str(&rest[..end]).ok()
}

/// Every SKILL.md in the profile's skills dir: `skills/<category>/<skill>/SKILL.md` and
/// `skills/<skill>/SKILL.md`, sorted by category then name. Unreadable entries are skipped.
pub fn skills_on_disk(profile: &Profile) -> Vec<SkillOnDisk> {
    let mut out = Vec::new();
    let root = profile.skills_dir();
    let Ok(entries) = std::fs::read_dir(&root) else {
        return out;
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let dir_name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if dir_name.starts_with('.') {
            continue;
        }
        let direct = dir.join("SKILL.md");
        if direct.is_file() {
            out.extend(read_skill(&direct, "", &dir_name));
            continue;
        }
        let Ok(inner) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut skills: Vec<PathBuf> = inner
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .filter(|p| p.join("SKILL.md").is_file())
            .collect();
        skills.sort();
        for s in skills {
            let name = s
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.extend(read_skill(&s.join("SKILL.md"), &dir_name, &name));
        }
    }
    out
}

pub(super) fn read_skill(path: &Path, category: &str, dir_name: &str) -> Option<SkillOnDisk> {
    let text = std::fs::read_to_string(path).ok()?;
    let fm = front_matter(&text);
    let get = |k: &str| {
        fm.as_ref()
            .and_then(|v| lookup(v, k))
            .and_then(scalar_string)
    };
    Some(SkillOnDisk {
        name: get("name").unwrap_or_else(|| dir_name.to_string()),
        category: category.to_string(),
        path: path.to_path_buf(),
        nxr_managed: get("metadata.nxr.managed").as_deref() == Some("true"),
        description: get("description"),
    })
}
