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

fn hermes(homes: &Homes, profile: &str) -> Output {
    let mut cmd = Command::new(common::hermes_bin());
    if profile != "default" {
        cmd.args(["-p", profile]);
    }
    cmd.args(["-z", "ping"])
        .env("HERMES_HOME", homes.hermes_home())
        .env("HOME", homes.user_home())
        .env("NO_COLOR", "1")
        .env_remove("OPENROUTER_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .output()
        .expect("hermes runs")
}

/// Every agent's prompts at once; how many answered "pong".
fn burst(homes: &Homes, profiles: &[String]) -> usize {
    std::thread::scope(|s| {
        let runs: Vec<_> = profiles
            .iter()
            .flat_map(|p| (0..PROMPTS_PER_AGENT).map(move |_| p))
            .map(|p| s.spawn(move || hermes(homes, p)))
            .collect();
        runs.into_iter()
            .map(|r| r.join().expect("a hermes run"))
            .filter(|out| String::from_utf8_lossy(&out.stdout).contains("pong"))
            .count()
    })
}

/// Points every OpenRouter URL of `profile`'s config.yaml (model and chain) from `from` to `to`.
fn repoint(homes: &Homes, profile: &str, from: &str, to: &str) {
    let dir = match profile {
        "default" => homes.hermes_home(),
        p => homes.hermes_home().join("profiles").join(p),
    };
    let path = dir.join("config.yaml");
    let text = std::fs::read_to_string(&path).expect("the profile's config.yaml");
    assert!(text.contains(from), "{profile}: {text}");
    std::fs::write(&path, text.replace(from, to)).expect("config.yaml written");
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
    let profiles: Vec<String> = list
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|a| a["hermes_profile"].as_str().map(String::from))
        .collect();
    assert_eq!(profiles.len(), 3, "{list}");

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
        },
        rt.handle().clone(),
        0,
    )
    .expect("the relay starts");
    for p in &profiles {
        repoint(&homes, p, &upstream, &relay.agent_url(p));
    }
    let started = Instant::now();
    let answered = burst(&homes, &profiles);
    let took = started.elapsed();
    let total = profiles.len() * PROMPTS_PER_AGENT;
    assert_eq!(answered, total, "every prompt answered through the relay");
    assert_eq!(refused.load(Ordering::SeqCst), 0, "the server refused none");
    let stats = relay.stats.snapshot();
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

    // The relay off: the same burst straight at the server meets its limit.
    for p in &profiles {
        repoint(&homes, p, &relay.agent_url(p), &upstream);
    }
    burst(&homes, &profiles);
    assert!(
        refused.load(Ordering::SeqCst) > 0,
        "without the relay the server answered 429"
    );
}
