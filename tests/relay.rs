//! The relay as an agent's client sees it: against a loopback OpenRouter that enforces its
//! per-minute limit (a 1-second "minute" here) and answers 429 above it, thirty requests from three
//! agents at once are all answered through the relay, the server never sees more than its limit in
//! any window, the agents take turns, and the same burst without the relay gets 429s. The daily
//! count is refused at once with the reset; paid models pass unpaced; streams pass unchanged; the
//! stored key replaces the client's.

mod common;

use common::{FakeServer, Reply};
use nxr::domain::budget::pacer::Limits;
use nxr::web::relay::{self, RelayConfig, RelayHandle};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const KEY: &str = "sk-or-v1-relay-test-key";

/// The recorded per-minute 429.
fn per_minute_429() -> Reply {
    let recorded: Value =
        serde_json::from_str(&common::fixture("openrouter/errors.json")).expect("errors.json");
    Reply::json(429, recorded["free_models_per_min"]["body"].to_string())
}

/// Who asked, in the order the limited server accepted them, and how many it refused.
#[derive(Default)]
struct Log {
    accepted: Vec<(Instant, String)>,
    refused: usize,
}

/// A loopback OpenRouter that answers at most `limit` chat requests per `window` and 429 above.
/// Each prompt's text names its sender.
fn limited_openrouter(limit: usize, window: Duration) -> (FakeServer, Arc<Mutex<Log>>) {
    let fake = FakeServer::start();
    let log = Arc::new(Mutex::new(Log::default()));
    let recent = Arc::new(Mutex::new(VecDeque::<Instant>::new()));
    let (l, r) = (log.clone(), recent.clone());
    fake.respond_with("/api/v1/chat/completions", move |body| {
        let now = Instant::now();
        let mut recent = r.lock().expect("lock");
        while recent.front().is_some_and(|t| now - *t >= window) {
            recent.pop_front();
        }
        let mut log = l.lock().expect("lock");
        if recent.len() >= limit {
            log.refused += 1;
            return per_minute_429();
        }
        recent.push_back(now);
        let v: Value = serde_json::from_str(body).unwrap_or_default();
        let who = v["messages"][0]["content"]
            .as_str()
            .unwrap_or("")
            .to_string();
        log.accepted.push((now, who.clone()));
        common::chat_sse(&format!("hello {who}"))
    });
    (fake, log)
}

fn start_relay(fake: &FakeServer, rt: &tokio::runtime::Runtime, limits: Limits) -> RelayHandle {
    relay::start(
        RelayConfig {
            upstream: format!("{}/api/v1", fake.base),
            key: Some(KEY.into()),
            limits,
            store: None,
        },
        rt.handle().clone(),
        0,
    )
    .expect("the relay starts")
}

fn chat_body(model: &str, who: &str) -> String {
    serde_json::json!({"model": model, "stream": true, "messages": [{"role": "user", "content": who}]})
        .to_string()
}

