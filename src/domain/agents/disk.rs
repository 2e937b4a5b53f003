//! The profile disk transaction: every file an agent change writes is remembered so that a failed
//! database write can put the disk back as it was. New profiles are staged and renamed into place;
//! edits to existing files are atomic. It never touches the database.

use super::*;

pub(super) enum Undo {
    /// Put the file back as it was (`None` = it did not exist).
    RestoreFile(PathBuf, Option<Vec<u8>>),
    /// Remove a directory nxr created and filled (a profile, a skill).
    RemoveDir(PathBuf),
    /// Remove a directory nxr created on the way to something, if it is still empty: a concurrent
    /// caller may have put its own work there since (`profiles/` holding another new agent).
    RemoveEmptyDir(PathBuf),
    /// A directory moved aside: on undo move it back, on commit delete it.
    MovedAside { from: PathBuf, to: PathBuf },
    /// A directory moved to a place it stays in (a backup): on undo move it back.
    MovedTo { from: PathBuf, to: PathBuf },
}

/// The disk half of a change: remembers how to undo each step.
#[derive(Default)]
pub(super) struct DiskTxn {
    pub(super) undo: Vec<Undo>,
}

impl DiskTxn {
    /// Creates `dir` and any missing parents, remembering the ones it created.
    pub(super) fn create_dir_all(&mut self, dir: &Path) -> Result<(), HermesError> {
        let mut missing = Vec::new();
        let mut cur = Some(dir);
        while let Some(d) = cur {
            if d.exists() {
                break;
            }
            missing.push(d.to_path_buf());
            cur = d.parent();
        }
        for d in missing.into_iter().rev() {
            match std::fs::create_dir(&d) {
                Ok(()) => self.undo.push(Undo::RemoveEmptyDir(d)),
                // Someone else (a concurrent create) made it meanwhile: fine, and not ours to undo.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && d.is_dir() => {}
                Err(source) => {
                    return Err(HermesError::Io {
                        action: "create the directory",
                        path: d.display().to_string(),
                        source,
                    });
                }
            }
        }
        Ok(())
    }

    pub(super) fn remember_file(&mut self, path: &Path) -> Result<(), HermesError> {
        let before = match std::fs::read(path) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(HermesError::Io {
                    action: "read",
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        self.undo
            .push(Undo::RestoreFile(path.to_path_buf(), before));
        Ok(())
    }

    pub(super) fn set_config(
        &mut self,
        path: &Path,
        edits: &[(String, ConfigValue)],
    ) -> Result<(), HermesError> {
        self.remember_file(path)?;
        hermes::set_config(path, edits)
    }

    pub(super) fn write_new_file(&mut self, path: &Path, bytes: &[u8]) -> Result<(), HermesError> {
        self.remember_file(path)?;
        hermes::write_atomic(path, bytes, 0o644)
    }

    /// Moves a directory out of the way (into a fresh hidden sibling); deleted on commit, restored on undo.
    pub(super) fn move_aside(&mut self, dir: &Path) -> Result<(), HermesError> {
        let parent = dir.parent().unwrap_or(Path::new("."));
        let holder = tempfile::Builder::new()
            .prefix(".nxr-old-")
            .tempdir_in(parent)
            .map_err(|source| HermesError::Io {
                action: "create a temp directory in",
                path: parent.display().to_string(),
                source,
            })?
            .keep();
        let aside = holder.join("moved");
        if let Err(source) = std::fs::rename(dir, &aside) {
            let _ = std::fs::remove_dir(&holder);
            return Err(HermesError::Io {
                action: "move aside",
                path: dir.display().to_string(),
                source,
            });
        }
        self.undo.push(Undo::MovedAside {
            from: dir.to_path_buf(),
            to: aside,
        });
        Ok(())
    }

    /// Moves a directory to `to` (its parents are created), where it stays on commit.
    pub(super) fn move_to(&mut self, dir: &Path, to: &Path) -> Result<(), HermesError> {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|source| HermesError::Io {
                action: "create the directory",
                path: parent.display().to_string(),
                source,
            })?;
        }
        std::fs::rename(dir, to).map_err(|source| HermesError::Io {
            action: "move to a backup",
            path: dir.display().to_string(),
            source,
        })?;
        self.undo.push(Undo::MovedTo {
            from: dir.to_path_buf(),
            to: to.to_path_buf(),
        });
        Ok(())
    }

    /// A temp directory next to `dest` (same filesystem, so a rename moves it into place), with
    /// `dest`'s parents created (and remembered for undo).
    pub(super) fn staging_dir(&mut self, dest: &Path) -> Result<tempfile::TempDir, HermesError> {
        let parent = dest.parent().unwrap_or(Path::new("."));
        self.create_dir_all(parent)?;
        tempfile::Builder::new()
            .prefix(".nxr-tmp-")
            .tempdir_in(parent)
            .map_err(|source| HermesError::Io {
                action: "create a temp directory in",
                path: parent.display().to_string(),
                source,
            })
    }

    /// Writes a whole skill directory: built next to its place, then renamed into it.
    pub(super) fn write_skill_dir(
        &mut self,
        dir: &Path,
        skill_md: &str,
    ) -> Result<(), HermesError> {
        let tmp = self.staging_dir(dir)?;
        hermes::write_atomic(&tmp.path().join("SKILL.md"), skill_md.as_bytes(), 0o644)?;
        if dir.exists() {
            self.move_aside(dir)?;
        }
        let tmp_path = tmp.keep();
        std::fs::rename(&tmp_path, dir).map_err(|source| {
            let _ = std::fs::remove_dir_all(&tmp_path);
            HermesError::Io {
                action: "create",
                path: dir.display().to_string(),
                source,
            }
        })?;
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
        self.undo.push(Undo::RemoveDir(dir.to_path_buf()));
        Ok(())
    }

    /// Undoes every step, newest first. Best effort: it keeps going past a failing step.
    pub(super) fn rollback(self) {
        for u in self.undo.into_iter().rev() {
            match u {
                Undo::RestoreFile(path, Some(bytes)) => {
                    let _ = hermes::write_atomic(&path, &bytes, 0o600);
                }
                Undo::RestoreFile(path, None) => {
                    // A symlink is the user's: never removed, whatever its target holds.
                    let is_link =
                        std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
                    if !is_link {
                        let _ = std::fs::remove_file(&path);
                    }
                }
                Undo::RemoveDir(dir) => {
                    let _ = std::fs::remove_dir_all(&dir);
                }
                Undo::RemoveEmptyDir(dir) => {
                    let _ = std::fs::remove_dir(&dir);
                }
                Undo::MovedTo { from, to } => {
                    let _ = std::fs::rename(&to, &from);
                }
                Undo::MovedAside { from, to } => {
                    let _ = std::fs::remove_dir_all(&from);
                    let _ = std::fs::rename(&to, &from);
                    if let Some(holder) = to.parent() {
                        let _ = std::fs::remove_dir(holder);
                    }
                }
            }
        }
    }

    /// Keeps the changes: deletes what was moved aside.
    pub(super) fn commit(self) {
        for u in self.undo {
            if let Undo::MovedAside { to, .. } = u
                && let Some(holder) = to.parent()
            {
                let _ = std::fs::remove_dir_all(holder);
            }
        }
    }
}
