//! The relay's daily count with the real Hermes: once the day's free requests are used, a prompt
//! through Hermes ends at once with the relay's message naming the reset (00:00 UTC), nothing more
//! reaches OpenRouter, and `nxr run` queues the task for after the reset.
//!
//! hermes-agent 0.19.0 answers every 429 the same way (agent/conversation_loop.py): it switches at
//! once through the profile's fallback chain, then retries the last model twice, sleeping
//! `Retry-After` seconds (capped at 600) before each retry, or its own backoff (2-3 s, then 4-6 s)
//! without one; then it prints "API call failed after 3 retries: HTTP 429: <message>" and exits 0.
//! A `Retry-After` counting the seconds to midnight keeps it asleep for 2 × 600 s.

mod common;

use common::{FakeServer, Homes, Reply};
use nxr::domain::agents::hermes_run;
use nxr::domain::budget::pacer::Limits;
use nxr::domain::catalog::ratelimit::RateLimitKind;
use nxr::web::relay::{self, RelayConfig};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KEY: &str = "sk-or-v1-relay-daily-test";
const CHAT: &str = "/api/v1/chat/completions";
/// Far beyond what Hermes takes to start and fail through its whole chain with its own backoff
/// (about 15 s here), far below the 20 minutes a `Retry-After` until midnight keeps it waiting: a
/// run still going after this is stopped and the test fails.
const HERMES_BOUND: Duration = Duration::from_secs(90);

/// The account's `/key` answer: 3 of 50 free requests used, so OpenRouter's own count has room and
/// only the relay's count stops the prompt.
fn key_reply() -> Reply {
    let mut key: Value = serde_json::from_str(&common::fixture("openrouter/key.json")).unwrap();
    key["data"]["free_model_daily_requests"] =
        serde_json::json!({"used": 3, "limit": 50, "remaining": 47});
    Reply::json(200, key.to_string())
}

