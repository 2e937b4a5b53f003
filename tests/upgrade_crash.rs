//! `nxr upgrade --all` killed with SIGKILL at random moments: afterwards no agent's model in the
//! database disagrees with its config.yaml once nxr has run again (an interrupted switch is journaled
//! and undone), every disagreement seen right after the kill is one the journal records, and
//! `PRAGMA integrity_check` says ok.
//!
//! `NXR_KILL_TRIALS` (default 50) and `NXR_KILL_SEED` (default 12) make a run repeatable.

mod common;

use common::{FakeServer, Homes, Reply};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KEY: &str = "sk-or-v1-0123456789abcdef0123456789abcdef";

fn nxr(homes: &Homes, server: &FakeServer) -> Command {
    let mut c = homes.nxr();
    c.env("NXR_HERMES_BIN", common::hermes_bin())
        .env("NXR_FASTER_WHISPER_CMD", "false")
        .env("NXR_OPENROUTER_URL", format!("{}/api/v1", server.base))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn ok(mut c: Command, args: &[&str]) {
    let st = c.args(args).status().expect("nxr runs");
    assert!(st.success(), "nxr {args:?} failed");
}

/// A small seedable generator (xorshift64*), so a failing run can be repeated.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn copy_dir(from: &Path, to: &Path) {
    let st = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", from.display()))
        .arg(to)
        .status()
        .expect("cp");
    assert!(st.success());
}

struct Db {
    rt: tokio::runtime::Runtime,
    store: nxr::domain::store::Store,
}

impl Db {
    fn open(homes: &Homes) -> Db {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let store = rt
            .block_on(nxr::domain::store::Store::open_local(
                &homes.nxr_home().join("hermes_tracking.db"),
            ))
            .expect("the database opens after a kill");
        Db { rt, store }
    }

    fn strings(&self, sql: &str) -> Vec<(String, String)> {
        self.rt.block_on(async {
            let mut rows = self.store.conn().query(sql, ()).await.unwrap();
            let mut out = Vec::new();
            while let Some(r) = rows.next().await.unwrap() {
                let a = r.get_value(0).unwrap();
                let b = r.get_value(1).unwrap();
                let s = |v: libsql::Value| match v {
                    libsql::Value::Text(t) => t,
                    libsql::Value::Integer(i) => i.to_string(),
                    other => format!("{other:?}"),
                };
                out.push((s(a), s(b)));
            }
            out
        })
    }
}

/// Agent name → (DB model, config.yaml model.default), read without running nxr.
fn models(homes: &Homes, db: &Db) -> BTreeMap<String, (String, String)> {
    db.strings("SELECT name, model FROM agents ORDER BY id")
        .into_iter()
        .map(|(name, model)| {
            let env = homes.env();
            let agent = db
                .rt
                .block_on(nxr::domain::agents::get_by_name(&db.store, &env, &name))
                .unwrap();
            let on_disk = nxr::domain::agents::hermes::get_config(
                &agent.profile().config_path(),
                "model.default",
            )
            .expect("config.yaml stays readable (atomic writes)")
            .unwrap_or_default();
            (name, (model, on_disk))
        })
        .collect()
}

#[test]
fn kill_9_during_upgrade_all_never_leaves_a_db_and_config_yaml_that_disagree() {
    let trials: u64 = std::env::var("NXR_KILL_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let seed: u64 = std::env::var("NXR_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let server = FakeServer::start();
    server.always(
        "/api/v1/key",
        Reply::json(
            200,
            r#"{"data":{"label":"sk-or-v1-012...def","usage":12,"limit":null,"is_free_tier":false}}"#,
        ),
    );
    server.always(
        "/api/v1/credits",
        Reply::json(
            403,
            r#"{"error":{"code":403,"message":"Only management keys can perform this operation"}}"#,
        ),
    );
    let template = Homes::new();
    ok(nxr(&template, &server), &["init", "--free"]);
    ok(
        nxr(&template, &server),
        &["config", "set", "openrouter-key", KEY],
    );

    // How long one whole run takes here: the kills land anywhere in it (and a little after).
    let probe = Homes::new();
    copy_dir(template.dir.path(), probe.dir.path());
    let start = Instant::now();
    ok(nxr(&probe, &server), &["upgrade", "--all"]);
    let full = start.elapsed().as_micros() as u64;
    let paid = models(&probe, &Db::open(&probe));

    let mut rng = Rng(seed.max(1));
    let (mut interrupted, mut journaled) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(600);
    for trial in 0..trials {
        assert!(
            Instant::now() < deadline,
            "trial {trial}: the loop ran out of time"
        );
        let homes = Homes::new();
        copy_dir(template.dir.path(), homes.dir.path());
        let free = models(&homes, &Db::open(&homes));
        let delay = Duration::from_micros(rng.next() % (full + full / 5 + 1));
        let mut child = nxr(&homes, &server)
            .args(["upgrade", "--all"])
            .spawn()
            .expect("spawn");
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let status = child.wait().expect("wait");
        if !status.success() {
            interrupted += 1;
        }

        let db = Db::open(&homes);
        assert_eq!(
            db.strings("PRAGMA integrity_check")
                .first()
                .map(|r| r.0.clone()),
            Some("ok".to_string()),
            "trial {trial} (seed {seed}, delay {delay:?})"
        );
        // Right after the kill, any disagreement is a switch the journal holds.
        let pending: Vec<String> = db
            .strings(
                "SELECT a.name, j.to_model FROM model_switch_journal j JOIN agents a ON a.id = j.agent_id",
            )
            .into_iter()
            .map(|r| r.0)
            .collect();
        for (name, (in_db, on_disk)) in models(&homes, &db) {
            if in_db != on_disk {
                assert!(
                    pending.contains(&name),
                    "trial {trial} (seed {seed}, delay {delay:?}): {name} is {in_db} in the DB but {on_disk} in config.yaml, and no journal row says why"
                );
                journaled += 1;
            }
        }
        drop(db);
        // The next nxr puts it right: every agent agrees, on its free or its paid model.
        let st = homes
            .nxr()
            .args(["agents", "list", "--json"])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
        let db = Db::open(&homes);
        for (name, (in_db, on_disk)) in models(&homes, &db) {
            assert_eq!(
                in_db, on_disk,
                "trial {trial} (seed {seed}, delay {delay:?}): {name} disagrees after recovery"
            );
            assert!(
                in_db == free[&name].0 || in_db == paid[&name].0,
                "{name} on {in_db}: neither its free nor its paid model"
            );
        }
        assert!(
            db.strings("SELECT agent_id, to_model FROM model_switch_journal")
                .is_empty(),
            "the journal is empty after recovery"
        );
    }
    common::figures(
        "upgrade_crash",
        &format!(
            "upgrade crash (upgrade --all): trials {trials}, kills {interrupted}, half-done switches undone {journaled}, failures 0 (seed {seed})"
        ),
    );
    assert!(
        interrupted > 0,
        "no run was interrupted: the kills all came too late"
    );
}
