//! How fast a team converges, printed and never asserted (the target is printed next to the figure):
//! a real libSQL server (sqld), three hosts on this machine (each its own NXR_HOME, HERMES_HOME and
//! host name, each running `nxr serve` against the server), 60 agents spread over them, then a bulk
//! `nxr upgrade --all --yes` on one host. Measured: the time from the end of that command until every
//! one of the 60 profiles holds the model the database gives its agent (each host rewrites only its
//! own), and the same for `nxr upgrade --revert --all --yes`. Target: < 30 s each.
//!
//! Needs sqld (scripts/test.sh installs it; `NXR_TEST_SQLD_BIN` points elsewhere).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/common/team_host.rs"]
mod team_host;

use common::{FakeServer, Reply, Sqld};
use serde_json::Value;
use std::time::{Duration, Instant};
use team_host::{Host, Serve};

const KEY: &str = "sk-or-v1-bench00000000000000000000000000000000000000000000000000dd";
const AGENTS: usize = 60;
const HOSTS: [&str; 3] = ["a", "b", "c"];

/// (host, profile dir, model the database gives) for every agent.
fn wanted(
    hosts: &[Host],
    sqld: &Sqld,
    fake: &FakeServer,
) -> Vec<(usize, std::path::PathBuf, String)> {
    let list: Value =
        serde_json::from_str(&hosts[0].ok(sqld, fake, &["agents", "list", "--json"])).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let h = HOSTS
                .iter()
                .position(|n| a["host"] == *n)
                .expect("every agent has one of the hosts");
            let dir = hosts[h]
                .homes
                .hermes_home()
                .join("profiles")
                .join(a["hermes_profile"].as_str().unwrap());
            (h, dir, a["model"].as_str().unwrap().to_string())
        })
        .collect()
}

fn in_step(want: &[(usize, std::path::PathBuf, String)]) -> usize {
    want.iter()
        .filter(|(_, dir, model)| {
            nxr::domain::agents::hermes::get_config(&dir.join("config.yaml"), "model.default")
                .ok()
                .flatten()
                .as_deref()
                == Some(model.as_str())
        })
        .count()
}

/// Waits until every profile agrees; the time it took, or `None` after `limit`.
fn converge(
    hosts: &[Host],
    sqld: &Sqld,
    fake: &FakeServer,
    since: Instant,
    limit: Duration,
) -> Option<Duration> {
    let want = wanted(hosts, sqld, fake);
    assert_eq!(want.len(), AGENTS);
    loop {
        if in_step(&want) == AGENTS {
            return Some(since.elapsed());
        }
        if since.elapsed() > limit {
            eprintln!("{} of {AGENTS} in step after {limit:?}", in_step(&want));
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn main() {
    let sqld = Sqld::start();
    let fake = FakeServer::start();
    let key = serde_json::json!({"data": {"label": "sk-or-v1-ben...0dd", "limit": null,
        "limit_remaining": null, "usage": 5.0, "is_free_tier": false}});
    fake.always("/api/v1/key", Reply::json(200, key.to_string()));
    fake.always(
        "/api/v1/credits",
        Reply::json(
            403,
            r#"{"error":{"code":403,"message":"Only management keys"}}"#,
        ),
    );
    let hosts: Vec<Host> = HOSTS
        .iter()
        .map(|name| Host::without_hermes(name))
        .collect();
    for h in &hosts {
        h.ok(&sqld, &fake, &["config", "set", "openrouter-key", KEY]);
    }
    let roles = ["engineer", "pm", "research"];
    let started = Instant::now();
    for i in 0..AGENTS {
        let name = format!("agent-{i:02}");
        hosts[0].ok(
            &sqld,
            &fake,
            &[
                "agents",
                "create",
                "--role",
                roles[i % roles.len()],
                "--name",
                &name,
                "--host",
                HOSTS[i % HOSTS.len()],
            ],
        );
    }
    println!(
        "team: {AGENTS} agents created on host a for 3 hosts in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let _serves: Vec<Serve> = hosts.iter().map(|h| h.serve(&sqld, &fake)).collect();
    let since = Instant::now();
    match converge(&hosts, &sqld, &fake, since, Duration::from_secs(120)) {
        Some(t) => println!(
            "team: the 3 hosts made the {AGENTS} profiles in {:.1} s after their nxr serve started",
            t.as_secs_f64()
        ),
        None => println!("team: the profiles were not all made within 120 s"),
    }
    for (what, args) in [
        (
            "nxr upgrade --all --yes",
            &["upgrade", "--all", "--yes"][..],
        ),
        (
            "nxr upgrade --revert --all --yes",
            &["upgrade", "--revert", "--all", "--yes"][..],
        ),
    ] {
        let before = wanted(&hosts, &sqld, &fake);
        let t = Instant::now();
        hosts[0].ok(&sqld, &fake, args);
        let ran = t.elapsed();
        let after = wanted(&hosts, &sqld, &fake);
        let moved = before
            .iter()
            .zip(&after)
            .filter(|(b, a)| b.2 != a.2)
            .count();
        println!("team: `{what}` moved {moved} of {AGENTS} agents to another model");
        let since = Instant::now();
        match converge(&hosts, &sqld, &fake, since, Duration::from_secs(120)) {
            Some(c) => println!(
                "team: `{what}` on host a took {:.1} s; all {AGENTS} profiles on 3 hosts agreed {:.1} s later (target < 30 s)",
                ran.as_secs_f64(),
                c.as_secs_f64()
            ),
            None => println!(
                "team: `{what}` took {:.1} s; the profiles did NOT all agree within 120 s (target < 30 s)",
                ran.as_secs_f64()
            ),
        }
    }
}