fn nxr(homes: &Homes, fake: &FakeServer, args: &[&str]) -> std::process::Output {
    homes
        .nxr()
        .env("NXR_OPENROUTER_URL", format!("{}/api/v1", fake.base))
        .env("NXR_HERMES_BIN", common::hermes_bin())
        .env("HOME", homes.user_home())
        .env_remove("OPENROUTER_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .args(args)
        .output()
        .expect("nxr runs")
}

fn ok(homes: &Homes, fake: &FakeServer, args: &[&str]) -> String {
    let out = nxr(homes, fake, args);
    assert!(
        out.status.success(),
        "nxr {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `hermes -p PROFILE -z ping`; what it printed (stdout, stderr) and how long it took. A run still
/// going after [`HERMES_BOUND`] is stopped and fails the test.
fn hermes_ping(
    homes: &Homes,
    upstream: &str,
    profile: &str,
    context: impl Fn() -> String,
) -> (String, String, Duration) {
    let out_path = homes.dir.path().join("hermes.out");
    let err_path = homes.dir.path().join("hermes.err");
    let mut child = Command::new(common::hermes_bin())
        .args(["-p", profile, "-z", "ping"])
        .env("HERMES_HOME", homes.hermes_home())
        .env("HOME", homes.user_home())
        .env("NO_COLOR", "1")
        .env("OPENROUTER_BASE_URL", upstream)
        .env_remove("OPENROUTER_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("a file"))
        .stderr(std::fs::File::create(&err_path).expect("a file"))
        .spawn()
        .expect("hermes starts");
    let started = Instant::now();
    let ended = loop {
        if let Some(status) = child.try_wait().expect("hermes' status") {
            break Some(status);
        }
        if started.elapsed() > HERMES_BOUND {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = started.elapsed();
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    assert!(
        ended.is_some(),
        "Hermes was still waiting after {} s (it sleeps a Retry-After, up to 600 s, before each of its retries); {}; it printed: {stdout}{stderr}",
        HERMES_BOUND.as_secs(),
        context()
    );
    (stdout, stderr, took)
}

#[test]
fn at_the_daily_limit_a_hermes_prompt_ends_at_once_naming_the_reset_and_nxr_run_queues_it() {
    let homes = Homes::new();
    let fake = FakeServer::start();
    fake.always("/api/v1/key", key_reply());
    fake.always(CHAT, common::chat_sse("pong"));
    let upstream = format!("{}/api/v1", fake.base);
    ok(&homes, &fake, &["init", "--free"]);
    ok(&homes, &fake, &["config", "set", "openrouter-key", KEY]);
    let list: Value = serde_json::from_str(&ok(&homes, &fake, &["agents", "list", "--json"]))
        .expect("agents list --json");
    let pm = list
        .as_array()
        .expect("a list")
        .iter()
        .find(|a| a["hermes_profile"] == "pm")
        .unwrap_or_else(|| panic!("a pm agent: {list}"));
    let (name, model) = (
        pm["name"].as_str().expect("a name").to_string(),
        pm["model"].as_str().expect("a model").to_string(),
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let relay = relay::start(
        RelayConfig {
            upstream: upstream.clone(),
            key: Some(KEY.into()),
            limits: Limits {
                per_minute: 20,
                per_day: 1,
                minute: Duration::from_secs(60),
                max_wait: Duration::from_secs(120),
            },
            store: None,
        },
        rt.handle().clone(),
        0,
    )
    .expect("the relay starts");
    let port = relay.addr.port().to_string();
    ok(&homes, &fake, &["relay", "enable", "--port", &port]);
    let refused = || -> u64 {
        relay
            .stats
            .snapshot()
            .get("pm")
            .map(|models| models.values().map(|c| c.refused).sum())
            .unwrap_or(0)
    };

    // The day's one free request: answered.
    let counts = || format!("the relay's counts: {:?}", relay.stats.snapshot());
    let (stdout, stderr, _) = hermes_ping(&homes, &upstream, "pm", counts);
    assert!(stdout.contains("pong"), "{stdout}\n{stderr}");
    assert_eq!(fake.hits(CHAT), 1);
    assert_eq!(refused(), 0);

    // (a) The next prompt ends with the relay's message naming the reset; nothing more went
    // upstream, and every request Hermes made (its model, then each fallback) was refused.
    let (stdout, stderr, took) = hermes_ping(&homes, &upstream, "pm", counts);
    let printed = format!("{stdout}{stderr}");
    assert!(
        !printed.contains("pong")
            && printed.contains("free-models-per-day")
            && printed.contains("00:00 UTC"),
        "{printed}"
    );
    assert_eq!(
        fake.hits(CHAT),
        1,
        "no request past the daily count reached OpenRouter"
    );
    let stats = relay.stats.snapshot();
    let own = stats
        .get("pm")
        .and_then(|m| m.get(&model))
        .cloned()
        .unwrap_or_default();
    assert!(
        own.refused >= 1,
        "the relay refused pm's own model: {stats:?}"
    );
    let hermes_refusals = refused();
    // nxr reads Hermes' answer as the free daily limit.
    assert_eq!(
        hermes_run::rate_limit_of(stdout.trim()),
        Some(RateLimitKind::PerDay),
        "{stdout}"
    );

    // (b) `nxr run` queues the prompt for after the reset...
    let out = ok(
        &homes,
        &fake,
        &["run", "--agent", &name, "--timeout", "90", "write the plan"],
    );
    assert!(
        out.contains("queued as task #1") && out.contains("free-models-per-day"),
        "{out}"
    );
    assert!(
        refused() > hermes_refusals,
        "Hermes asked the relay and was refused"
    );
    assert_eq!(fake.hits(CHAT), 1);
    // ... and the next one at once, without starting Hermes.
    let refusals = refused();
    let out = ok(&homes, &fake, &["run", "--agent", &name, "and the tests"]);
    assert!(out.contains("queued as task #2"), "{out}");
    assert_eq!(refused(), refusals, "Hermes was not started");
    let queued: Value =
        serde_json::from_str(&ok(&homes, &fake, &["queue", "list", "--json"])).expect("json");
    let prompts: Vec<(&str, &str)> = queued
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|t| Some((t["prompt"].as_str()?, t["status"].as_str()?)))
        .collect();
    assert_eq!(
        prompts,
        [("write the plan", "queued"), ("and the tests", "queued")]
    );
    common::figures(
        "relay-daily",
        &format!(
            "at the relay's daily count (1): a Hermes prompt ended {:.1} s after it started, {} requests refused by the relay, none upstream",
            took.as_secs_f64(),
            hermes_refusals
        ),
    );
}
