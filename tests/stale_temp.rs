//! Temp files an interrupted atomic write left (`.nxr-tmp-…` in `$HERMES_HOME` and in profile folders)
//! are removed by the next command that writes there when they are stale (older than a minute, or
//! their writer process is gone); a fresh one of a live writer stays.

mod common;

use common::Homes;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const MODEL: &str = "openai/gpt-oss-120b:free";

/// Makes a 0600 temp file like a killed write leaves, with its modification time `age` ago.
fn litter(dir: &Path, name: &str, age: Duration) -> PathBuf {
    use std::os::unix::fs::OpenOptionsExt;
    let p = dir.join(name);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&p)
        .unwrap();
    f.set_modified(SystemTime::now() - age).unwrap();
    p
}

/// A pid no process has: a child that has exited and been reaped.
fn gone_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn the_next_write_removes_stale_temp_files_and_leaves_a_live_writers_one() {
    let homes = Homes::new();
    let init = homes.nxr().args(["init", "--free"]).output().unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let home = homes.hermes_home();
    let pm = home.join("profiles/pm");
    let me = std::process::id();
    let dead = gone_pid();
    let two_minutes = Duration::from_secs(120);
    let mut stale = Vec::new();
    let mut kept = Vec::new();
    for dir in [&home, &pm] {
        // From an older nxr (no pid in the name), two minutes old.
        stale.push(litter(dir, ".nxr-tmp-AbC123", two_minutes));
        // Its writer is gone, however fresh.
        stale.push(litter(
            dir,
            &format!(".nxr-tmp-{dead}-XyZ789"),
            Duration::ZERO,
        ));
        // A live writer's (this test's) fresh temp file: a write in flight.
        kept.push(litter(
            dir,
            &format!(".nxr-tmp-{me}-Live01"),
            Duration::ZERO,
        ));
        // A fresh one without a pid: it may be in flight.
        kept.push(litter(dir, ".nxr-tmp-Fresh1", Duration::ZERO));
    }
    // A command that only reads leaves them.
    let out = homes.nxr().args(["slots", "list"]).output().unwrap();
    assert!(out.status.success());
    assert!(stale.iter().all(|p| p.exists()));

    for args in [
        &["slots", "set", "compression", MODEL][..],
        &["slots", "set", "compression", MODEL, "--agent", "PM"][..],
    ] {
        let out = homes.nxr().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "nxr {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for p in &stale {
        assert!(!p.exists(), "{} is still there", p.display());
    }
    for p in &kept {
        assert!(p.exists(), "{} was removed", p.display());
    }
    // The write itself left no temp file of its own.
    for dir in [&home, &pm] {
        let left: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".nxr-tmp-"))
            .collect();
        assert_eq!(left.len(), 2, "{}: {left:?}", dir.display());
    }
}
