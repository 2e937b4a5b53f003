//! A database another process keeps locked: a writing `nxr` command waits out the busy timeout, then
//! fails with exit 1, naming the lock, the process that holds it (here: this test) and what to do;
//! nothing is written. Once the lock is gone the same command works.

mod common;

use common::Homes;
use std::time::{Duration, Instant};

#[test]
fn a_held_write_lock_is_named_with_its_holder_and_a_next_step() {
    let homes = Homes::new();
    let init = homes.nxr().args(["init", "--free"]).output().unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let db_path = homes.nxr_home().join("hermes_tracking.db");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (db, conn) = rt.block_on(async {
        let db = libsql::Builder::new_local(&db_path).build().await.unwrap();
        let conn = db.connect().unwrap();
        conn.execute("BEGIN EXCLUSIVE", ()).await.unwrap();
        conn.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES ('test.lock', '1', '2026-01-01T00:00:00Z')
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (),
        )
        .await
        .unwrap();
        (db, conn)
    });

    let started = Instant::now();
    let out = homes
        .nxr()
        .args(["config", "set", "scan-interval-hours", "7"])
        .output()
        .unwrap();
    let took = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        took >= Duration::from_secs(4),
        "gave up after {took:?}: {err}"
    );
    let me = format!("pid {}", std::process::id());
    assert!(
        err.starts_with("error: the database ")
            && err.contains("hermes_tracking.db is locked by another process")
            && err.contains(&me)
            && err.contains("longer than 5 s")
            && err.contains("then run this command again"),
        "{err}"
    );
    assert!(!err.contains("SQLite failure"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    rt.block_on(async {
        conn.execute("ROLLBACK", ()).await.unwrap();
    });
    drop(conn);
    drop(db);
    // Nothing was written while locked; now the same command works.
    let got = homes.json(&["config", "get", "scan-interval-hours"]);
    assert!(got["value"].is_null(), "{got}");
    let out = homes
        .nxr()
        .args(["config", "set", "scan-interval-hours", "7"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
