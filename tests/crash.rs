//! Crash safety of the writes after setup: `nxr models rescore`, `nxr agents rescore`,
//! `nxr upgrade --all`, `nxr upgrade --revert --all` and `nxr agents create` (a profile's
//! config.yaml plus its row) killed with SIGKILL at random moments on one home. After every kill:
//! `PRAGMA integrity_check` is ok, every config.yaml parses, the database and each agent's
//! config.yaml agree on its model, and the next nxr command runs normally. Seedable
//! (`NXR_CRASH_SEED`, `NXR_CRASH_TRIALS`); `nxr init` has its own loop in tests/crash_loop.rs, `nxr upgrade --all` a longer one in
//! tests/upgrade_crash.rs.
//! Kills go only to the child this test spawned (`Child::kill`).

mod common;

use common::{FakeServer, Homes, Reply};
use std::time::{Duration, Instant};

/// splitmix64, as in tests/crash_loop.rs: the same seed gives the same trials.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n.max(1)
    }
}

fn integrity(homes: &Homes) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let db = libsql::Builder::new_local(homes.nxr_home().join("hermes_tracking.db"))
            .build()
            .await
            .map_err(|e| e.to_string())?;
        let conn = db.connect().map_err(|e| e.to_string())?;
        let mut rows = conn
            .query("PRAGMA integrity_check", ())
            .await
            .map_err(|e| e.to_string())?;
        let row = rows.next().await.map_err(|e| e.to_string())?;
        row.map(|r| r.get::<String>(0).unwrap_or_default())
            .ok_or_else(|| "no answer".to_string())
    })
    .unwrap_or_else(|e| format!("cannot check: {e}"))
}

/// The checks after a kill; `Err` says what broke.
fn check(homes: &Homes, api: &str) -> Result<usize, String> {
    let ic = integrity(homes);
    if ic != "ok" {
        return Err(format!("integrity_check: {ic}"));
    }
    let out = homes
        .nxr()
        .env("NXR_OPENROUTER_URL", api)
        .args(["agents", "list", "--json"])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "the next command failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let agents: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("agents list --json: {e}"))?;
    let agents = agents.as_array().ok_or("agents list is not a list")?;
    for a in agents {
        let dir = a["hermes_profile_path"].as_str().ok_or("no profile path")?;
        let cfg = std::path::Path::new(dir).join("config.yaml");
        let model = nxr::domain::hermes::get_config(&cfg, "model.default")
            .map_err(|e| format!("{}: {e}", cfg.display()))?;
        if model.as_deref() != a["model"].as_str() {
            return Err(format!(
                "{}: the database says {:?}, config.yaml says {model:?}",
                a["name"], a["model"]
            ));
        }
    }
    Ok(agents.len())
}

#[test]
fn rescore_upgrade_revert_and_agent_writes_killed_at_random_moments_leave_a_consistent_home() {
    let seed: u64 = std::env::var("NXR_CRASH_SEED")
        .ok()
        .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        .unwrap_or(0x5EED_0015);
    let trials: usize = std::env::var("NXR_CRASH_TRIALS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let mut rng = Rng(seed);
    let server = FakeServer::start();
    server
        .always(
            "/api/v1/key",
            Reply::json(
                200,
                r#"{"data":{"label":"sk-or-v1-012...def","usage":12,"limit":null,"is_free_tier":false}}"#,
            ),
        )
        .always(
            "/api/v1/credits",
            Reply::json(403, r#"{"error":{"code":403,"message":"Only management keys"}}"#),
        );
    let api = format!("{}/api/v1", server.base);
    let homes = Homes::new();
    let nxr = |args: &[&str]| {
        let mut c = homes.nxr();
        c.env("NXR_OPENROUTER_URL", &api)
            .env("NXR_HERMES_BIN", common::hermes_bin())
            .args(args);
        c
    };
    for args in [
        &["init", "--free"][..],
        &[
            "config",
            "set",
            "openrouter-key",
            "sk-or-v1-0123456789abcdef0123456789abcdef",
        ],
    ] {
        let o = nxr(args).output().expect("setup");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let started = Instant::now();
    let (mut kills, mut failures, mut ran) = (0, Vec::new(), 0);
    for trial in 0..trials {
        if started.elapsed() > Duration::from_secs(240) {
            break;
        }
        ran += 1;
        let name = format!("Crash{trial}");
        let args: Vec<&str> = match rng.below(5) {
            0 => vec!["models", "rescore"],
            1 => vec!["agents", "rescore"],
            2 => vec!["upgrade", "--all"],
            3 => vec!["upgrade", "--revert", "--all"],
            _ => vec!["agents", "create", "--role", "research", "--name", &name],
        };
        let mut child = nxr(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        // Mostly early (start-up, migrations, the first writes), sometimes late in the work.
        let wait = if rng.below(4) == 0 {
            rng.below(800)
        } else {
            rng.below(150)
        };
        std::thread::sleep(Duration::from_millis(wait));
        if child.try_wait().expect("wait").is_none() {
            // SIGKILL to this child only.
            let _ = child.kill();
            kills += 1;
        }
        let _ = child.wait();
        if let Err(e) = check(&homes, &api) {
            failures.push(format!("trial {trial} ({}): {e}", args.join(" ")));
        }
    }
    println!(
        "crash (rescore, upgrade, revert, agent writes): trials {ran}, kills {kills}, failures {} (seed {seed:#x})",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "rerun with NXR_CRASH_SEED={seed:#x}:\n{}",
        failures.join("\n")
    );
    assert!(
        kills > ran / 3,
        "too few runs were killed mid-way: {kills} of {ran}"
    );
}
