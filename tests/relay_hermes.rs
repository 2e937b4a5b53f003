//! The relay with the real Hermes: three agents made by `nxr init`, their profiles pointed at the
//! relay, each sending prompts at once against a loopback OpenRouter that answers 2 free requests
//! per 3-second "minute" and 429 above it. Through the relay every prompt is answered and the
//! server refuses none; with the profiles pointed straight at the server, the same burst meets
//! the limit.

mod common;

use common::{FakeServer, Homes, Reply};
use nxr::domain::budget::pacer::Limits;
use nxr::web::relay::{self, RelayConfig};
use serde_json::Value;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const KEY: &str = "sk-or-v1-relay-hermes-test";
const PROMPTS_PER_AGENT: usize = 3;

/// A loopback OpenRouter answering at most `limit` chat requests per `window`, 429 above.
fn limited_openrouter(limit: usize, window: Duration) -> (FakeServer, Arc<AtomicUsize>) {
    let fake = FakeServer::start();
    let refused = Arc::new(AtomicUsize::new(0));
    let recent = Arc::new(Mutex::new(VecDeque::<Instant>::new()));
    let (r, n) = (recent.clone(), refused.clone());
    let recorded: Value =
        serde_json::from_str(&common::fixture("openrouter/errors.json")).expect("errors.json");
    let per_minute = recorded["free_models_per_min"]["body"].to_string();
    fake.always(
        "/api/v1/key",
        Reply::json(200, common::fixture("openrouter/key.json")),
    );
    fake.respond_with("/api/v1/chat/completions", move |_| {
        let now = Instant::now();
        let mut recent = r.lock().expect("lock");
        while recent.front().is_some_and(|t| now - *t >= window) {
            recent.pop_front();
        }
        if recent.len() >= limit {
            n.fetch_add(1, Ordering::SeqCst);
            return Reply::json(429, per_minute.clone());
        }
        recent.push_back(now);
        common::chat_sse("pong")
    });
    (fake, refused)
}

