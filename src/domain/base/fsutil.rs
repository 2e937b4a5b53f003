//! Writes that must not tear: config.yaml, .env, the web access token.
//!
//! Each write goes through a temp file `.nxr-tmp-<pid>-XXXXXX` next to the file it replaces. A write
//! killed half-way leaves that temp file behind; the next write into the same directory removes the
//! ones that are stale: their writer process is gone, or they are older than [`STALE_TEMP_AGE`]
//! (names without a pid, from an older nxr, go by age alone). A fresh temp file of a live writer is
//! left alone.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The mode a written file ends with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileMode {
    /// An existing file keeps its mode; a new one gets this one.
    KeepOr(u32),
    /// Always exactly this mode (secrets: 0o600), set before any byte is written.
    Exactly(u32),
}

/// Which step of an atomic write failed.
#[derive(Debug)]
pub struct WriteError {
    /// "resolve", "write", "set the mode of", "sync", "replace", "create the directory".
    pub action: &'static str,
    /// The file written (a symlink's target).
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Refuses a file its owner made read-only (a user's "do not touch"), since an atomic write's
/// rename would replace it regardless of its mode. A missing file is fine.
pub fn check_writable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(path) {
        Ok(m) if m.permissions().mode() & 0o200 == 0 => Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "the file is read-only; make it writable (chmod u+w) to let nxr change it",
        )),
        _ => Ok(()),
    }
}

/// The prefix of every atomic write's temp file.
pub const TEMP_PREFIX: &str = ".nxr-tmp-";

/// A temp file older than this is left over whoever wrote it: an atomic write takes milliseconds.
pub const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(60);

/// The writer's pid a temp file's name carries (`.nxr-tmp-<pid>-XXXXXX`), if any.
fn temp_writer(name: &str) -> Option<u32> {
    let (pid, _) = name.strip_prefix(TEMP_PREFIX)?.split_once('-')?;
    pid.parse().ok().filter(|p| *p > 0)
}

/// Removes the stale atomic-write temp files (regular files only: a `.nxr-tmp-` directory is an agent
/// change's staging, which `leftovers` handles under the agents lock) in `dir`. Returns how many.
pub fn remove_stale_temp_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let now = std::time::SystemTime::now();
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with(TEMP_PREFIX) || !e.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let writer_gone =
            temp_writer(&name).is_some_and(|pid| pid != std::process::id() && !process_alive(pid));
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > STALE_TEMP_AGE);
        if (writer_gone || old) && std::fs::remove_file(e.path()).is_ok() {
            tracing::info!(path = %e.path().display(), "removed a stale temp file of an interrupted write");
            removed += 1;
        }
    }
    removed
}

/// Writes `bytes` to `path` atomically: a temp file in the same directory (mode set first), the
/// bytes, fsync, rename over `path`, fsync of the directory (stale temp files of earlier interrupted
/// writes there are removed first). A symlink is followed (its target is
/// replaced), so a user's linked file stays linked. The directory must exist unless `create_dir`.
pub fn write_atomic(
    path: &Path,
    bytes: &[u8],
    mode: FileMode,
    create_dir: bool,
) -> Result<(), WriteError> {
    use std::os::unix::fs::PermissionsExt;
    let fail = |action, path: &Path, source| WriteError {
        action,
        path: path.to_path_buf(),
        source,
    };
    let target = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::canonicalize(path).map_err(|e| fail("resolve", path, e))?
        }
        _ => path.to_path_buf(),
    };
    check_writable(&target).map_err(|e| fail("write", &target, e))?;
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if create_dir {
        std::fs::create_dir_all(dir).map_err(|e| fail("create the directory", dir, e))?;
    }
    let mode = match mode {
        FileMode::Exactly(m) => m,
        FileMode::KeepOr(new_mode) => match std::fs::metadata(&target) {
            Ok(m) => m.permissions().mode() & 0o7777,
            Err(_) => new_mode,
        },
    };
    remove_stale_temp_files(dir);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
        .tempfile_in(dir)
        .map_err(|e| fail("write", &target, e))?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(|e| fail("set the mode of", &target, e))?;
    tmp.write_all(bytes)
        .map_err(|e| fail("write", &target, e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| fail("sync", &target, e))?;
    tmp.persist(&target)
        .map_err(|e| fail("replace", &target, e.error))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Is a process with this pid alive? (Linux: /proc; elsewhere unknown → false.)
pub fn process_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode_of(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn keeps_an_existing_mode_or_forces_one_and_follows_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.yaml");
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&p, b"new", FileMode::KeepOr(0o644), false).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(mode_of(&p), 0o640);

        let secret = dir.path().join("sub/.env");
        write_atomic(&secret, b"K=v\n", FileMode::Exactly(0o600), true).unwrap();
        assert_eq!(mode_of(&secret), 0o600);

        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        write_atomic(&link, b"via link", FileMode::KeepOr(0o644), false).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "via link");
        // A file made read-only by its owner is refused, not replaced.
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o444)).unwrap();
        let err = write_atomic(&link, b"x", FileMode::KeepOr(0o644), false).unwrap_err();
        assert_eq!(err.source.kind(), std::io::ErrorKind::PermissionDenied);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "via link");
        // No temp files are left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| !n.starts_with(".nxr-tmp-")),
            "{names:?}"
        );
    }

    #[test]
    fn a_temp_name_carries_its_writer() {
        assert_eq!(temp_writer(".nxr-tmp-4242-AbC123"), Some(4242));
        assert_eq!(temp_writer(".nxr-tmp-AbC123"), None);
        assert_eq!(temp_writer(".nxr-tmp-0-x"), None);
        assert_eq!(temp_writer("config.yaml"), None);
    }
}
