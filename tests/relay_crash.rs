//! `nxr relay enable` and `disable` killed with SIGKILL at random moments, over and over on the same
//! homes: after every kill each agent's config.yaml is either exactly as it was before the relay or
//! wholly on the relay (main model and every fallback entry), never between; a last `disable`
//! gives every profile back byte for byte.

mod common;

use common::{FakeServer, Homes, Reply, Rng};
use nxr::domain::budget::pacer::Limits;
use nxr::web::relay::{self, RelayConfig};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const KEY: &str = "sk-or-v1-relay-crash-test";

fn nxr(homes: &Homes, server: &FakeServer) -> Command {
    let mut c = homes.nxr();
    c.env("NXR_OPENROUTER_URL", format!("{}/api/v1", server.base))
        .env_remove("OPENROUTER_API_KEY");
    c
}

fn ok(mut c: Command, args: &[&str]) {
    let out = c.args(args).output().expect("nxr runs");
    assert!(
        out.status.success(),
        "nxr {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every profile's config.yaml path.
fn configs(homes: &Homes) -> Vec<(String, PathBuf)> {
    let mut out = vec![(
        "default".to_string(),
        homes.hermes_home().join("config.yaml"),
    )];
    for e in std::fs::read_dir(homes.hermes_home().join("profiles")).expect("profiles") {
        let e = e.expect("an entry");
        let name = e.file_name().to_string_lossy().into_owned();
        out.push((name, e.path().join("config.yaml")));
    }
    out.sort();
    out
}

/// Whether `text` is wholly on the relay at `url`: the main model and every fallback entry.
fn wholly_on(text: &str, url: &str) -> bool {
    let v: serde_norway::Value = serde_norway::from_str(text).expect("config.yaml parses");
    let main = v["model"]["base_url"].as_str() == Some(url)
        && v["model"]["provider"].as_str() == Some("custom");
    let chain = v["fallback_providers"]
        .as_sequence()
        .map(|s| s.iter().all(|e| e["base_url"].as_str() == Some(url)))
        .unwrap_or(true);
    main && chain
}

#[test]
fn kill_9_during_enable_and_disable_never_leaves_a_profile_half_on_the_relay() {
    let trials: u64 = std::env::var("NXR_KILL_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let seed: u64 = std::env::var("NXR_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(26);
    let server = FakeServer::start();
    server.always(
        "/api/v1/key",
        Reply::json(200, common::fixture("openrouter/key.json")),
    );
    let homes = Homes::new();
    ok(nxr(&homes, &server), &["init", "--free"]);
    ok(
        nxr(&homes, &server),
        &["config", "set", "openrouter-key", KEY],
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let relay = relay::start(
        RelayConfig {
            upstream: format!("{}/api/v1", server.base),
            key: Some(KEY.into()),
            limits: Limits::default(),
            store: None,
        },
        rt.handle().clone(),
        0,
    )
    .expect("the relay starts");
    let port = relay.addr.port().to_string();
    let files = configs(&homes);
    assert_eq!(files.len(), 3, "{files:?}");
    let before: Vec<Vec<u8>> = files
        .iter()
        .map(|(_, p)| std::fs::read(p).expect("config.yaml"))
        .collect();

    // How long one whole run takes: the kills land anywhere in it (and a little after).
    let start = Instant::now();
    ok(nxr(&homes, &server), &["relay", "enable", "--port", &port]);
    let full = start.elapsed().as_micros() as u64;
    ok(nxr(&homes, &server), &["relay", "disable"]);

    let mut rng = Rng(seed.max(1));
    let (mut killed, mut on, mut off) = (0u64, 0u64, 0u64);
    for trial in 0..trials {
        let args: Vec<&str> = if trial % 2 == 0 {
            vec!["relay", "enable", "--port", &port]
        } else {
            vec!["relay", "disable"]
        };
        let delay = Duration::from_micros(rng.below(full + full / 5 + 1));
        let mut child = nxr(&homes, &server)
            .args(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        if !child.wait().expect("wait").success() {
            killed += 1;
        }
        for ((name, path), original) in files.iter().zip(&before) {
            let now = std::fs::read(path).expect("config.yaml is there");
            if &now == original {
                off += 1;
                continue;
            }
            let text = String::from_utf8(now).expect("UTF-8");
            let url = relay.agent_url(name);
            assert!(
                wholly_on(&text, &url),
                "trial {trial} ({args:?} killed after {delay:?}, seed {seed}): {name} is half on the relay:\n{text}"
            );
            on += 1;
        }
    }
    ok(nxr(&homes, &server), &["relay", "disable"]);
    for ((name, path), original) in files.iter().zip(&before) {
        let now = std::fs::read(path).expect("config.yaml");
        assert!(&now == original, "{name} differs after the last disable");
    }
    assert!(
        killed > 0,
        "no run was interrupted: the kills all came too late"
    );
    common::figures(
        "relay crash",
        &format!(
            "relay enable/disable: trials {trials}, kills {killed}, profiles seen on the relay {on}, as before {off}, half-switched 0 (seed {seed})"
        ),
    );
}
