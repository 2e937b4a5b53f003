//! Hermes Agent's files (DESIGN.md §5): profiles under `$HERMES_HOME`, `config.yaml` edits that keep every
//! key (and comment) nxr does not own, the routing slots, SOUL.md and skill files.
//!
//! YAML: `config.yaml` belongs to the user and to Hermes, so nxr edits it losslessly with `yaml-edit` (a
//! rowan syntax tree that keeps comments, key order, quoting and indentation) and checks every file, before
//! and after an edit, with `serde_norway` (a strict libyaml parser with line/column errors). A file that
//! does not parse strictly is never written; an edit whose result does not read back exactly is refused.
//!
//! `.env` belongs to `domain::secrets`, not to this module.

use crate::domain::roles::Role;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use yaml_edit::path::{PathError, YamlPath};

/// The profile name Hermes gives its root profile (`$HERMES_HOME` itself).
pub const ROOT_PROFILE: &str = "default";

/// Names Hermes refuses for profiles (hermes_cli/profiles.py `_RESERVED_NAMES`).
pub const RESERVED_PROFILE_NAMES: [&str; 6] = ["hermes", "default", "test", "tmp", "root", "sudo"];

/// The routing slots every Hermes config knows (newer versions add more; [`routing_slots`] shows those too).
pub const AUX_SLOTS: [&str; 7] = [
    "vision",
    "web_extract",
    "compression",
    "session_search",
    "skills_hub",
    "approval",
    "mcp",
];

/// The name [`routing_slots`] and [`set_slot`] use for the main model (`model.default` + `model.provider`).
pub const MAIN_SLOT: &str = "main";

#[derive(Debug, thiserror::Error)]
pub enum HermesError {
    #[error(
        "{path} is not valid YAML (line {line}, column {column}: {message}); fix that line or move the file away — nxr changed nothing"
    )]
    BrokenConfig {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{path} is not a YAML mapping at the top level; Hermes expects `key: value` lines — fix the file or move it away (nxr changed nothing)"
    )]
    NotAMapping { path: String },
    #[error(
        "cannot {action} {path}: {source}; make HERMES_HOME writable or point HERMES_HOME at another directory"
    )]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("cannot set `{key}` in {path}: {message} (nxr changed nothing)")]
    Edit {
        path: String,
        key: String,
        message: String,
    },
    #[error(
        "{link} is a symlink to {target}, which does not exist; nxr never replaces a link of yours: restore {target}, or remove the link, then try again (nxr changed nothing)"
    )]
    DanglingLink { link: String, target: String },
    #[error("{0}")]
    Invalid(String),
}

impl HermesError {
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> HermesError {
        HermesError::Io {
            action,
            path: path.display().to_string(),
            source,
        }
    }
}

pub type Result<T, E = HermesError> = std::result::Result<T, E>;

// ---------------------------------------------------------------------------------------------------------
// Profiles
// ---------------------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------------------
// Atomic writes
// ---------------------------------------------------------------------------------------------------------

/// Writes `bytes` to `path` atomically: a temp file in the same directory, fsync, rename, fsync of the
/// directory. An existing file keeps its mode; a new one gets `new_mode`. A symlink is followed (its target
/// is replaced), so a user's linked config stays linked.
pub fn write_atomic(path: &Path, bytes: &[u8], new_mode: u32) -> Result<()> {
    use crate::domain::fsutil;
    fsutil::write_atomic(path, bytes, fsutil::FileMode::KeepOr(new_mode), false)
        .map_err(|e| HermesError::io(e.action, &e.path, e.source))
}

/// Creates `dir` and its parents, with a clear error.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| HermesError::io("create the directory", dir, e))
}

// ---------------------------------------------------------------------------------------------------------
// config.yaml
// ---------------------------------------------------------------------------------------------------------

/// A value nxr writes into config.yaml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigValue {
    Str(String),
    Bool(bool),
    Null,
    /// Delete the key (nothing happens when it is absent).
    Remove,
}

/// An error when `path` is a symlink whose target is missing: such a link is the user's, and writing
/// through it (or replacing it) would lose it.
pub fn check_not_dangling(path: &Path) -> Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if meta.file_type().is_symlink() && std::fs::metadata(path).is_err() {
        let target = std::fs::read_link(path)
            .map(|t| t.display().to_string())
            .unwrap_or_else(|_| "?".into());
        return Err(HermesError::DanglingLink {
            link: path.display().to_string(),
            target,
        });
    }
    Ok(())
}

/// Reads and strictly parses a config file. A missing file is an empty mapping; a symlink to a
/// missing file is an error.
fn read_config(config_path: &Path) -> Result<(String, serde_norway::Value)> {
    check_not_dangling(config_path)?;
    let text = match std::fs::read_to_string(config_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(HermesError::io("read", config_path, e)),
    };
    let value = parse_strict(config_path, &text)?;
    Ok((text, value))
}

