//! Hermes Agent's files (docs/design.md §5): profiles under `$HERMES_HOME`, `config.yaml` edits that keep every
//! key (and comment) nxr does not own, the routing slots, SOUL.md and skill files.
//!
//! YAML: `config.yaml` belongs to the user and to Hermes, so nxr edits it losslessly with `yaml-edit` (a
//! rowan syntax tree that keeps comments, key order, quoting and indentation) and checks every file, before
//! and after an edit, with `serde_norway` (a strict libyaml parser with line/column errors). A file that
//! does not parse strictly is never written; an edit whose result does not read back exactly is refused.
//!
//! `.env` belongs to `domain::store::secrets`, not to this module.

use crate::domain::base::roles::Role;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use yaml_edit::path::{PathError, YamlPath};

mod config;
mod profiles;
mod soul_skills;

pub use config::*;
pub use profiles::*;
pub use soul_skills::*;

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

/// The auxiliary slot Hermes sends images to.
pub const VISION_SLOT: &str = "vision";

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