/// Sends every (url, body) at once; the answers' statuses and bodies, in order.
fn burst(rt: &tokio::runtime::Runtime, calls: Vec<(String, String)>) -> Vec<(u16, String)> {
    rt.block_on(async {
        let client = reqwest::Client::new();
        let tasks: Vec<_> = calls
            .into_iter()
            .map(|(url, body)| {
                let client = client.clone();
                tokio::spawn(async move {
                    let resp = client
                        .post(url)
                        .header("Authorization", "Bearer the-clients-own-token")
                        .header("Content-Type", "application/json")
                        .body(body)
                        .send()
                        .await
                        .expect("an answer");
                    let status = resp.status().as_u16();
                    (status, resp.text().await.expect("a body"))
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("the task"));
        }
        out
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a runtime")
}

#[test]
fn three_agents_bursting_at_once_are_all_answered_within_the_limit_and_take_turns() {
    let rt = runtime();
    let window = Duration::from_millis(1000);
    let (fake, log) = limited_openrouter(5, window);
    let relay = start_relay(
        &fake,
        &rt,
        Limits {
            per_minute: 5,
            per_day: 1000,
            minute: window,
            max_wait: Duration::from_secs(60),
        },
    );
    let agents = ["pm", "engineer", "hermes"];
    let calls: Vec<(String, String)> = (0..10)
        .flat_map(|i| {
            agents
                .iter()
                .map(move |a| (a.to_string(), format!("{a}-{i}")))
        })
        .map(|(a, who)| {
            (
                format!("{}/chat/completions", relay.agent_url(&a)),
                chat_body("qwen/qwen3-coder:free", &who),
            )
        })
        .collect();
    let started = Instant::now();
    let answers = burst(&rt, calls.clone());
    let took = started.elapsed();
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        assert!(
            body.contains("hello ") && body.ends_with("data: [DONE]\n\n"),
            "{body}"
        );
    }
    let log = log.lock().expect("lock");
    assert_eq!(log.refused, 0, "the server refused none through the relay");
    assert_eq!(log.accepted.len(), 30);
    // No window of the server's saw more than its limit (the server enforces it; check it too).
    for (i, (t, _)) in log.accepted.iter().enumerate() {
        let inside = log.accepted[i..]
            .iter()
            .take_while(|(u, _)| *u - *t < window)
            .count();
        assert!(inside <= 5, "{inside} requests within one window");
    }
    // Turns: the first 5 go as they arrive; from then on, while an agent still has requests
    // waiting, it gets one in every two windows of 5 (the order inside a window is the network's).
    let order: Vec<&str> = log
        .accepted
        .iter()
        .map(|(_, who)| who.split('-').next().unwrap_or(""))
        .collect();
    for a in agents {
        let places: Vec<usize> = order
            .iter()
            .enumerate()
            .filter(|(i, o)| *i >= 5 && **o == a)
            .map(|(i, _)| i)
            .collect();
        if let Some(first) = places.first() {
            assert!(*first < 5 + 10, "{a} waited past two windows: {order:?}");
        }
        for pair in places.windows(2) {
            assert!(
                pair[1] - pair[0] <= 10,
                "{a} waited past two windows: {order:?}"
            );
        }
    }
    // The relay's counts agree with the server's log.
    let stats = relay.stats.snapshot();
    for a in agents {
        let c = &stats[a]["qwen/qwen3-coder:free"];
        assert_eq!(
            (c.forwarded, c.answered, c.refused),
            (10, 10, 0),
            "{a}: {c:?}"
        );
    }
    let held: u64 = agents
        .iter()
        .map(|a| stats[*a]["qwen/qwen3-coder:free"].held)
        .sum();
    assert!(held >= 20, "held {held}");
    // The stored key went upstream, never the client's token.
    for seen in fake.seen() {
        let auth = seen
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.as_str());
        assert_eq!(auth, Some(format!("Bearer {KEY}").as_str()));
    }
    common::figures(
        "relay",
        &format!(
            "30 prompts from 3 agents at once, 5 per {} ms: all answered in {} ms, {held} held, 0 refused upstream",
            window.as_millis(),
            took.as_millis()
        ),
    );
    drop(log);

    // The same burst straight to the server: some are refused.
    let direct: Vec<(String, String)> = calls
        .iter()
        .map(|(_, body)| {
            (
                format!("{}/api/v1/chat/completions", fake.base),
                body.clone(),
            )
        })
        .collect();
    let answers = burst(&rt, direct);
    let refused = answers.iter().filter(|(s, _)| *s == 429).count();
    assert!(refused > 0, "without the relay the burst meets the limit");
}

#[test]
fn the_daily_count_is_refused_at_once_with_the_reset_and_paid_models_pass() {
    let rt = runtime();
    let (fake, log) = limited_openrouter(1000, Duration::from_secs(60));
    let relay = start_relay(
        &fake,
        &rt,
        Limits {
            per_minute: 1,
            per_day: 1,
            minute: Duration::from_secs(3600),
            max_wait: Duration::from_secs(60),
        },
    );
    let url = format!("{}/chat/completions", relay.agent_url("pm"));
    let first = burst(&rt, vec![(url.clone(), chat_body("m:free", "pm-0"))]);
    assert_eq!(first[0].0, 200);
    let started = Instant::now();
    let second = burst(&rt, vec![(url.clone(), chat_body("m:free", "pm-1"))]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused at once"
    );
    assert_eq!(second[0].0, 429);
    let err: Value = serde_json::from_str(&second[0].1).expect("a JSON error");
    let message = err["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("free-models-per-day") && message.contains("00:00 UTC"),
        "{message}"
    );
    // Paid models are not paced: five at once with the minute's one slot used.
    let paid: Vec<(String, String)> = (0..5)
        .map(|i| {
            (
                url.clone(),
                chat_body("anthropic/claude-sonnet-4.5", &format!("pm-p{i}")),
            )
        })
        .collect();
    let answers = burst(&rt, paid);
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    assert_eq!(
        log.lock().expect("lock").accepted.len(),
        6,
        "the refused one never went"
    );
    let stats = relay.stats.snapshot();
    assert_eq!(stats["pm"]["m:free"].refused, 1);
    assert_eq!(stats["pm"]["anthropic/claude-sonnet-4.5"].held, 0);
}

#[test]
fn bad_requests_are_named_and_nothing_goes_upstream() {
    let rt = runtime();
    let (fake, _log) = limited_openrouter(1000, Duration::from_secs(60));
    let relay = start_relay(&fake, &rt, Limits::default());
    let cases = [
        (
            format!("{}/chat/completions", relay.agent_url("pm")),
            "not json".to_string(),
            400,
        ),
        (
            format!("{}/agents/../v1/chat/completions", relay.base_url()),
            chat_body("m", "x"),
            404,
        ),
        (
            format!("{}/v1/chat/completions", relay.base_url()),
            chat_body("m", "x"),
            404,
        ),
    ];
    for (url, body, want) in cases {
        let got = burst(&rt, vec![(url.clone(), body)]);
        assert_eq!(got[0].0, want, "{url}: {}", got[0].1);
        let err: Value = serde_json::from_str(&got[0].1).expect("a JSON error");
        assert!(
            err["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    assert!(fake.seen().is_empty());
}
