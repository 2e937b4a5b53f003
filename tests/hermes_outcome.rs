//! How nxr judges a real Hermes run (hermes-agent 0.19.0, installed by scripts/test.sh) against a
//! fake OpenRouter on loopback: Hermes prints its error and exits 0 when every API call failed, so
//! `nxr agents check --live` and `nxr run` must read what happened. A chat endpoint answering 500, a
//! garbage body or a refused connection is a failure with its cause; a free daily bucket that is used
//! up is reported at once with the reset time (and `nxr run` queues the task); a prompt that starts
//! with `-` reaches the model as a prompt.

mod common;

use common::{FakeServer, Homes, Reply};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

const KEY: &str = "sk-or-v1-out0000000000000000000000000000000000000000000000000000dddd";
const CHAT: &str = "/api/v1/chat/completions";

/// One streamed chat completion answering `text`.
fn chat_reply(text: &str) -> Reply {
    common::chat_sse(text)
}

/// The account's `/key` answer with a free-model count.
fn key_reply(used: u64, limit: u64) -> Reply {
    let mut key: Value = serde_json::from_str(&common::fixture("openrouter/key.json")).unwrap();
    key["data"]["free_model_daily_requests"] =
        serde_json::json!({"used": used, "limit": limit, "remaining": limit.saturating_sub(used)});
    Reply::json(200, key.to_string())
}

struct Setup {
    homes: Homes,
    fake: FakeServer,
    /// Where Hermes sends chat requests (the fake, or a refusing port).
    hermes_base: String,
}

impl Setup {
    fn new() -> Setup {
        let homes = Homes::new();
        let fake = FakeServer::start();
        fake.always("/api/v1/key", key_reply(3, 50));
        let hermes_base = format!("{}/api/v1", fake.base);
        let s = Setup {
            homes,
            fake,
            hermes_base,
        };
        s.ok(&["init", "--free"]);
        s.ok(&["config", "set", "openrouter-key", KEY]);
        s
    }

    fn home_dir(&self) -> PathBuf {
        let home = self.homes.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        home
    }

