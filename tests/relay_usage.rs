//! What the relay records, as the budget and the checks show it: every request through the relay
//! becomes one `usage_events` row the moment its answer ends (the budget counts it at once, per
//! agent and model exactly as the server saw them), a stream the client cuts is one row with that
//! outcome, a Hermes state.db row whose calls went through the relay is not counted again, and
//! `agents check` / `doctor` name a profile pointed at a relay that does not run, with the fix.

mod common;

use common::{FakeServer, Homes, Reply};
use nxr::domain::budget::pacer::Limits;
use nxr::domain::store::Store;
use nxr::web::relay::{self, RelayConfig, RelayHandle};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

const KEY: &str = "sk-or-v1-relay-usage-test";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// `nxr init --free` (offline: the embedded catalog) and the agents' (profile, model).
fn three_agents(homes: &Homes) -> Vec<(String, String)> {
    homes.json(&["init", "--free"]);
    let list = homes.json(&["agents", "list"]);
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
    agents
}

fn start(rt: &tokio::runtime::Runtime, upstream: String, store: Option<Arc<Store>>) -> RelayHandle {
    relay::start(
        RelayConfig {
            upstream,
            key: Some(KEY.into()),
            limits: Limits {
                per_minute: 1000,
                per_day: 1000,
                minute: Duration::from_secs(60),
                max_wait: Duration::from_secs(30),
            },
            store,
        },
        rt.handle().clone(),
        0,
    )
    .expect("the relay starts")
}

/// (status, source, model, agent name) of every usage_events row.
fn rows(rt: &tokio::runtime::Runtime, store: &Store) -> Vec<(String, String, String, String)> {
    rt.block_on(async {
        let mut r = store
            .conn()
            .query(
                "SELECT e.status, e.source, e.model, COALESCE(a.name, '') FROM usage_events e
                 LEFT JOIN agents a ON a.id = e.agent_id ORDER BY e.id",
                (),
            )
            .await
            .expect("a query");
        let mut out = Vec::new();
        while let Some(row) = r.next().await.expect("a row") {
            out.push((
                row.get(0).expect("status"),
                row.get(1).expect("source"),
                row.get(2).expect("model"),
                row.get(3).expect("agent"),
            ));
        }
        out
    })
}

/// A streamed answer naming the model asked for, with OpenRouter's `usage` at its end.
fn sse_for(model: &str) -> Reply {
    let body = format!(
        "data: {{\"id\":\"gen-1\",\"model\":\"{model}\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"pong\"}}}}]}}\n\n\
         data: {{\"id\":\"gen-1\",\"model\":\"{model}\",\"choices\":[{{\"index\":0,\"delta\":{{}},\"finish_reason\":\"stop\"}}],\"usage\":{{\"prompt_tokens\":7,\"completion_tokens\":2,\"cost\":0}}}}\n\n\
         data: [DONE]\n\n"
    );
    Reply {
        status: 200,
        headers: vec![("Content-Type".into(), "text/event-stream".into())],
        body: body.into_bytes(),
        delay: Duration::ZERO,
    }
}