fn parse_strict(config_path: &Path, text: &str) -> Result<serde_norway::Value> {
    let value: serde_norway::Value = if text.trim().is_empty() {
        serde_norway::Value::Null
    } else {
        serde_norway::from_str(text).map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((0, 0));
            HermesError::BrokenConfig {
                path: config_path.display().to_string(),
                line,
                column,
                message: e.to_string(),
            }
        })?
    };
    match value {
        serde_norway::Value::Null => Ok(serde_norway::Value::Mapping(Default::default())),
        serde_norway::Value::Mapping(_) => Ok(value),
        _ => Err(HermesError::NotAMapping {
            path: config_path.display().to_string(),
        }),
    }
}

fn lookup<'a>(root: &'a serde_norway::Value, dotted: &str) -> Option<&'a serde_norway::Value> {
    let mut cur = root;
    for part in dotted.split('.') {
        cur = cur.as_mapping()?.get(part)?;
    }
    Some(cur)
}

fn scalar_string(v: &serde_norway::Value) -> Option<String> {
    use serde_norway::Value as V;
    match v {
        V::Null => None,
        V::Bool(b) => Some(b.to_string()),
        V::Number(n) => Some(n.to_string()),
        V::String(s) => Some(s.clone()),
        other => serde_norway::to_string(other)
            .ok()
            .map(|s| s.trim_end().to_string()),
    }
}

fn check_dotted(config_path: &Path, dotted: &str) -> Result<()> {
    let ok = !dotted.is_empty()
        && dotted.split('.').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err(HermesError::Edit {
            path: config_path.display().to_string(),
            key: dotted.to_string(),
            message: "a key path is dot-separated names of letters, digits, `_` and `-`".into(),
        })
    }
}

/// Reads one value by dotted path (`model.default`). `None` when absent or null. Mappings and lists come
/// back as YAML text.
pub fn get_config(config_path: &Path, dotted: &str) -> Result<Option<String>> {
    let (_, value) = read_config(config_path)?;
    Ok(lookup(&value, dotted).and_then(scalar_string))
}

/// Applies `edits` (dotted path → value) to config.yaml in one atomic write, keeping every other key and
/// comment. A missing file is created (mode 0600: it may hold API keys). A broken file is refused with its
/// line; a value with control characters is refused; nothing is written on any error.
pub fn set_config(config_path: &Path, edits: &[(String, ConfigValue)]) -> Result<()> {
    let (text, _) = read_config(config_path)?;
    for (key, value) in edits {
        check_dotted(config_path, key)?;
        if let ConfigValue::Str(s) = value
            && s.chars().any(|c| c.is_control())
        {
            return Err(HermesError::Edit {
                path: config_path.display().to_string(),
                key: key.clone(),
                message: format!("the value {s:?} contains control characters or line breaks"),
            });
        }
    }
    let edit_err = |key: &str, message: String| HermesError::Edit {
        path: config_path.display().to_string(),
        key: key.to_string(),
        message,
    };
    let file = yaml_edit::YamlFile::from_str(&text).map_err(|e| HermesError::BrokenConfig {
        path: config_path.display().to_string(),
        line: 0,
        column: 0,
        message: e.to_string(),
    })?;
    let doc = file.ensure_document();
    for (key, value) in edits {
        if matches!(value, ConfigValue::Remove) {
            match doc.try_remove_path(key) {
                Ok(_) | Err(PathError::NotFound { .. }) => {}
                Err(PathError::TypeMismatch { .. }) => {}
                Err(e) => return Err(edit_err(key, format!("{e:?}"))),
            }
            continue;
        }
        // A scalar where a mapping is needed (`model: some/id`, Hermes' older form) is replaced by a mapping.
        let mut tries = 0;
        loop {
            let r = match value {
                ConfigValue::Str(s) => doc.try_set_path(key, s.as_str()),
                ConfigValue::Bool(b) => doc.try_set_path(key, *b),
                ConfigValue::Null => doc.try_set_path(key, yaml_edit::ScalarValue::null()),
                ConfigValue::Remove => Ok(()),
            };
            match r {
                Ok(()) => break,
                Err(PathError::TypeMismatch { at }) if tries < 4 && at != *key => {
                    tries += 1;
                    doc.try_remove_path(&at)
                        .map_err(|e| edit_err(key, format!("{e:?}")))?;
                }
                Err(e) => return Err(edit_err(key, format!("{e:?}"))),
            }
        }
    }
    let mut out = file.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    // Read the result back strictly and check every edit landed exactly; otherwise write nothing.
    let check = parse_strict(config_path, &out).map_err(|e| {
        edit_err(
            edits.first().map(|e| e.0.as_str()).unwrap_or(""),
            format!("the edited file would not parse ({e})"),
        )
    })?;
    for (key, value) in edits {
        let got = lookup(&check, key);
        let ok = match value {
            ConfigValue::Str(s) => got.and_then(|v| v.as_str()) == Some(s.as_str()),
            ConfigValue::Bool(b) => got.and_then(|v| v.as_bool()) == Some(*b),
            ConfigValue::Null => got.is_some_and(|v| v.is_null()),
            ConfigValue::Remove => got.is_none(),
        };
        if !ok {
            return Err(edit_err(
                key,
                "the edit did not read back as written".into(),
            ));
        }
    }
    if let Some(dir) = config_path.parent()
        && !dir.as_os_str().is_empty()
    {
        ensure_dir(dir)?;
    }
    write_atomic(config_path, out.as_bytes(), 0o600)
}

