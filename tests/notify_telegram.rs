//! Telegram forwarding per notification kind, against a fake Bot API on 127.0.0.1:0: a kind turned
//! off sends nothing and a kind turned on sends, both for the scanner's notices (replayed real
//! catalogs) and the 90 % budget message; Telegram's answers are judged by `ok` (not the HTTP status)
//! and a `retry_after` is honoured; the CLI lists and changes the toggles.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::{FakeServer, Homes, Reply};
use nxr::domain::agents::{self, NewAgent};
use nxr::domain::base::clock::FixedClock;
use nxr::domain::base::env::Env;
use nxr::domain::base::roles::Role;
use nxr::domain::budget;
use nxr::domain::budget::guard;
use nxr::domain::catalog::openrouter::OpenRouterClient;
use nxr::domain::notifications::telegram_forward::{self, Forwarded};
use nxr::domain::notifications::{self, KIND_BUDGET};
use nxr::domain::store::Store;
use nxr::domain::watch::scanner;
use serde_json::Value;

const TOKEN: &str = "7000000002:AAH-notifyNotifyNotifyNotifyNotify02";

fn send_path() -> String {
    format!("/bot{TOKEN}/sendMessage")
}

/// Homes with a bot token and a chat in Hermes' .env, and the env pointed at `bot`.
fn with_bot(bot: &FakeServer) -> (Homes, Env) {
    let homes = Homes::new();
    std::fs::create_dir_all(homes.hermes_home()).unwrap();
    std::fs::write(
        homes.hermes_home().join(".env"),
        format!("TELEGRAM_BOT_TOKEN={TOKEN}\nTELEGRAM_HOME_CHANNEL=-1009876543210\n"),
    )
    .unwrap();
    let mut env = homes.env();
    env.telegram_api_url = bot.base.clone();
    env.ollama_url = "http://127.0.0.1:9".into();
    env.openrouter_url = "http://127.0.0.1:9/api/v1".into();
    (homes, env)
}

/// The texts the fake Bot API received, in order.
fn texts(bot: &FakeServer) -> Vec<String> {
    bot.seen()
        .iter()
        .filter(|s| s.path == send_path())
        .map(|s| {
            let v: Value = serde_json::from_str(&s.body).unwrap();
            assert_eq!(v["chat_id"], "-1009876543210");
            v["text"].as_str().unwrap().to_string()
        })
        .collect()
}

fn noon(date: &str) -> DateTime<Utc> {
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    Utc.from_utc_datetime(&d.and_hms_opt(12, 0, 0).unwrap())
}

async fn set(store: &Store, kind: &str, on: bool) {
    telegram_forward::set_toggles(store, &[(kind.into(), on)], &FixedClock(noon("2026-03-01")))
        .await
        .unwrap();
}