#[test]
fn every_request_through_the_relay_is_in_the_budget_per_agent_and_model_as_the_server_saw_it() {
    let homes = Homes::new();
    let agents = three_agents(&homes);
    let names: BTreeMap<String, String> = homes
        .json(&["agents", "list"])
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|a| {
            Some((
                a["hermes_profile"].as_str()?.to_string(),
                a["name"].as_str()?.to_string(),
            ))
        })
        .collect();
    let fake = FakeServer::start();
    let seen = Arc::new(Mutex::new(BTreeMap::<String, u64>::new()));
    let s = seen.clone();
    fake.respond_with("/api/v1/chat/completions", move |body| {
        let v: Value = serde_json::from_str(body).unwrap_or_default();
        let model = v["model"].as_str().unwrap_or("").to_string();
        *s.lock().expect("lock").entry(model.clone()).or_default() += 1;
        sse_for(&model)
    });
    let rt = runtime();
    let store = Arc::new(rt.block_on(Store::open(&homes.env())).expect("the store"));
    let relay = start(&rt, format!("{}/api/v1", fake.base), Some(store.clone()));
    let client = reqwest::Client::new();
    let per_agent = [3usize, 2, 1];
    for ((profile, model), n) in agents.iter().zip(per_agent) {
        for _ in 0..n {
            let (status, text) = rt.block_on(async {
                let resp = client
                    .post(format!("{}/chat/completions", relay.agent_url(profile)))
                    .body(
                        serde_json::json!({"model": model, "stream": true, "messages": [{"role": "user", "content": "ping"}]})
                            .to_string(),
                    )
                    .send()
                    .await
                    .expect("an answer");
                (resp.status().as_u16(), resp.text().await.expect("a body"))
            });
            assert_eq!(status, 200);
            assert!(text.contains("pong"), "{text}");
        }
    }
    let total: usize = per_agent.iter().sum();
    common::wait_until("every answer recorded", Duration::from_secs(10), || {
        rows(&rt, &store).len() == total
    });
    // Per agent and model, the rows are what the server answered.
    let mut recorded: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (status, source, model, agent) in rows(&rt, &store) {
        assert_eq!((status.as_str(), source.as_str()), ("ok", "relay"));
        *recorded.entry((agent, model)).or_default() += 1;
    }
    let mut want: BTreeMap<(String, String), usize> = BTreeMap::new();
    for ((profile, model), n) in agents.iter().zip(per_agent) {
        *want
            .entry((names[profile].clone(), model.clone()))
            .or_default() += n;
    }
    assert_eq!(recorded, want);
    let served: u64 = seen.lock().expect("lock").values().sum();
    assert_eq!(served as usize, total, "the server saw each request once");

    // The budget counts them now, not at the next ingest.
    let b = homes.json(&["budget"]);
    assert_eq!(b["agents_today"], total, "{b}");
    assert_eq!(b["relay"]["forwarded"], total, "{b}");
    for ((profile, _), n) in agents.iter().zip(per_agent) {
        let row = b["per_agent"]
            .as_array()
            .expect("per agent")
            .iter()
            .find(|a| a["agent"] == names[profile].as_str())
            .unwrap_or_else(|| panic!("{profile} in {b}"));
        assert_eq!(row["today"], n, "{row}");
        assert_eq!(row["tokens_today"], 9 * n as u64, "{row}");
    }
    let text =
        String::from_utf8(homes.nxr().arg("budget").output().expect("nxr").stdout).expect("utf-8");
    assert!(
        text.contains(&format!("relay today: {total} sent, 0 held")),
        "{text}"
    );
}

/// An upstream that sends the head of a stream, then waits for `go` before sending the rest.
fn stalling_upstream() -> (String, mpsc::Sender<()>, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}/api/v1", listener.local_addr().expect("addr"));
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let accepted = Arc::new(Mutex::new(0usize));
    let a = accepted.clone();
    std::thread::spawn(move || {
        let Ok((conn, _)) = listener.accept() else {
            return;
        };
        *a.lock().expect("lock") += 1;
        let mut reader = BufReader::new(conn.try_clone().expect("clone"));
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; len];
        let _ = reader.read_exact(&mut body);
        let mut conn = conn;
        let chunk = |s: &str| format!("{:x}\r\n{s}\r\n", s.len());
        let head =
            "data: {\"model\":\"m/cut:free\",\"choices\":[{\"delta\":{\"content\":\"po\"}}]}\n\n";
        let _ = conn.write_all(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n{}",
                chunk(head)
            )
            .as_bytes(),
        );
        let _ = conn.flush();
        let _ = go_rx.recv();
        let filler = format!(": {}\n\n", "x".repeat(1024));
        for _ in 0..256 {
            if conn.write_all(chunk(&filler).as_bytes()).is_err() {
                return;
            }
        }
        let _ = conn.write_all(format!("{}0\r\n\r\n", chunk("data: [DONE]\n\n")).as_bytes());
    });
    (base, go_tx, accepted)
}

#[test]
fn a_stream_the_client_cuts_is_counted_once_with_that_outcome() {
    let homes = Homes::new();
    let agents = three_agents(&homes);
    let profile = agents[0].0.clone();
    let (upstream, go, accepted) = stalling_upstream();
    let rt = runtime();
    let store = Arc::new(rt.block_on(Store::open(&homes.env())).expect("the store"));
    let relay = start(&rt, upstream, Some(store.clone()));
    let body =
        r#"{"model":"m/cut:free","stream":true,"messages":[{"role":"user","content":"ping"}]}"#;
    let mut client = TcpStream::connect(relay.addr).expect("connect");
    write!(
        client,
        "POST /agents/{profile}/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    // Read until the stream's first event arrived, then hang up mid-answer.
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&got).contains("data: ") {
        let n = client.read(&mut buf).expect("read");
        assert!(
            n > 0,
            "the stream ended early: {}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    drop(client);
    go.send(()).expect("the upstream waits");
    common::wait_until("the cut stream recorded", Duration::from_secs(20), || {
        !rows(&rt, &store).is_empty()
    });
    let stats = relay.stats.snapshot();
    let c = &stats[&profile]["m/cut:free"];
    assert_eq!((c.forwarded, c.client_closed), (1, 1), "{c:?}");
    assert_eq!(*accepted.lock().expect("lock"), 1, "one request upstream");
    let all = rows(&rt, &store);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].0, "client_closed");
    let b = homes.json(&["budget"]);
    assert_eq!(b["relay"]["client_closed"], 1, "{b}");
    assert_eq!(b["agents_today"], 1, "OpenRouter counted it: {b}");
}

