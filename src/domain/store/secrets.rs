//! Secrets in Hermes' `.env` (`$HERMES_HOME/.env`): read, write (mode 0600, atomic, keeping every other
//! line), and the masked form that is the only one nxr ever shows.

use crate::domain::base::env::Env;
use std::path::{Path, PathBuf};

/// The variable Hermes reads the OpenRouter key from.
pub const OPENROUTER_KEY_VAR: &str = "OPENROUTER_API_KEY";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "cannot {action} {path}: {source}; make HERMES_HOME writable or point HERMES_HOME at another directory"
    )]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the value for {name} contains spaces, quotes or control characters; paste the key exactly as OpenRouter shows it (sk-or-…)"
    )]
    BadValue { name: String },
    #[error("the value for {name} is empty; pass the key, e.g. sk-or-v1-…")]
    Empty { name: String },
}

fn io(action: &'static str, path: &Path, source: std::io::Error) -> SecretError {
    SecretError::Io {
        action,
        path: path.display().to_string(),
        source,
    }
}

/// `$HERMES_HOME/.env`.
pub fn env_file(env: &Env) -> PathBuf {
    env.hermes_home.join(".env")
}

/// The masked form of a secret: `sk-or-…abcd` (a known prefix and the last 4 characters). Short
/// values show nothing but their length class.
pub fn mask(secret: &str) -> String {
    let s = secret.trim();
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 12 {
        return "…(hidden)".to_string();
    }
    let prefix = if s.starts_with("sk-or-") {
        "sk-or-".to_string()
    } else {
        chars[..3].iter().collect()
    };
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{prefix}…{tail}")
}

/// Checks a value before it goes into `.env` (one line, no quoting needed).
pub fn check_value(name: &str, value: &str) -> Result<(), SecretError> {
    if value.is_empty() {
        return Err(SecretError::Empty { name: name.into() });
    }
    if value
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '"' | '\'' | '\\' | '#' | '$'))
    {
        return Err(SecretError::BadValue { name: name.into() });
    }
    Ok(())
}

/// The variable a `.env` line sets, if any (`NAME=…` or `export NAME=…`).
fn line_var(line: &str) -> Option<&str> {
    let t = line.trim_start();
    if t.starts_with('#') {
        return None;
    }
    let t = t.strip_prefix("export ").unwrap_or(t).trim_start();
    let (name, _) = t.split_once('=')?;
    let name = name.trim();
    (!name.is_empty()).then_some(name)
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return v[1..v.len() - 1].to_string();
        }
    }
    // An unquoted value ends at an inline comment.
    match v.find(" #") {
        Some(i) => v[..i].trim_end().to_string(),
        None => v.to_string(),
    }
}

/// Reads `name` from a `.env` file; `None` when the file or the variable is missing (last one wins,
/// as in python-dotenv).
pub fn read_var(path: &Path, name: &str) -> Result<Option<String>, SecretError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("read", path, e)),
    };
    let mut found = None;
    for line in text.lines() {
        if line_var(line) == Some(name) {
            let (_, v) = line.split_once('=').unwrap_or((line, ""));
            let v = unquote(v);
            found = (!v.is_empty()).then_some(v);
        }
    }
    Ok(found)
}

/// Sets `name=value` in a `.env` file: replaces the first line that sets `name` (dropping later
/// duplicates), or appends one; keeps every other line as it was. Written atomically with mode 0600.
pub fn set_var(path: &Path, name: &str, value: &str) -> Result<(), SecretError> {
    check_value(name, value)?;
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io("read", path, e)),
    };
    let mut out = String::with_capacity(text.len() + name.len() + value.len() + 2);
    let mut replaced = false;
    for line in text.lines() {
        if line_var(line) == Some(name) {
            if !replaced {
                out.push_str(&format!("{name}={value}\n"));
                replaced = true;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    if !replaced {
        out.push_str(&format!("{name}={value}\n"));
    }
    write_private(path, out.as_bytes())
}

/// Removes every line that sets `name` from a `.env` file, keeping every other line (atomic, mode
/// 0600). Returns false, writing nothing, when no line set it (or the file is missing).
pub fn remove_var(path: &Path, name: &str) -> Result<bool, SecretError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io("read", path, e)),
    };
    let mut out = String::with_capacity(text.len());
    let mut removed = false;
    for line in text.lines() {
        if line_var(line) == Some(name) {
            removed = true;
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    if removed {
        write_private(path, out.as_bytes())?;
    }
    Ok(removed)
}

/// Writes `bytes` atomically (temp file in the same directory, fsync, rename) with mode 0600.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), SecretError> {
    use crate::domain::base::fsutil;
    fsutil::write_atomic(path, bytes, fsutil::FileMode::Exactly(0o600), true)
        .map_err(|e| io(e.action, &e.path, e.source))
}

/// The OpenRouter key from `$HERMES_HOME/.env` (or `None`).
pub fn openrouter_key(env: &Env) -> Result<Option<String>, SecretError> {
    read_var(&env_file(env), OPENROUTER_KEY_VAR)
}

/// Stores the OpenRouter key in `$HERMES_HOME/.env` only. Named Hermes profiles never read that file:
/// store a key with `onboarding::store_key` (validated) or `credentials::set_openrouter_key`, which
/// also reach every agent's profile.
pub fn set_openrouter_key(env: &Env, key: &str) -> Result<(), SecretError> {
    set_var(&env_file(env), OPENROUTER_KEY_VAR, key.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_shows_prefix_and_last_four_only() {
        assert_eq!(mask("sk-or-v1-0123456789abcdef"), "sk-or-…cdef");
        assert_eq!(mask("abcdefghijklmnop"), "abc…mnop");
        assert_eq!(mask("short"), "…(hidden)");
    }

    #[test]
    fn set_var_keeps_other_lines_and_replaces_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".env");
        std::fs::write(
            &p,
            "# comment\nOTHER=1\nexport OPENROUTER_API_KEY=old\nX=\"y z\"\nOPENROUTER_API_KEY=older\n",
        )
        .unwrap();
        set_var(&p, OPENROUTER_KEY_VAR, "sk-or-v1-new").unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            text,
            "# comment\nOTHER=1\nOPENROUTER_API_KEY=sk-or-v1-new\nX=\"y z\"\n"
        );
        assert_eq!(
            read_var(&p, OPENROUTER_KEY_VAR).unwrap().as_deref(),
            Some("sk-or-v1-new")
        );
        assert_eq!(read_var(&p, "X").unwrap().as_deref(), Some("y z"));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn remove_var_drops_only_that_variable() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".env");
        std::fs::write(
            &p,
            "A=1\nOPENROUTER_API_KEY=k\n# c\nexport OPENROUTER_API_KEY=j\n",
        )
        .unwrap();
        assert!(remove_var(&p, OPENROUTER_KEY_VAR).unwrap());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "A=1\n# c\n");
        assert!(!remove_var(&p, OPENROUTER_KEY_VAR).unwrap());
        assert!(!remove_var(&dir.path().join("none"), "A").unwrap());
    }

    #[test]
    fn bad_values_are_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".env");
        std::fs::write(&p, "A=1\n").unwrap();
        assert!(set_var(&p, "K", "a\nB=2").is_err());
        assert!(set_var(&p, "K", "").is_err());
        assert!(set_var(&p, "K", "has space").is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "A=1\n");
    }
}