#[tokio::test]
async fn scans_forward_the_kinds_turned_on_and_nothing_of_the_kinds_turned_off() {
    let bot = FakeServer::start();
    bot.always(&send_path(), Reply::json(200, r#"{"ok":true,"result":{}}"#));
    let (_homes, mut env) = with_bot(&bot);
    let openrouter = FakeServer::start();
    // 04-02: the pm model lost `tools` (since 03-23) and a new best pm model (qwen3.6-plus) came.
    let dates = ["2026-03-02", "2026-03-13", "2026-04-02"];
    openrouter.route(
        "/api/v1/models",
        dates
            .iter()
            .map(|d| {
                Reply::json(
                    200,
                    common::fixture(&format!("openrouter/catalog-history/models-{d}.json")),
                )
            })
            .collect(),
    );
    env.openrouter_url = format!("{}/api/v1", openrouter.base);
    let store = Store::open(&env).await.unwrap();
    let client = OpenRouterClient::from_env(&env, None);
    let scan = |date: &'static str| {
        let (store, env, client) = (&store, &env, &client);
        async move {
            scanner::scan(store, env, client, &FixedClock(noon(date)), "test", &|_| {})
                .await
                .unwrap()
        }
    };
    scan(dates[0]).await;
    // A pm on a model that loses `tools` by 04-02, an engineer on a model that is paid from 03-13.
    for (name, role, model) in [
        ("scribe", Role::Pm, "google/gemma-3-27b-it:free"),
        ("vision", Role::Engineer, "qwen/qwen3-vl-235b-a22b-thinking"),
    ] {
        agents::create(
            &store,
            &env,
            NewAgent {
                name: name.into(),
                role,
                category: None,
                model: Some(model.into()),
                skills: None,
                is_default: false,
                host: None,
            },
        )
        .await
        .unwrap();
    }

    // Upgrade proposals off: the scan tells them in nxr, but only the rest reaches Telegram.
    set(&store, notifications::KIND_UPGRADE, false).await;
    let report = scan(dates[1]).await;
    let kinds: Vec<&str> = report.notifications.iter().map(|n| n.kind).collect();
    assert!(kinds.contains(&notifications::KIND_UPGRADE), "{kinds:?}");
    let forwarded: Vec<String> = report
        .notifications
        .iter()
        .filter(|n| n.kind != notifications::KIND_UPGRADE)
        .map(|n| format!("nxr: {}\n{}", n.title, n.body))
        .collect();
    assert!(!forwarded.is_empty(), "{kinds:?}");
    assert_eq!(texts(&bot), forwarded);

    // Now upgrades on and lost capabilities off.
    set(&store, notifications::KIND_UPGRADE, true).await;
    set(&store, notifications::KIND_CAPABILITY_LOST, false).await;
    let before = texts(&bot).len();
    let report = scan(dates[2]).await;
    let kinds: Vec<&str> = report.notifications.iter().map(|n| n.kind).collect();
    assert!(
        kinds.contains(&notifications::KIND_CAPABILITY_LOST)
            && kinds.contains(&notifications::KIND_UPGRADE),
        "{kinds:?}"
    );
    let want: Vec<String> = report
        .notifications
        .iter()
        .filter(|n| n.kind != notifications::KIND_CAPABILITY_LOST)
        .map(|n| format!("nxr: {}\n{}", n.title, n.body))
        .collect();
    assert_eq!(texts(&bot)[before..].to_vec(), want);
    assert!(report.warnings.iter().all(|w| !w.contains("Telegram")));
}

async fn use_requests(store: &Store, n: i64, when: DateTime<Utc>) {
    store
        .conn()
        .execute(
            "INSERT INTO usage_events (agent_id, model, is_free, requests, occurred_at) VALUES (NULL, 'm:free', 1, ?1, ?2)",
            libsql::params![n, nxr::domain::base::clock::to_db(when)],
        )
        .await
        .unwrap();
}

async fn fire(store: &Store, env: &Env, now: DateTime<Utc>) -> Vec<guard::Alert> {
    let clock = FixedClock(now);
    let b = budget::load(store, &clock).await.unwrap();
    guard::check(store, env, &b, &clock).await.unwrap()
}

#[tokio::test]
async fn the_90_percent_message_follows_the_budget_toggle() {
    let bot = FakeServer::start();
    bot.always(&send_path(), Reply::json(200, r#"{"ok":true,"result":{}}"#));
    let (_homes, env) = with_bot(&bot);
    let store = Store::open(&env).await.unwrap();

    set(&store, KIND_BUDGET, false).await;
    use_requests(&store, 45, noon("2026-03-02")).await;
    let alerts = fire(&store, &env, noon("2026-03-02")).await;
    let ninety = alerts
        .iter()
        .find(|a| a.threshold == 90)
        .expect("90 % fired");
    assert_eq!(ninety.telegram, None, "turned off: not attempted");
    assert_eq!(bot.hits(&send_path()), 0);

    set(&store, KIND_BUDGET, true).await;
    use_requests(&store, 45, noon("2026-03-03")).await;
    let alerts = fire(&store, &env, noon("2026-03-03")).await;
    let ninety = alerts
        .iter()
        .find(|a| a.threshold == 90)
        .expect("90 % fired");
    assert_eq!(ninety.telegram, Some(Ok(())));
    let sent = texts(&bot);
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].starts_with("nxr: 45 of 50 free OpenRouter requests"),
        "{}",
        sent[0]
    );
}

#[tokio::test]
async fn telegram_answers_are_judged_by_ok_and_retry_after_is_honoured() {
    let bot = FakeServer::start();
    let (_homes, env) = with_bot(&bot);
    let store = Store::open(&env).await.unwrap();
    let gw = nxr::domain::notifications::telegram::gateway(&env, &store)
        .await
        .unwrap()
        .expect("a gateway from .env");

    // A proxy that answers 200 with Telegram's refusal inside: not sent, and the description says why.
    bot.always(
        &send_path(),
        Reply::json(
            200,
            r#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#,
        ),
    );
    let err = nxr::domain::notifications::telegram::send(&gw, "hello")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Forbidden: bot was blocked by the user"),
        "{err}"
    );
    assert!(err.contains("403"), "{err}");
    assert!(!err.contains(TOKEN), "{err}");

    // A short retry_after is waited out and the message goes on the second try.
    bot.route(
        &send_path(),
        vec![
            Reply::json(
                429,
                r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}"#,
            ),
            Reply::json(200, r#"{"ok":true,"result":{"message_id":7}}"#),
        ],
    );
    let hits = bot.hits(&send_path());
    nxr::domain::notifications::telegram::send(&gw, "hello")
        .await
        .unwrap();
    assert_eq!(bot.hits(&send_path()), hits + 2);

    // A long one: not sent, and nothing is sent to Telegram until it has passed.
    bot.always(
        &send_path(),
        Reply::json(
            429,
            r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3600","parameters":{"retry_after":3600}}"#,
        ),
    );
    let at = noon("2026-03-02");
    let hits = bot.hits(&send_path());
    let first = telegram_forward::forward(&store, &env, KIND_BUDGET, "one", &FixedClock(at))
        .await
        .unwrap();
    let Forwarded::Failed(why) = first else {
        panic!("{first:?}")
    };
    assert!(why.contains("3600 s"), "{why}");
    assert_eq!(bot.hits(&send_path()), hits + 1);
    bot.always(&send_path(), Reply::json(200, r#"{"ok":true,"result":{}}"#));
    let later = at + chrono::Duration::minutes(30);
    let held = telegram_forward::forward(&store, &env, KIND_BUDGET, "two", &FixedClock(later))
        .await
        .unwrap();
    assert!(
        matches!(&held, Forwarded::Failed(w) if w.contains("wait until")),
        "{held:?}"
    );
    assert_eq!(bot.hits(&send_path()), hits + 1, "nothing sent while held");
    let after = at + chrono::Duration::minutes(61);
    let sent = telegram_forward::forward(&store, &env, KIND_BUDGET, "three", &FixedClock(after))
        .await
        .unwrap();
    assert_eq!(sent, Forwarded::Sent);
    assert_eq!(texts(&bot).last().map(String::as_str), Some("three"));
}

fn toggles(homes: &Homes) -> Vec<(String, bool)> {
    homes
        .json(&["notifications", "telegram"])
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["kind"].as_str().unwrap().to_string(), t["on"] == true))
        .collect()
}

#[test]
fn the_cli_lists_and_changes_the_toggles_and_refuses_what_it_does_not_know() {
    let homes = Homes::new();
    let all_on = toggles(&homes);
    assert!(all_on.iter().any(|(k, _)| k == "budget"), "{all_on:?}");
    assert!(all_on.iter().all(|(_, on)| *on), "{all_on:?}");

    let out = homes
        .nxr()
        .args(["notifications", "telegram", "budget", "off"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("off budget"));
    let now = toggles(&homes);
    for (kind, on) in &now {
        assert_eq!(*on, kind != "budget", "{kind}");
    }

    for (args, says) in [
        (
            &["notifications", "telegram", "<script>", "on"][..],
            "unknown notification kind",
        ),
        (
            &["notifications", "telegram", "budget"][..],
            "say on or off",
        ),
        (
            &["notifications", "apply", "999"][..],
            "no notification has id 999",
        ),
    ] {
        let out = homes.nxr().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(toggles(&homes), now, "{args:?} changed nothing");
    }
}
