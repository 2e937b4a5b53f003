//! Chain rewrites killed with SIGKILL at random moments: `nxr agents fallbacks Engineer --reset`
//! while the wanted chain length changes between trials. After every kill the Engineer's config.yaml
//! holds either the chain before or the chain after (never a torn file), nxr's record of the chain
//! it wrote is one of the two, the model in the database still matches the file, and the next
//! command runs. Seedable (`NXR_CRASH_SEED`, `NXR_CRASH_TRIALS`). Kills go only to the child this
//! test spawned.

mod common;

use common::{Homes, Rng};
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn ids(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m.as_str().or_else(|| m["model_id"].as_str()))
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn chain_rewrites_killed_at_random_moments_leave_the_chain_before_or_after() {
    let seed = std::env::var("NXR_CRASH_SEED")
        .ok()
        .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        .unwrap_or(0x5eed_fa11);
    let trials: usize = std::env::var("NXR_CRASH_TRIALS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let mut rng = Rng(seed);
    let homes = Homes::new();
    let init = homes.nxr().args(["init", "--free"]).output().unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let agents = homes.json(&["agents", "list"]);
    let engineer = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Engineer")
        .unwrap()
        .clone();
    let config =
        PathBuf::from(engineer["hermes_profile_path"].as_str().unwrap()).join("config.yaml");
    let model = engineer["model"].as_str().unwrap().to_string();

    // How long an uninterrupted rewrite takes here: timed kills land anywhere in it.
    let t = Instant::now();
    let o = homes
        .nxr()
        .args(["agents", "fallbacks", "Engineer", "--reset"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let span_ms = (t.elapsed().as_millis() as u64 * 5 / 4).max(20);

    let (mut kills, mut changed, mut failures) = (0, 0, Vec::new());
    for trial in 0..trials {
        let count = 1 + rng.below(4);
        let set = homes
            .nxr()
            .args(["config", "set", "fallback-count", &count.to_string()])
            .output()
            .unwrap();
        assert!(set.status.success());
        let view = homes.json(&["agents", "fallbacks", "Engineer"]);
        let before = ids(&view, "configured");
        let after = ids(&view, "chosen");
        let mut child = homes
            .nxr()
            .args(["agents", "fallbacks", "Engineer", "--reset"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(span_ms)));
        if child.try_wait().ok().flatten().is_none() {
            let _ = child.kill();
            kills += 1;
        }
        let _ = child.wait();
        let what = format!("trial {trial} (count {count}, seed {seed:#x})");
        let text = std::fs::read_to_string(&config).unwrap_or_default();
        let now = match nxr::domain::agents::hermes::fallback_models(&config) {
            Ok(n) => n,
            Err(e) => {
                failures.push(format!("{what}: config.yaml does not parse: {e}\n{text}"));
                continue;
            }
        };
        if now != before && now != after {
            failures.push(format!(
                "{what}: the chain is {now:?}, neither {before:?} nor {after:?}"
            ));
        }
        if now != before {
            changed += 1;
        }
        if nxr::domain::agents::hermes::get_config(&config, "model.default")
            .ok()
            .flatten()
            .as_deref()
            != Some(model.as_str())
        {
            failures.push(format!("{what}: the model in config.yaml changed:\n{text}"));
        }
        // The next command runs and sees a chain nxr knows: in step, or its own earlier one.
        let next = homes
            .nxr()
            .args(["agents", "fallbacks", "Engineer", "--json"])
            .output()
            .unwrap();
        if !next.status.success() {
            failures.push(format!(
                "{what}: the next command failed: {}",
                String::from_utf8_lossy(&next.stderr)
            ));
            continue;
        }
        let v: Value = serde_json::from_slice(&next.stdout).unwrap_or(Value::Null);
        if v["state"]["state"] == "hand_edited" {
            failures.push(format!(
                "{what}: nxr's own chain reads as edited by hand: {v}"
            ));
        }
    }
    common::figures(
        "crash",
        &format!(
            "crash (chain rewrites): trials {trials}, kills {kills}, chains changed {changed}, failures {} (seed {seed:#x})",
            failures.len()
        ),
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(kills > 0, "no run was killed mid-way");
}