/// A Hermes state.db with one row through the relay and one straight to OpenRouter.
fn state_db(path: &std::path::Path, relay_url: &str) {
    let rt = runtime();
    rt.block_on(async {
        let db = libsql::Builder::new_local(path)
            .build()
            .await
            .expect("a db");
        let conn = db.connect().expect("a connection");
        conn.execute_batch(&format!(
            "CREATE TABLE session_model_usage (session_id TEXT, model TEXT, billing_provider TEXT,
               billing_base_url TEXT, billing_mode TEXT, task TEXT, api_call_count INTEGER,
               input_tokens INTEGER, output_tokens INTEGER, estimated_cost_usd REAL, last_seen REAL);
             INSERT INTO session_model_usage VALUES ('s1', 'a/relayed:free', 'custom', '{relay_url}', '', '', 4, 40, 8, 0, 1764936000);
             INSERT INTO session_model_usage VALUES ('s2', 'a/direct:free', 'openrouter', 'https://openrouter.ai/api/v1', '', '', 2, 20, 4, 0, 1764936000);"
        ))
        .await
        .expect("rows");
    });
}

#[test]
fn calls_hermes_made_through_the_relay_are_not_counted_again_by_the_ingest() {
    let homes = Homes::new();
    let agents = three_agents(&homes);
    let profile = &agents[0].0;
    let dir = homes.hermes_home().join("profiles").join(profile);
    let dir = if dir.is_dir() {
        dir
    } else {
        homes.hermes_home()
    };
    state_db(
        &dir.join("state.db"),
        &format!("http://127.0.0.1:7879/agents/{profile}/v1"),
    );
    // `nxr budget` ingests the profiles' state.db first.
    homes.json(&["budget"]);
    let rt = runtime();
    let store = rt.block_on(Store::open(&homes.env())).expect("the store");
    let models: Vec<String> = rows(&rt, &store).into_iter().map(|r| r.2).collect();
    assert_eq!(
        models,
        vec!["a/direct:free".to_string()],
        "only the direct calls"
    );
}

#[test]
fn a_profile_pointed_at_a_relay_that_does_not_run_is_named_with_the_fix() {
    let homes = Homes::new();
    let agents = three_agents(&homes);
    let fake = FakeServer::start();
    fake.always(
        "/api/v1/key",
        Reply::json(200, common::fixture("openrouter/key.json")),
    );
    let rt = runtime();
    let mut relay = start(&rt, format!("{}/api/v1", fake.base), None);
    let port = relay.addr.port().to_string();
    homes.json(&["relay", "enable", "--port", &port]);
    let check = |ok_wanted: bool| {
        let out = homes
            .nxr()
            .args(["agents", "check", "--json"])
            .output()
            .expect("nxr");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
        });
        for a in v.as_array().expect("checks") {
            let lines = a["checks"].as_array().expect("lines");
            let relay_line = lines
                .iter()
                .find(|l| l["kind"] == "relay")
                .unwrap_or_else(|| panic!("no relay line: {a}"));
            assert_eq!(relay_line["ok"], ok_wanted, "{relay_line}");
            let db = lines.iter().find(|l| l["kind"] == "database").expect("db");
            assert_eq!(db["ok"], true, "on the relay the profile agrees: {db}");
            if !ok_wanted {
                let fix = relay_line["fix"].as_str().unwrap_or("");
                assert!(
                    fix.contains("nxr relay disable") && fix.contains(&port),
                    "{fix}"
                );
            }
        }
        out.status.success()
    };
    assert!(check(true), "every agent ready on a running relay");
    relay.stop();
    assert!(!check(false), "a stopped relay fails the check");
    let doctor = homes.nxr().arg("doctor").output().expect("nxr doctor");
    let text = String::from_utf8_lossy(&doctor.stdout).into_owned()
        + &String::from_utf8_lossy(&doctor.stderr);
    assert!(
        text.contains(&format!("relay on 127.0.0.1:{port}, which does not run")),
        "{text}"
    );
    assert_eq!(agents.len(), 3);
}
