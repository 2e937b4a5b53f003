//! The checks that look at the machine rather than at nxr's state: the Hermes executable and its
//! version, whether the two homes can be written, and the free disk space. None writes anything.

use super::{Line, Topic};
use crate::domain::base::env::Env;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The oldest Hermes Agent nxr is checked against (docs/design.md §5).
pub const MIN_HERMES_VERSION: (u32, u32, u32) = (0, 19, 0);
/// Below this much free space on the disk holding a home, the check fails.
pub const MIN_FREE_BYTES: u64 = 200 * 1024 * 1024;

/// The version in `hermes --version`'s first line ("Hermes Agent v0.19.0 (2026.7.20)").
pub fn parse_hermes_version(text: &str) -> Option<(u32, u32, u32)> {
    let first = text.lines().find(|l| l.contains("Hermes"))?;
    first.split_whitespace().find_map(|word| {
        let v = word.strip_prefix('v').unwrap_or(word);
        let mut parts = v.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch_text: String = parts
            .next()?
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        Some((major, minor, patch_text.parse().ok()?))
    })
}

fn version_text((a, b, c): (u32, u32, u32)) -> String {
    format!("{a}.{b}.{c}")
}

/// Runs `hermes --version` (with HERMES_HOME pointed at an empty temporary directory, so the run
/// cannot touch the user's home) and judges the version.
pub async fn hermes_line(env: &Env, timeout: Duration) -> Line {
    let install = format!(
        "install Hermes Agent (`pip install hermes-agent`) so that `hermes` is on PATH, or set NXR_HERMES_BIN to its path (now {:?})",
        env.hermes_bin
    );
    let scratch = tempfile::tempdir().ok();
    let mut cmd = tokio::process::Command::new(&env.hermes_bin);
    cmd.arg("--version")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    if let Some(dir) = &scratch {
        cmd.env("HERMES_HOME", dir.path());
    }
    let out = match tokio::time::timeout(timeout, cmd.output()).await {
        Err(_) => {
            return Line::fail(
                Topic::Hermes,
                format!(
                    "`{} --version` did not answer within {} s",
                    env.hermes_bin,
                    timeout.as_secs()
                ),
                "run `hermes --version` by hand to see what it waits for; reinstall Hermes if it hangs",
            );
        }
        Ok(Err(e)) => {
            return Line::fail(
                Topic::Hermes,
                format!("Hermes not found: cannot run {:?} ({e})", env.hermes_bin),
                install,
            );
        }
        Ok(Ok(out)) => out,
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let Some(version) = parse_hermes_version(&text) else {
        return Line::fail(
            Topic::Hermes,
            format!(
                "{:?} does not look like Hermes Agent: `--version` printed no Hermes version",
                env.hermes_bin
            ),
            install,
        );
    };
    if version < MIN_HERMES_VERSION {
        return Line::fail(
            Topic::Hermes,
            format!(
                "Hermes Agent {} is older than the {} nxr supports",
                version_text(version),
                version_text(MIN_HERMES_VERSION)
            ),
            "update Hermes Agent (`hermes update`, or reinstall it)",
        );
    }
    Line::pass(
        Topic::Hermes,
        format!(
            "Hermes Agent {} ({}; {} or newer is supported)",
            version_text(version),
            env.hermes_bin,
            version_text(MIN_HERMES_VERSION)
        ),
    )
}

/// The directory itself when it exists, else the closest ancestor that does.
fn existing(path: &Path) -> Option<PathBuf> {
    path.ancestors().find(|p| p.exists()).map(Path::to_path_buf)
}

/// True when this process may create and change files in `dir` (`access(2)`, which writes nothing).
fn may_write(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
}

/// Whether nxr can write `path` (its home named by `var`).
pub fn home_line(topic: Topic, var: &str, path: &Path) -> Line {
    let fix = format!(
        "make {} a directory you may write to, or set {var} to one",
        path.display()
    );
    if path.exists() && !path.is_dir() {
        return Line::fail(topic, format!("{} is not a directory", path.display()), fix);
    }
    if path.is_dir() {
        if may_write(path) {
            return Line::pass(topic, format!("{} is writable", path.display()));
        }
        return Line::fail(topic, format!("{} is not writable", path.display()), fix);
    }
    match existing(path) {
        Some(parent) if parent.is_dir() && may_write(&parent) => Line::pass(
            topic,
            format!(
                "{} does not exist yet; {} is writable, so it can be made",
                path.display(),
                parent.display()
            ),
        ),
        _ => Line::fail(
            topic,
            format!("{} does not exist and cannot be made here", path.display()),
            fix,
        ),
    }
}

/// Free bytes for an unprivileged user on the disk holding `path` (or its closest existing ancestor).
pub fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let dir = existing(path)?;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs only fills `stat`; `c` is a valid NUL-terminated path.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut stat) } != 0 {
        return None;
    }
    Some((stat.f_bavail as u64).saturating_mul(stat.f_frsize as u64))
}

fn size_text(bytes: u64) -> String {
    let mb = bytes / (1024 * 1024);
    if mb >= 10 * 1024 {
        format!("{} GB", mb / 1024)
    } else {
        format!("{mb} MB")
    }
}

/// Free space on the disks holding NXR_HOME and HERMES_HOME.
pub fn disk_line(env: &Env) -> Line {
    let homes = [
        ("NXR_HOME", &env.nxr_home),
        ("HERMES_HOME", &env.hermes_home),
    ];
    let mut parts = Vec::new();
    let mut low = Vec::new();
    for (var, path) in homes {
        match free_bytes(path) {
            Some(free) => {
                parts.push(format!("{} free for {var}", size_text(free)));
                if free < MIN_FREE_BYTES {
                    low.push(format!(
                        "only {} free on the disk holding {var} {}",
                        size_text(free),
                        path.display()
                    ));
                }
            }
            None => low.push(format!(
                "cannot tell the free space for {var} {}",
                path.display()
            )),
        }
    }
    if low.is_empty() {
        Line::pass(Topic::Disk, parts.join(", "))
    } else {
        Line::fail(
            Topic::Disk,
            low.join("; "),
            format!(
                "free at least {} there (old logs in {} can go)",
                size_text(MIN_FREE_BYTES),
                env.logs_dir().display()
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_hermes_version_line() {
        assert_eq!(
            parse_hermes_version("Hermes Agent v0.19.0 (2026.7.20)\nInstall directory: /x\n"),
            Some((0, 19, 0))
        );
        assert_eq!(
            parse_hermes_version("Hermes Agent 1.2.3rc1"),
            Some((1, 2, 3))
        );
        assert_eq!(parse_hermes_version("Python 3.11.7"), None);
        assert!((0, 18, 9) < MIN_HERMES_VERSION);
    }
}