fn nxr(homes: &Homes, fake: &FakeServer, args: &[&str]) -> String {
    let out = homes
        .nxr()
        .env("NXR_OPENROUTER_URL", format!("{}/api/v1", fake.base))
        .env("NXR_HERMES_BIN", common::hermes_bin())
        .env("HOME", homes.user_home())
        .env_remove("OPENROUTER_API_KEY")
        .args(args)
        .output()
        .expect("nxr runs");
    assert!(
        out.status.success(),
        "nxr {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn hermes(homes: &Homes, upstream: &str, profile: &str) -> Output {
    let mut cmd = Command::new(common::hermes_bin());
    if profile != "default" {
        cmd.args(["-p", profile]);
    }
    cmd.args(["-z", "ping"])
        .env("HERMES_HOME", homes.hermes_home())
        .env("HOME", homes.user_home())
        .env("NO_COLOR", "1")
        .env("OPENROUTER_BASE_URL", upstream)
        .env_remove("OPENROUTER_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .output()
        .expect("hermes runs")
}

/// Every agent's prompts at once; how many answered "pong".
fn burst(homes: &Homes, upstream: &str, profiles: &[String]) -> usize {
    std::thread::scope(|s| {
        let runs: Vec<_> = profiles
            .iter()
            .flat_map(|p| (0..PROMPTS_PER_AGENT).map(move |_| p))
            .map(|p| s.spawn(move || hermes(homes, upstream, p)))
            .collect();
        runs.into_iter()
            .map(|r| r.join().expect("a hermes run"))
            .filter(|out| String::from_utf8_lossy(&out.stdout).contains("pong"))
            .count()
    })
}

/// The config.yaml of `profile` (`default`: the root profile).
fn config_path(homes: &Homes, profile: &str) -> PathBuf {
    match profile {
        "default" => homes.hermes_home().join("config.yaml"),
        p => homes
            .hermes_home()
            .join("profiles")
            .join(p)
            .join("config.yaml"),
    }
}

#[test]
fn prompts_from_three_hermes_agents_at_once_are_all_answered_through_the_relay() {
    let homes = Homes::new();
    let window = Duration::from_secs(3);
    let (fake, refused) = limited_openrouter(2, window);
    nxr(&homes, &fake, &["init", "--free"]);
    nxr(&homes, &fake, &["config", "set", "openrouter-key", KEY]);
    let list: Value = serde_json::from_str(&nxr(&homes, &fake, &["agents", "list", "--json"]))
        .expect("agents list --json");
    let agents: Vec<(String, String)> = list
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|a| {
            Some((
                a["hermes_profile"].as_str()?.to_string(),
                a["model"].as_str()?.to_string(),
            ))
        })
        .collect();
    assert_eq!(agents.len(), 3, "{list}");
    let profiles: Vec<String> = agents.iter().map(|(p, _)| p.clone()).collect();
    let before: Vec<Vec<u8>> = profiles
        .iter()
        .map(|p| std::fs::read(config_path(&homes, p)).expect("config.yaml"))
        .collect();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let upstream = format!("{}/api/v1", fake.base);
    let relay = relay::start(
        RelayConfig {
            upstream: upstream.clone(),
            key: Some(KEY.into()),
            limits: Limits {
                per_minute: 2,
                per_day: 1000,
                minute: window,
                max_wait: Duration::from_secs(120),
            },
            store: None,
        },
        rt.handle().clone(),
        0,
    )
    .expect("the relay starts");
    let port = relay.addr.port().to_string();
    nxr(&homes, &fake, &["relay", "enable", "--port", &port]);
    for p in &profiles {
        let text = std::fs::read_to_string(config_path(&homes, p)).expect("config.yaml");
        assert!(text.contains(&relay.agent_url(p)), "{p}: {text}");
    }
    let started = Instant::now();
    let answered = burst(&homes, &upstream, &profiles);
    let took = started.elapsed();
    let total = profiles.len() * PROMPTS_PER_AGENT;
    assert_eq!(answered, total, "every prompt answered through the relay");
    assert_eq!(refused.load(Ordering::SeqCst), 0, "the server refused none");
    let stats = relay.stats.snapshot();
    for (p, model) in &agents {
        let own = stats.get(p).and_then(|m| m.get(model)).map(|c| c.answered);
        assert!(
            own.is_some_and(|n| n >= 1),
            "{p} answered on its own model through the relay: {stats:?}"
        );
    }
    for p in &profiles {
        let per_agent: u64 = stats
            .get(p)
            .map(|models| models.values().map(|c| c.answered).sum())
            .unwrap_or(0);
        assert!(
            per_agent >= PROMPTS_PER_AGENT as u64,
            "{p}: {per_agent} answered: {stats:?}"
        );
        for c in stats.get(p).into_iter().flat_map(|m| m.values()) {
            assert!(c.limited.is_empty() && c.refused == 0, "{p}: {c:?}");
        }
    }
    // The stored key went upstream for every request.
    for seen in fake.seen().iter().filter(|s| s.method == "POST") {
        let auth = seen
            .headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.as_str());
        assert_eq!(auth, Some(format!("Bearer {KEY}").as_str()));
    }
    common::figures(
        "relay-hermes",
        &format!(
            "{total} Hermes prompts from {} agents at once, 2 per {} s: all answered through the relay in {} s, 0 refused upstream",
            profiles.len(),
            window.as_secs(),
            took.as_secs()
        ),
    );

    // Disabled: every profile is byte for byte what it was; the same burst straight at the server
    // meets its limit.
    nxr(&homes, &fake, &["relay", "disable"]);
    for (p, bytes) in profiles.iter().zip(&before) {
        let now = std::fs::read(config_path(&homes, p)).expect("config.yaml");
        assert!(
            &now == bytes,
            "{p}'s config.yaml differs after enable + disable"
        );
    }
    burst(&homes, &upstream, &profiles);
    assert!(
        refused.load(Ordering::SeqCst) > 0,
        "without the relay the server answered 429"
    );
}