    fn nxr(&self, args: &[&str]) -> Output {
        self.homes
            .nxr()
            .env("NXR_OPENROUTER_URL", format!("{}/api/v1", self.fake.base))
            .env("NXR_HERMES_BIN", common::hermes_bin())
            .env("OPENROUTER_BASE_URL", &self.hermes_base)
            .env("HOME", self.home_dir())
            .env_remove("OPENROUTER_API_KEY")
            .env_remove("OPENAI_API_KEY")
            .env_remove("ANTHROPIC_API_KEY")
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.nxr(args);
        assert!(
            out.status.success(),
            "nxr {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn chats(&self) -> Vec<common::Seen> {
        self.fake
            .seen()
            .into_iter()
            .filter(|s| s.method == "POST" && s.path == CHAT)
            .collect()
    }
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `agents check PM --live` against a broken chat endpoint: ✗ with the cause and a fix, not ready,
/// non-zero exit; and `nxr run --agent PM hi` exits non-zero with the error.
fn a_failing_endpoint_is_a_failure(s: &Setup, cause: &str) {
    let out = s.nxr(&["agents", "check", "PM", "--live", "--timeout", "120"]);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{cause}: exit 0\n{stdout}\n{stderr}");
    let live = stdout
        .lines()
        .find(|l| l.contains("the prompt failed"))
        .unwrap_or_else(|| panic!("{cause}: no failed live line\n{stdout}\n{stderr}"));
    assert!(
        live.trim_start().starts_with('✗') && live.contains("— fix: "),
        "{cause}: {live}"
    );
    assert!(live.contains(cause), "{cause}: {live}");
    assert!(!stdout.contains("Ready to run now"), "{stdout}");
    assert!(stdout.contains("Cannot run: PM"), "{stdout}");
    assert!(
        stderr.contains("each agent gets up to 120 s"),
        "the limit is said up front: {stderr}"
    );
    assert!(!stdout.contains(KEY) && !stderr.contains(KEY));

    let out = s.nxr(&["run", "--agent", "PM", "hi"]);
    let (stdout, stderr) = text(&out);
    assert!(
        !out.status.success(),
        "{cause}: nxr run exit 0\n{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("PM did not answer") && stderr.contains(cause),
        "{cause}: {stderr}"
    );
    assert!(stderr.contains("fix: "), "{stderr}");
}

#[test]
fn a_500_from_the_chat_endpoint_fails_the_live_check_and_the_run() {
    let s = Setup::new();
    s.fake.always(
        CHAT,
        Reply::json(
            500,
            r#"{"error":{"code":500,"message":"Internal Server Error"}}"#,
        ),
    );
    a_failing_endpoint_is_a_failure(&s, "500");
}

#[test]
fn a_garbage_body_from_the_chat_endpoint_fails_the_live_check_and_the_run() {
    let s = Setup::new();
    s.fake.always(
        CHAT,
        Reply {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: b"\x00\xffnot json at all <html>".to_vec(),
            delay: Duration::ZERO,
        },
    );
    a_failing_endpoint_is_a_failure(&s, "decode");
}

#[test]
fn a_refused_connection_fails_the_live_check_and_the_run() {
    let mut s = Setup::new();
    // Only Hermes' route to OpenRouter refuses; without a chain there is nothing else to try (a
    // chain's models go through nxr's own OpenRouter URL, which answers here).
    s.ok(&["config", "set", "fallback-count", "0"]);
    s.ok(&["agents", "fallbacks", "PM", "--reset"]);
    s.hermes_base = "http://127.0.0.1:9/api/v1".into();
    a_failing_endpoint_is_a_failure(&s, "onnection");
}

#[test]
fn a_prompt_that_starts_with_a_dash_reaches_the_model() {
    let s = Setup::new();
    s.fake.always(CHAT, chat_reply("pong"));
    for prompt in ["--help", "-z", "--oneshot=x"] {
        let before = s.chats().len();
        let out = s.ok(&["run", "--agent", "PM", "--", prompt]);
        assert!(out.contains("pong"), "{prompt}: {out}");
        let sent = &s.chats()[before..];
        assert!(!sent.is_empty(), "{prompt}: no chat request");
        let body: Value = serde_json::from_str(&sent[0].body).unwrap();
        let user = body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|m| m["role"] == "user")
            .unwrap()["content"]
            .to_string();
        assert!(user.contains(prompt), "{prompt}: {user}");
    }
}

/// The recorded 429 body OpenRouter sends when the free daily bucket is used up.
fn per_day_429(retry_after: &str) -> Reply {
    let all: Value = serde_json::from_str(&common::fixture("openrouter/errors.json")).unwrap();
    let body = all["free_models_per_day_under_10_credits"]["body"].to_string();
    Reply::json(429, body).header("Retry-After", retry_after)
}

#[test]
fn a_used_up_free_bucket_is_reported_at_once_and_the_run_is_queued() {
    let s = Setup::new();
    s.fake.always("/api/v1/key", key_reply(50, 50));
    s.fake.always(CHAT, per_day_429("3600"));
    let started = Instant::now();
    let out = s.nxr(&["agents", "check", "PM", "--live"]);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    assert!(stderr.contains("each agent gets up to 90 s"), "{stderr}");
    let live = stdout
        .lines()
        .find(|l| l.contains("the prompt failed"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        live.contains("free daily limit is used up (50 of 50)")
            && live.contains("T00:00:00Z")
            && live.contains("resets at 00:00 UTC"),
        "{live}"
    );
    assert_eq!(
        s.chats().len(),
        0,
        "no prompt is sent into a used-up bucket"
    );

    let started = Instant::now();
    let out = s.ok(&["run", "--agent", "PM", "write the plan"]);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        out.contains("queued as task #1: the free daily limit is used up (50 of 50)")
            && out.contains("T00:00:00Z (in "),
        "{out}"
    );
    assert_eq!(s.chats().len(), 0);
    let list: Value = serde_json::from_str(&s.ok(&["queue", "list", "--json"])).unwrap();
    assert_eq!(list[0]["prompt"], "write the plan");
    assert_eq!(list[0]["status"], "queued");
}

#[test]
fn a_per_day_429_during_a_run_queues_the_task_and_stops_the_next_prompt_at_once() {
    let s = Setup::new();
    s.fake.always(CHAT, per_day_429("1"));
    let out = s.nxr(&["run", "--agent", "PM", "write the plan"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("queued as task #1: OpenRouter refused the request")
            && stdout.contains("free-models-per-day"),
        "{stdout}"
    );
    let chats = s.chats().len();
    assert!(chats >= 1);
    // The 429 is remembered: the next prompt is not sent.
    let started = Instant::now();
    let out = s.ok(&["run", "--agent", "PM", "and the tests"]);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(out.contains("queued as task #2"), "{out}");
    assert_eq!(s.chats().len(), chats);
}

#[test]
fn a_429_with_a_long_retry_after_is_cut_off_at_the_time_limit_and_the_count_read_again() {
    let s = Setup::new();
    // OpenRouter's count has not caught up yet when the prompt starts.
    s.fake.always(CHAT, per_day_429("3600"));
    let started = Instant::now();
    let out = s.nxr(&["agents", "check", "PM", "--live", "--timeout", "15"]);
    let (stdout, stderr) = text(&out);
    let took = started.elapsed();
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert!(stderr.contains("each agent gets up to 15 s"), "{stderr}");
    let live = stdout
        .lines()
        .find(|l| l.contains("the prompt failed"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        live.contains("no answer within 15 s") && live.contains("Retry-After"),
        "{live}"
    );
    assert!(!s.chats().is_empty(), "Hermes did send the prompt");

    // By the time nxr stops Hermes, the count says the bucket is used up: the task is queued.
    s.fake
        .route("/api/v1/key", vec![key_reply(3, 50), key_reply(50, 50)]);
    let started = Instant::now();
    let out = s.nxr(&["run", "--agent", "PM", "--timeout", "15", "write the plan"]);
    let (stdout, stderr) = text(&out);
    assert!(started.elapsed() < Duration::from_secs(60));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("queued as task #1: OpenRouter refused the request")
            && stdout.contains("no answer within 15 s"),
        "{stdout}"
    );
}

/// Puts a task in the queue that became due at today's 00:00 UTC.
fn due_task(s: &Setup, prompt: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let env = s.homes.env();
        let store = nxr::domain::store::Store::open(&env).await.unwrap();
        let agent = nxr::domain::agents::resolve(&store, &env, "PM")
            .await
            .unwrap();
        let yesterday =
            nxr::domain::base::clock::FixedClock(chrono::Utc::now() - chrono::Duration::days(1));
        nxr::domain::budget::queue::enqueue(&store, &agent, prompt, &yesterday)
            .await
            .unwrap();
    });
}