/// One routing slot: the main model or an `auxiliary.<name>` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Slot {
    pub name: String,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub base_url: Option<String>,
}

/// The main model (`model.default`, or `model.model`, or a bare `model: id`), the 7 standard auxiliary
/// slots (empty when absent), then every other `auxiliary.<name>` mapping in the file, in file order.
pub fn routing_slots(config_path: &Path) -> Result<Vec<Slot>> {
    let (_, root) = read_config(config_path)?;
    let field = |v: Option<&serde_norway::Value>, f: &str| {
        v.and_then(|m| m.as_mapping())
            .and_then(|m| m.get(f))
            .and_then(scalar_string)
    };
    let model = lookup(&root, "model");
    let main_model = match model {
        Some(serde_norway::Value::String(s)) => Some(s.clone()),
        _ => field(model, "default").or_else(|| field(model, "model")),
    };
    let mut slots = vec![Slot {
        name: MAIN_SLOT.into(),
        provider: field(model, "provider"),
        model: main_model,
        base_url: field(model, "base_url"),
    }];
    let aux = lookup(&root, "auxiliary").and_then(|a| a.as_mapping());
    let slot_of = |name: &str| {
        let v = aux.and_then(|a| a.get(name));
        Slot {
            name: name.to_string(),
            provider: field(v, "provider"),
            model: field(v, "model"),
            base_url: field(v, "base_url"),
        }
    };
    for name in AUX_SLOTS {
        slots.push(slot_of(name));
    }
    if let Some(aux) = aux {
        for (k, v) in aux {
            if let Some(name) = k.as_str()
                && v.is_mapping()
                && !AUX_SLOTS.contains(&name)
            {
                slots.push(slot_of(name));
            }
        }
    }
    Ok(slots)
}

/// Points one slot at a provider/model (`main` = `model.default` + `model.provider`). `base_url: None`
/// removes a stale base URL.
pub fn set_slot(
    config_path: &Path,
    slot_name: &str,
    provider: &str,
    model: &str,
    base_url: Option<&str>,
) -> Result<()> {
    let base = if slot_name == MAIN_SLOT {
        "model".to_string()
    } else {
        check_dotted(config_path, slot_name)?;
        if slot_name.contains('.') {
            return Err(HermesError::Invalid(format!(
                "{slot_name:?} is not a routing slot name; slots are `main` or names under `auxiliary` such as {}",
                AUX_SLOTS.join(", ")
            )));
        }
        format!("auxiliary.{slot_name}")
    };
    let mut edits = Vec::new();
    if slot_name == MAIN_SLOT {
        edits.push(("model.default".to_string(), ConfigValue::Str(model.into())));
        // Keep a `model.model` key (another spelling Hermes accepts) in step when the file has one.
        if get_config(config_path, "model.model")?.is_some() {
            edits.push(("model.model".to_string(), ConfigValue::Str(model.into())));
        }
    } else {
        edits.push((format!("{base}.model"), ConfigValue::Str(model.into())));
    }
    edits.push((
        format!("{base}.provider"),
        ConfigValue::Str(provider.into()),
    ));
    edits.push((
        format!("{base}.base_url"),
        match base_url {
            Some(u) => ConfigValue::Str(u.into()),
            None => ConfigValue::Remove,
        },
    ));
    set_config(config_path, &edits)
}

// ---------------------------------------------------------------------------------------------------------
// SOUL.md and skills
// ---------------------------------------------------------------------------------------------------------

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

