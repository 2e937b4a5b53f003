//! The free-tier budget end to end: usage ingested from the real Hermes Agent's state.db, the
//! account's own count from `GET /key`, the 70 / 90 / 100 % thresholds (once per UTC day; the 90 %
//! Telegram message to a fake Bot API on loopback), and tasks queued at 100 % that drain after the
//! reset — all with injected clocks, loopback servers on port 0 and temp homes.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::{FakeServer, Homes, Reply};
use nxr::domain::agents::hermes::{self, ConfigValue};
use nxr::domain::agents::{self, Agent, NewAgent};
use nxr::domain::base::clock::{FixedClock, to_db};
use nxr::domain::base::env::Env;
use nxr::domain::base::roles::Role;
use nxr::domain::budget;
use nxr::domain::budget::guard;
use nxr::domain::budget::queue::{self, Dispatch, RunFuture, RunOutcome, TaskRunner};
use nxr::domain::notifications;
use nxr::domain::store::Store;
use serde_json::Value;
use std::sync::Mutex;

const MODEL: &str = "openai/gpt-oss-120b:free";
const TOKEN: &str = "123456:TEST-token-for-the-fake-bot-api";

fn at(d: u32, h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, d, h, m, s).unwrap()
}

/// One streamed chat completion (server-sent events), as an OpenAI-compatible server sends it.
fn chat_reply() -> Reply {
    let chunk = |delta: &str, finish: &str, usage: &str| {
        format!(
            "data: {{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"{MODEL}\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":{finish}}}]{usage}}}\n\n"
        )
    };
    let body = format!(
        "{}{}data: [DONE]\n\n",
        chunk(r#"{"role":"assistant","content":"pong"}"#, "null", ""),
        chunk(
            "{}",
            "\"stop\"",
            ",\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":2,\"total_tokens\":13}"
        )
    );
    Reply {
        status: 200,
        headers: vec![("Content-Type".into(), "text/event-stream".into())],
        body: body.into_bytes(),
        delay: std::time::Duration::ZERO,
    }
}

fn nxr_json(homes: &Homes, extra: &[(&str, String)], args: &[&str]) -> Value {
    let mut c = homes.nxr();
    for (k, v) in extra {
        c.env(k, v);
    }
    let out = c.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "nxr {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn nxr_run_goes_through_hermes_and_the_budget_counts_it_once() {
    let homes = Homes::new();
    let chat = FakeServer::start();
    chat.always("/v1/chat/completions", chat_reply());
    let home = homes.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let env = [
        ("NXR_HERMES_BIN", common::path_str(&common::hermes_bin())),
        ("HOME", common::path_str(&home)),
    ];
    nxr_json(
        &homes,
        &env,
        &[
            "agents", "create", "--role", "pm", "--name", "Runner", "--model", MODEL, "--json",
        ],
    );
    // The profile talks to the loopback chat server (docs/design.md §5: a custom provider and its key).
    let profile = homes.hermes_home().join("profiles/runner");
    hermes::set_config(
        &profile.join("config.yaml"),
        &[
            ("model.provider".into(), ConfigValue::Str("custom".into())),
            (
                "model.base_url".into(),
                ConfigValue::Str(format!("{}/v1", chat.base)),
            ),
            ("model.default".into(), ConfigValue::Str(MODEL.into())),
        ],
    )
    .unwrap();
    std::fs::write(profile.join(".env"), "OPENAI_API_KEY=sk-test-loopback\n").unwrap();

    let out = homes
        .nxr()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env_remove("OPENROUTER_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .args(["run", "--agent", "Runner", "Say pong"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "nxr run: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("pong"));
    assert!(chat.hits("/v1/chat/completions") >= 1, "{:?}", chat.seen());
    assert!(profile.join("state.db").is_file(), "Hermes keeps its usage");

    let runner_row = |b: &Value| -> (u64, u64) {
        let row = b["per_agent"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["agent"] == "Runner")
            .unwrap_or_else(|| panic!("no Runner row: {b}"))
            .clone();
        (
            row["today"].as_u64().unwrap(),
            row["tokens_today"].as_u64().unwrap(),
        )
    };
    let first = nxr_json(&homes, &env, &["budget", "--json"]);
    let calls = chat.hits("/v1/chat/completions") as u64;
    let (requests, tokens) = runner_row(&first);
    assert_eq!(requests, calls, "one request per chat call Hermes made");
    assert!(tokens >= 13, "{first}");
    assert_eq!(first["used_today"].as_u64(), Some(calls), "a :free model");
    // Ingesting again adds nothing.
    let second = nxr_json(&homes, &env, &["budget", "--json"]);
    assert_eq!(runner_row(&second), (requests, tokens));
    assert_eq!(second["used_today"], first["used_today"]);
}

async fn setup() -> (Homes, Env, Store) {
    let homes = Homes::new();
    let mut env = homes.env();
    env.ollama_url = "http://127.0.0.1:9".into();
    env.openrouter_url = "http://127.0.0.1:9/api/v1".into();
    env.telegram_api_url = "http://127.0.0.1:9".into();
    let store = Store::open(&env).await.unwrap();
    (homes, env, store)
}

async fn agent(store: &Store, env: &Env, name: &str) -> Agent {
    agents::create(
        store,
        env,
        NewAgent {
            name: name.into(),
            role: Role::Pm,
            category: None,
            model: Some(MODEL.into()),
            skills: None,
            is_default: false,
            host: None,
        },
    )
    .await
    .unwrap()
}

async fn use_requests(store: &Store, agent: &Agent, n: i64, when: DateTime<Utc>) {
    store
        .conn()
        .execute(
            "INSERT INTO usage_events (agent_id, model, is_free, requests, occurred_at) VALUES (?1, ?2, 1, ?3, ?4)",
            libsql::params![agent.id, MODEL, n, to_db(when)],
        )
        .await
        .unwrap();
}

async fn fire(store: &Store, env: &Env, now: DateTime<Utc>) -> Vec<u64> {
    let clock = FixedClock(now);
    let b = budget::load(store, &clock).await.unwrap();
    guard::check(store, env, &b, &clock)
        .await
        .unwrap()
        .iter()
        .map(|a| a.threshold)
        .collect()
}

#[tokio::test]
async fn thresholds_fire_once_a_day_and_90_percent_reaches_telegram() {
    let (homes, mut env, store) = setup().await;
    let bot = FakeServer::start();
    let send = format!("/bot{TOKEN}/sendMessage");
    bot.always(&send, Reply::json(200, r#"{"ok":true,"result":{}}"#));
    env.telegram_api_url = bot.base.clone();
    std::fs::create_dir_all(homes.hermes_home()).unwrap();
    std::fs::write(
        homes.hermes_home().join(".env"),
        format!("TELEGRAM_BOT_TOKEN={TOKEN}\nTELEGRAM_HOME_CHANNEL=-1001234567890\n"),
    )
    .unwrap();
    let a = agent(&store, &env, "pm").await;
    let day1 = |h, m| at(1, h, m, 0);

    use_requests(&store, &a, 34, day1(9, 0)).await;
    assert_eq!(
        fire(&store, &env, day1(9, 5)).await,
        Vec::<u64>::new(),
        "68 %"
    );
    use_requests(&store, &a, 1, day1(9, 10)).await;
    assert_eq!(fire(&store, &env, day1(9, 15)).await, vec![70]);
    assert_eq!(
        fire(&store, &env, day1(9, 20)).await,
        Vec::<u64>::new(),
        "once"
    );
    assert_eq!(bot.hits(&send), 0, "no Telegram below 90 %");
    use_requests(&store, &a, 10, day1(10, 0)).await;
    assert_eq!(fire(&store, &env, day1(10, 0)).await, vec![90]);
    assert_eq!(bot.hits(&send), 1);
    let msg: Value = serde_json::from_str(&bot.seen()[0].body).unwrap();
    assert_eq!(msg["chat_id"], "-1001234567890");
    assert_eq!(
        msg["text"],
        "nxr: 45 of 50 free OpenRouter requests used today (90 %). The bucket resets at 00:00 UTC; at 100 % agents' tasks wait in `nxr queue`."
    );
    use_requests(&store, &a, 5, day1(11, 0)).await;
    assert_eq!(fire(&store, &env, day1(11, 0)).await, vec![100]);
    assert_eq!(fire(&store, &env, day1(23, 59)).await, Vec::<u64>::new());
    assert_eq!(bot.hits(&send), 1, "90 % told once");
    // A new UTC day starts from zero; crossing again fires again.
    assert_eq!(fire(&store, &env, at(2, 0, 30, 0)).await, Vec::<u64>::new());
    use_requests(&store, &a, 46, at(2, 8, 0, 0)).await;
    assert_eq!(fire(&store, &env, at(2, 8, 0, 0)).await, vec![70, 90]);
    assert_eq!(bot.hits(&send), 2);
    let budget_notes = notifications::list(&store, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.kind == notifications::KIND_BUDGET)
        .count();
    assert_eq!(budget_notes, 5);
}

#[tokio::test]
async fn a_telegram_error_is_told_but_never_fatal() {
    let (homes, mut env, store) = setup().await;
    let bot = FakeServer::start();
    bot.always(
        &format!("/bot{TOKEN}/sendMessage"),
        Reply::json(401, r#"{"ok":false,"description":"Unauthorized"}"#),
    );
    env.telegram_api_url = bot.base.clone();
    std::fs::create_dir_all(homes.hermes_home()).unwrap();
    std::fs::write(
        homes.hermes_home().join(".env"),
        format!("TELEGRAM_BOT_TOKEN={TOKEN}\nTELEGRAM_ALLOWED_USERS=42,43\n"),
    )
    .unwrap();
    let a = agent(&store, &env, "pm").await;
    use_requests(&store, &a, 45, at(1, 9, 0, 0)).await;
    let clock = FixedClock(at(1, 9, 0, 0));
    let b = budget::load(&store, &clock).await.unwrap();
    let alerts = guard::check(&store, &env, &b, &clock).await.unwrap();
    assert_eq!(alerts.len(), 2);
    let err = alerts[1].telegram.clone().unwrap().unwrap_err();
    assert!(
        err.contains("Unauthorized") && !err.contains(TOKEN),
        "{err}"
    );
    let msg: Value = serde_json::from_str(&bot.seen()[0].body).unwrap();
    assert_eq!(msg["chat_id"], "42");
    let notes = notifications::list(&store, 10).await.unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.title.contains("Telegram") && n.body.contains("Unauthorized")),
        "{notes:?}"
    );
}

/// Records the prompts it was given, in order.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl TaskRunner for Recorder {
    fn run<'a>(&'a self, _env: &'a Env, _agent: &'a Agent, prompt: &'a str) -> RunFuture<'a> {
        self.0.lock().unwrap().push(prompt.to_string());
        Box::pin(async { RunOutcome::answered("ok") })
    }
}

#[tokio::test]
async fn at_100_percent_tasks_queue_and_drain_after_midnight_oldest_first_20_a_minute() {
    let (_homes, env, store) = setup().await;
    let a = agent(&store, &env, "pm").await;
    let runner = Recorder::default();
    // 30 of 50 used: a run goes straight through.
    use_requests(&store, &a, 30, at(1, 20, 0, 0)).await;
    let clock = FixedClock(at(1, 21, 0, 0));
    let d = queue::run_or_queue(&store, &env, "pm", "now", &runner, &clock)
        .await
        .unwrap();
    assert!(matches!(d, Dispatch::Ran { .. }));
    // 50 of 50: the next 25 wait for the reset.
    use_requests(&store, &a, 20, at(1, 22, 0, 0)).await;
    for i in 0..25 {
        let clock = FixedClock(at(1, 23, 0, i));
        match queue::run_or_queue(&store, &env, "pm", &format!("task {i}"), &runner, &clock)
            .await
            .unwrap()
        {
            Dispatch::Queued {
                task, used, limit, ..
            } => {
                assert_eq!((used, limit), (50, 50));
                assert_eq!(task.run_after, "2026-05-02T00:00:00Z");
            }
            other => panic!("not queued: {other:?}"),
        }
    }
    assert_eq!(runner.0.lock().unwrap().as_slice(), ["now"]);
    // One cancelled by the user.
    let tasks = queue::list(&store, false).await.unwrap();
    queue::cancel(&store, tasks[3].id, &FixedClock(at(1, 23, 10, 0)))
        .await
        .unwrap();
    // Before midnight nothing runs.
    let r = queue::drain(&store, &env, &runner, &FixedClock(at(1, 23, 59, 59)))
        .await
        .unwrap();
    assert!(r.ran.is_empty());
    // After the reset: 20 in the first minute, oldest first, the cancelled one skipped…
    let r = queue::drain(&store, &env, &runner, &FixedClock(at(2, 0, 0, 30)))
        .await
        .unwrap();
    assert_eq!(r.ran.len(), 20);
    assert_eq!(r.waiting, 4);
    let want: Vec<String> = (0..25)
        .filter(|i| *i != 3)
        .map(|i| format!("task {i}"))
        .collect();
    assert_eq!(&runner.0.lock().unwrap()[1..], &want[..20]);
    // …none more within that minute…
    let r = queue::drain(&store, &env, &runner, &FixedClock(at(2, 0, 1, 0)))
        .await
        .unwrap();
    assert!(r.ran.is_empty());
    // …and the rest in the next.
    let r = queue::drain(&store, &env, &runner, &FixedClock(at(2, 0, 1, 31)))
        .await
        .unwrap();
    assert_eq!(r.ran.len(), 4);
    assert_eq!(&runner.0.lock().unwrap()[1..], &want[..]);
    assert!(queue::list(&store, false).await.unwrap().is_empty());
    assert!(r.ran.iter().all(|t| t.status == "done"));
}

#[test]
fn cli_run_at_100_percent_says_when_the_task_runs_and_queue_lists_and_cancels_it() {
    let homes = Homes::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let env = homes.env();
        let store = Store::open(&env).await.unwrap();
        let a = agent(&store, &env, "pm").await;
        store
            .set_setting(budget::SETTING_FREE_DAILY_LIMIT, "3")
            .await
            .unwrap();
        use_requests(&store, &a, 3, Utc::now() - Duration::seconds(5)).await;
    });
    let out = homes
        .nxr()
        .env("NXR_HERMES_BIN", "/nonexistent/hermes")
        .args(["run", "--agent", "pm", "write the plan"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("queued as task #1")
            && text.contains("(3 of 3)")
            && text.contains("T00:00:00Z (in "),
        "{text}"
    );
    let list = nxr_json(&homes, &[], &["queue", "list", "--json"]);
    assert_eq!(list[0]["prompt"], "write the plan");
    assert_eq!(list[0]["status"], "queued");
    let cancelled = nxr_json(&homes, &[], &["queue", "cancel", "1", "--json"]);
    assert_eq!(cancelled["status"], "cancelled");
    let out = homes.nxr().args(["queue", "cancel", "1"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nxr queue list"));
}

#[test]
fn queue_run_with_tasks_not_yet_due_says_when_they_run_and_nothing_else() {
    let homes = Homes::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let env = homes.env();
        let store = Store::open(&env).await.unwrap();
        let a = agent(&store, &env, "pm").await;
        store
            .set_setting(budget::SETTING_FREE_DAILY_LIMIT, "3")
            .await
            .unwrap();
        use_requests(&store, &a, 3, Utc::now() - Duration::seconds(5)).await;
    });
    for prompt in ["one", "two"] {
        let out = homes
            .nxr()
            .env("NXR_HERMES_BIN", "/nonexistent/hermes")
            .args(["run", "--agent", "pm", prompt])
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    let out = homes
        .nxr()
        .env("NXR_HERMES_BIN", "/nonexistent/hermes")
        .args(["queue", "run"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "one message: {text}");
    assert!(
        lines[0].starts_with("ran 0 tasks; 2 queued tasks wait until ")
            && lines[0].contains("T00:00:00Z (in "),
        "{text}"
    );
    assert!(!text.contains("queue is empty"), "{text}");
    // An empty queue says so, once.
    for id in ["1", "2"] {
        nxr_json(&homes, &[], &["queue", "cancel", id, "--json"]);
    }
    let out = homes.nxr().args(["queue", "run"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ran 0 tasks; the queue is empty\n"
    );
}

#[test]
fn with_a_key_openrouter_counts_the_account_and_the_rest_is_outside_nxr() {
    let homes = Homes::new();
    let fake = FakeServer::start();
    let mut key: Value = serde_json::from_str(&common::fixture("openrouter/key.json")).unwrap();
    key["data"]["free_model_daily_requests"] =
        serde_json::json!({"used": 12, "limit": 1000, "remaining": 988});
    fake.always("/api/v1/key", Reply::json(200, key.to_string()));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let env = homes.env();
        let store = Store::open(&env).await.unwrap();
        let a = agent(&store, &env, "pm").await;
        use_requests(&store, &a, 5, Utc::now() - Duration::seconds(5)).await;
    });
    std::fs::write(
        homes.hermes_home().join(".env"),
        "OPENROUTER_API_KEY=sk-or-v1-0000000000000000000000000000000000000000000000000000000000000000\n",
    )
    .unwrap();
    let b = nxr_json(
        &homes,
        &[("NXR_OPENROUTER_URL", format!("{}/api/v1", fake.base))],
        &["budget", "--json"],
    );
    assert_eq!(b["used_today"], 12);
    assert_eq!(b["daily_limit"], 1000);
    assert_eq!(b["agents_today"], 5);
    assert_eq!(b["outside_agents"], 7);
    let text = {
        let out = homes
            .nxr()
            .env("NXR_OPENROUTER_URL", format!("{}/api/v1", fake.base))
            .arg("budget")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(text.contains("free requests today: 12 / 1000"), "{text}");
    assert!(text.contains("7 outside nxr's agents"), "{text}");

    // Later /key answers nothing usable: the warning names the count the screen shows (the earlier
    // read of 12), never "nxr's agents' count" while the screen shows OpenRouter's.
    for body in [
        "{}",
        r#"{"data":{"label":"x","usage":0,"free_model_daily_requests":{"used":-3,"limit":1000,"remaining":1003}}}"#,
        r#"{"data":{"label":"x","usage":0,"free_model_daily_requests":{"used":"many","limit":1000,"remaining":0}}}"#,
    ] {
        let fake = FakeServer::start();
        fake.always("/api/v1/key", Reply::json(200, body));
        let out = homes
            .nxr()
            .env("NXR_OPENROUTER_URL", format!("{}/api/v1", fake.base))
            .arg("budget")
            .output()
            .unwrap();
        let (text, err) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "{body}: {err}");
        assert!(
            text.contains("OpenRouter counts 12 for the account"),
            "{text}"
        );
        assert!(
            err.contains("showing the count it gave at") && err.contains("(12 for the account)"),
            "{body}: {err}"
        );
        assert!(
            !err.contains("showing nxr's agents' count"),
            "{body}: {err}"
        );
    }
}

#[test]
fn the_web_dashboard_and_api_show_the_budget_and_the_70_percent_warning() {
    let homes = Homes::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let env = homes.env();
    let store = std::sync::Arc::new(rt.block_on(Store::open(&env)).unwrap());
    rt.block_on(async {
        let a = agent(&store, &env, "pm").await;
        use_requests(&store, &a, 36, Utc::now() - Duration::seconds(5)).await;
        let clock = nxr::domain::base::clock::SystemClock;
        let b = budget::load(&store, &clock).await.unwrap();
        assert_eq!(
            guard::check(&store, &env, &b, &clock).await.unwrap()[0].threshold,
            70
        );
    });
    let server =
        nxr::web::server::start(env, store, rt.handle().clone(), "127.0.0.1", 0, false).unwrap();
    let client = reqwest::Client::new();
    let get = |path: &str, auth: bool| {
        let mut rb = client.get(format!("{}{path}", server.base_url()));
        if auth {
            rb = rb.bearer_auth(&server.token);
        }
        rt.block_on(async {
            let r = rb.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
    };
    let (status, page) = get("/", true);
    assert_eq!(status, 200);
    assert!(page.contains("Free budget today"), "{page}");
    assert!(page.contains("36 / 50"), "{page}");
    assert!(page.contains("Free budget at 70 %"), "{page}");
    let (status, body) = get("/api/budget", true);
    assert_eq!(status, 200);
    let b: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (b["used_today"].as_u64(), b["daily_limit"].as_u64()),
        (Some(36), Some(50))
    );
    let (_, body) = get("/api/notifications?unread=1", true);
    let list: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list[0]["kind"], "budget");
    assert_eq!(get("/api/budget", false).0, 401);
    let post = rt.block_on(async {
        client
            .post(format!("{}/api/budget", server.base_url()))
            .bearer_auth(&server.token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(post, 405);
}

#[test]
fn a_429_from_openrouter_is_logged_with_its_kind() {
    let homes = Homes::new();
    let fake = FakeServer::start();
    let errors: Value = serde_json::from_str(&common::fixture("openrouter/errors.json")).unwrap();
    let per_day = &errors["free_models_per_day_under_10_credits"];
    fake.always("/api/v1/key", Reply::json(429, per_day["body"].to_string()));
    std::fs::create_dir_all(homes.hermes_home()).unwrap();
    std::fs::write(
        homes.hermes_home().join(".env"),
        "OPENROUTER_API_KEY=sk-or-v1-0000000000000000000000000000000000000000000000000000000000000000\n",
    )
    .unwrap();
    let out = homes
        .nxr()
        .env("NXR_OPENROUTER_URL", format!("{}/api/v1", fake.base))
        .args(["budget", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "not fatal: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(b["rate_limits"][0]["kind"], "per_day", "{b}");
    assert_eq!(b["rate_limits_today"][0]["kind"], "per_day", "{b}");
    assert_eq!(b["rate_limits_today"][0]["count"], 1, "{b}");
    assert_eq!(b["used_today"], 0, "a 429 is not a used request: {b}");
    // The text says it by kind, with what to do (its own read of /key was refused too: two now).
    let out = homes
        .nxr()
        .env("NXR_OPENROUTER_URL", format!("{}/api/v1", fake.base))
        .args(["budget"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("rate limited today, by kind")
            && text.contains(
                "per_day 2 ((GET /key) ×2) — the free daily limit: it resets at 00:00 UTC"
            ),
        "{text}"
    );
    assert!(
        b["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("free-models-per-day")),
        "{b}"
    );
}

#[tokio::test]
async fn serves_minute_tick_drains_the_queue_only_after_midnight() {
    let (_homes, env, store) = setup().await;
    let a = agent(&store, &env, "pm").await;
    let runner = Recorder::default();
    use_requests(&store, &a, 50, at(1, 22, 0, 0)).await;
    for i in 0..3 {
        let clock = FixedClock(at(1, 23, 0, i));
        let d = queue::run_or_queue(&store, &env, "pm", &format!("t{i}"), &runner, &clock)
            .await
            .unwrap();
        assert!(matches!(d, Dispatch::Queued { .. }));
    }
    // OpenRouter is unreachable here: the scan part fails and says so; the rest of the tick runs.
    let client = nxr::domain::catalog::openrouter::OpenRouterClient::from_env(&env, None)
        .with_retry(nxr::domain::catalog::openrouter::RetryPolicy {
            max_attempts: 1,
            ..Default::default()
        });
    let mut state = nxr::domain::watch::scheduler::TickState::default();
    use nxr::domain::watch::scheduler::tick;
    let r = tick(
        &store,
        &env,
        &client,
        &runner,
        &FixedClock(at(1, 23, 59, 0)),
        "t",
        &mut state,
    )
    .await
    .unwrap();
    assert!(r.drained.ran.is_empty());
    assert!(matches!(
        r.scan,
        Some(nxr::domain::watch::scheduler::ScanDecision::Failed { .. })
    ));
    let r = tick(
        &store,
        &env,
        &client,
        &runner,
        &FixedClock(at(2, 0, 0, 20)),
        "t",
        &mut state,
    )
    .await
    .unwrap();
    let ran: Vec<&str> = r.drained.ran.iter().map(|t| t.prompt.as_str()).collect();
    assert_eq!(ran, ["t0", "t1", "t2"]);
    assert_eq!(runner.0.lock().unwrap().as_slice(), ["t0", "t1", "t2"]);
}