#[test]
fn queue_run_judges_each_task_by_what_hermes_did() {
    let s = Setup::new();
    s.fake.always(
        CHAT,
        Reply::json(
            500,
            r#"{"error":{"code":500,"message":"Internal Server Error"}}"#,
        ),
    );
    due_task(&s, "first");
    let out = s.ok(&["queue", "run"]);
    assert!(out.starts_with("ran 1 task\n"), "{out}");
    assert!(out.contains("failed"), "{out}");
    let all: Value = serde_json::from_str(&s.ok(&["queue", "list", "--all", "--json"])).unwrap();
    assert_eq!(all[0]["status"], "failed", "{all}");
    assert!(
        all[0]["error"].as_str().unwrap().contains("500"),
        "the error is kept: {all}"
    );

    // A per-day 429 puts the task back for the reset, and says so.
    s.fake.always(CHAT, per_day_429("1"));
    due_task(&s, "second");
    let out = s.ok(&["queue", "run"]);
    assert!(
        out.starts_with("ran 0 tasks; task #2 was refused by OpenRouter (the free daily limit is used up) and waits for the reset; 1 queued task waits until ")
            && out.contains("T00:00:00Z (in "),
        "{out}"
    );
    let queued: Value = serde_json::from_str(&s.ok(&["queue", "list", "--json"])).unwrap();
    assert_eq!(queued[0]["prompt"], "second");
    assert_eq!(queued[0]["status"], "queued");
}