fn read_skill(path: &Path, category: &str, dir_name: &str) -> Option<SkillOnDisk> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_hermes_profile_rules() {
        assert_eq!(profile_slug("PM Bot").unwrap(), "pm-bot");
        assert_eq!(
            profile_slug("  Ada__Lovelace!! 2 ").unwrap(),
            "ada-lovelace-2"
        );
        assert_eq!(profile_slug("test").unwrap(), "test-agent");
        assert!(profile_slug("!!!").is_err());
        for n in ["pm-bot", "ada-lovelace-2", "test-agent"] {
            assert!(is_valid_profile_name(n), "{n}");
        }
        assert!(!is_valid_profile_name("Bad"));
        assert!(!is_valid_profile_name("-x"));
        assert!(!is_valid_profile_name("root"));
    }

    #[test]
    fn config_edit_keeps_foreign_keys_and_comments() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.yaml");
        std::fs::write(
            &p,
            "# mine\nterminal:\n  backend: local # keep me\nmodel: old/id\nauxiliary:\n  vision:\n    provider: auto\n",
        )
        .unwrap();
        set_config(
            &p,
            &[
                ("model.default".into(), ConfigValue::Str("a/b:free".into())),
                (
                    "model.provider".into(),
                    ConfigValue::Str("openrouter".into()),
                ),
                ("auxiliary.free_only".into(), ConfigValue::Bool(true)),
            ],
        )
        .unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.contains("# mine") && text.contains("# keep me"),
            "{text}"
        );
        assert_eq!(
            get_config(&p, "terminal.backend").unwrap().as_deref(),
            Some("local")
        );
        assert_eq!(
            get_config(&p, "model.default").unwrap().as_deref(),
            Some("a/b:free")
        );
        assert_eq!(
            get_config(&p, "auxiliary.free_only").unwrap().as_deref(),
            Some("true")
        );
        let slots = routing_slots(&p).unwrap();
        assert_eq!(slots[0].model.as_deref(), Some("a/b:free"));
        assert_eq!(slots.len(), 8);
        set_slot(
            &p,
            "title_generation",
            "openrouter",
            "x/y",
            Some("http://h"),
        )
        .unwrap();
        let slots = routing_slots(&p).unwrap();
        assert_eq!(slots.len(), 9);
        assert_eq!(slots[8].name, "title_generation");
        assert_eq!(slots[8].base_url.as_deref(), Some("http://h"));
    }

    #[test]
    fn edits_keep_the_file_mode_and_leave_no_temp_files() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.yaml");
        std::fs::write(&p, "a: 1\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        set_config(&p, &[("b.c".into(), ConfigValue::Null)]).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
        assert_eq!(get_config(&p, "b.c").unwrap(), None);
        assert_eq!(get_config(&p, "a").unwrap().as_deref(), Some("1"));
        // A new file is private: it may hold API keys.
        let q = dir.path().join("new.yaml");
        set_config(
            &q,
            &[("model.default".into(), ConfigValue::Str("x".into()))],
        )
        .unwrap();
        assert_eq!(
            std::fs::metadata(&q).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn edits_work_in_every_shape_hermes_files_come_in() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.yaml");
        let shapes = [
            "auxiliary:\n    vision:\n        provider: auto  # four-space indent\n",
            "model: {default: a/b, provider: x}\nother: [1, 2]\n",
            "model: \"legacy/id\"\n",
            "# only a comment\n",
            "",
        ];
        for text in shapes {
            std::fs::write(&p, text).unwrap();
            set_slot(&p, MAIN_SLOT, "openrouter", "n/m:free", None).unwrap();
            set_slot(&p, "compression", "openrouter", "c/m", Some("http://x/v1")).unwrap();
            let out = std::fs::read_to_string(&p).unwrap();
            let slots = routing_slots(&p).unwrap();
            assert_eq!(
                slots[0].model.as_deref(),
                Some("n/m:free"),
                "{text:?} -> {out}"
            );
            assert_eq!(slots[0].provider.as_deref(), Some("openrouter"), "{out}");
            let c = slots.iter().find(|s| s.name == "compression").unwrap();
            assert_eq!(c.model.as_deref(), Some("c/m"), "{out}");
            assert_eq!(c.base_url.as_deref(), Some("http://x/v1"), "{out}");
            for comment in text.lines().filter_map(|l| l.find('#').map(|i| &l[i..])) {
                assert!(out.contains(comment), "{comment:?} lost: {out}");
            }
        }
        assert_eq!(get_config(&p, "model.base_url").unwrap(), None);
    }

    #[test]
    fn a_symlinked_config_stays_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.yaml");
        std::fs::write(&real, "a: 1\n").unwrap();
        let link = dir.path().join("config.yaml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        set_config(&link, &[("b".into(), ConfigValue::Bool(false))]).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(get_config(&real, "b").unwrap().as_deref(), Some("false"));
    }

    #[test]
    fn broken_config_is_refused_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.yaml");
        let bad = "model:\n  default: [unclosed\n";
        std::fs::write(&p, bad).unwrap();
        let err = set_config(
            &p,
            &[("model.default".into(), ConfigValue::Str("x".into()))],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("line 3") && err.contains("config.yaml"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&p).unwrap(), bad);
        let err = set_config(
            &p,
            &[("model.default".into(), ConfigValue::Str("x\ny".into()))],
        );
        assert!(err.is_err());
    }
}
