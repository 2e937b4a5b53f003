//! Which other processes have a local database file open (Linux: `/proc/<pid>/fd`), to name the one
//! that holds a lock.

use std::path::Path;

/// The other processes that have `db` (or its `-wal` / `-shm` file) open, as "pid N (nxr serve)",
/// in pid order. Empty when none is found or `/proc` cannot be read (another OS, another user's
/// processes).
pub fn lock_holders(db: &Path) -> Vec<String> {
    let Ok(db) = db.canonicalize() else {
        return Vec::new();
    };
    let names: Vec<std::path::PathBuf> = ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| {
            let mut p = db.clone().into_os_string();
            p.push(suffix);
            p.into()
        })
        .collect();
    let me = std::process::id();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = procs
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
                fds.flatten().any(|fd| {
                    std::fs::read_link(fd.path()).is_ok_and(|target| names.contains(&target))
                })
            })
        })
        .collect();
    pids.sort_unstable();
    pids.into_iter()
        .map(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|b| command_name(&b))
                .unwrap_or_default();
            if cmd.is_empty() {
                format!("pid {pid}")
            } else {
                format!("pid {pid} ({cmd})")
            }
        })
        .collect()
}

/// A process's name from its `cmdline`: the program's file name and the words after it up to the
/// first option (at most two), so `nxr upgrade --key sk-…` reads "nxr upgrade" and no secret an option
/// carries is shown.
fn command_name(cmdline: &[u8]) -> String {
    let mut args = cmdline
        .split(|c| *c == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned());
    let Some(program) = args.next() else {
        return String::new();
    };
    let program = program.rsplit('/').next().unwrap_or(&program).to_string();
    let words = std::iter::once(program)
        .chain(args.take_while(|a| !a.starts_with('-')).take(2))
        .collect::<Vec<_>>()
        .join(" ");
    crate::domain::base::text::escape_invisible(&words.chars().take(80).collect::<String>())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_command_name_stops_at_the_first_option() {
        assert_eq!(
            super::command_name(b"/usr/bin/nxr\0upgrade\0--key\0sk-or-v1-secret\0"),
            "nxr upgrade"
        );
        assert_eq!(super::command_name(b"nxr\0serve\0"), "nxr serve");
        assert_eq!(super::command_name(b""), "");
    }
}
