//! Budget and scan performance figures (printed next to their targets, never asserted):
//! - `nxr budget --json` end to end with 1,000,000 usage events in the database (target < 50 ms),
//!   and `budget::load` in process;
//! - a full scan (catalog fetch from a loopback server, store, rescore, notifications, usage ingest)
//!   of the 371-model catalog of 2026-05-01 with three agents (target < 300 ms).
//!
//! Run: `cargo bench --bench budget` (it uses the release binary next to the bench when built).

use chrono::{Duration as Days, Utc};
use libsql::Value;
use nxr::domain::base::clock::{self, SystemClock};
use nxr::domain::catalog::openrouter::OpenRouterClient;
use nxr::domain::store::Store;
use nxr::domain::{base::env::Env, budget, watch::scanner};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const EVENTS: usize = 1_000_000;
const AGENTS: i64 = 6;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(what: &str, target_ms: f64, mut times: Vec<f64>) {
    times.sort_by(|a, b| a.total_cmp(b));
    let median = times[times.len() / 2];
    println!(
        "{what:<58} n={:<3} min {:>8.2} ms  median {median:>8.2} ms  (target < {target_ms} ms: {})",
        times.len(),
        times[0],
        if median < target_ms { "met" } else { "MISSED" }
    );
}

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("{what}: {e}");
    std::process::exit(1);
}

/// The nxr binary next to this bench executable, else the other profile's build.
fn nxr_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let mut candidates = Vec::new();
    for dir in exe.ancestors().skip(1).take(3) {
        candidates.push(dir.join("nxr"));
        if dir.file_name().is_some_and(|n| n == "target") {
            candidates.push(dir.join("release/nxr"));
            candidates.push(dir.join("debug/nxr"));
        }
    }
    candidates.into_iter().find(|p| p.is_file())
}

/// 1,000,000 events over the last 365 days (today's share up to now), spread over six agents, two
/// in three on free models, one in fifty a rate limit.
async fn fill(store: &Store) {
    let now = Utc::now();
    for id in 1..=AGENTS {
        let at = clock::to_db(now);
        if let Err(e) = store
            .conn()
            .execute(
                "INSERT INTO agents (id, name, model, created_at, updated_at) VALUES (?1, ?2, 'm:free', ?3, ?3)",
                libsql::params![id, format!("agent-{id}"), at],
            )
            .await
        {
            fail("insert agent", e);
        }
    }
    let span = 365 * 86_400i64;
    let step = span as f64 / EVENTS as f64;
    let result = store
        .in_transaction(|tx| async move {
            let mut i = 0usize;
            while i < EVENTS {
                let n = (EVENTS - i).min(500);
                let mut sql = String::from(
                    "INSERT INTO usage_events (agent_id, model, is_free, requests, prompt_tokens, completion_tokens, cost_usd, status, occurred_at) VALUES ",
                );
                let mut values = Vec::with_capacity(n * 9);
                for k in 0..n {
                    let j = i + k;
                    if k > 0 {
                        sql.push(',');
                    }
                    sql.push_str("(?,?,?,?,?,?,?,?,?)");
                    let ago = span - (j as f64 * step) as i64;
                    let at = now - Days::seconds(ago.max(0));
                    values.extend([
                        Value::Integer(j as i64 % AGENTS + 1),
                        Value::Text("m:free".into()),
                        Value::Integer(i64::from(!j.is_multiple_of(3))),
                        Value::Integer(1),
                        Value::Integer(400),
                        Value::Integer(120),
                        Value::Real(if j.is_multiple_of(3) { 0.0004 } else { 0.0 }),
                        Value::Text(if j.is_multiple_of(50) { "rate_limited" } else { "ok" }.into()),
                        Value::Text(clock::to_db(at)),
                    ]);
                }
                tx.execute(&sql, libsql::params_from_iter(values)).await?;
                i += n;
            }
            Ok(())
        })
        .await;
    if let Err(e) = result {
        fail("insert events", e);
    }
}

fn serve_catalog(body: String) -> String {
    let server = match tiny_http::Server::http("127.0.0.1:0") {
        Ok(s) => s,
        Err(e) => fail("bind 127.0.0.1:0", e),
    };
    let port = server.server_addr().to_ip().map(|a| a.port()).unwrap_or(0);
    std::thread::spawn(move || {
        for req in server.incoming_requests() {
            let resp = tiny_http::Response::from_string(body.clone()).with_header(
                tiny_http::Header::from_bytes("Content-Type", "application/json")
                    .unwrap_or_else(|_| fail("header", "invalid")),
            );
            let _ = req.respond(resp);
        }
    });
    format!("http://127.0.0.1:{port}/api/v1")
}

fn main() {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => fail("tokio", e),
    };
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => fail("temp dir", e),
    };

    // 1. The budget with a million events.
    let home = dir.path().join("budget");
    let env = Env::for_dirs(home.join("nxr"), home.join("hermes"));
    let store = match rt.block_on(Store::open(&env)) {
        Ok(s) => s,
        Err(e) => fail("open store", e),
    };
    let t = Instant::now();
    rt.block_on(fill(&store));
    println!(
        "filled {EVENTS} usage events in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let times = (0..20)
        .map(|_| {
            let t = Instant::now();
            match rt.block_on(budget::load(&store, &SystemClock)) {
                Ok(b) => {
                    std::hint::black_box(b.used_today);
                }
                Err(e) => fail("budget::load", e),
            }
            ms(t.elapsed())
        })
        .collect();
    report("budget::load with 1M events (in process)", 50.0, times);
    drop(store);
    match nxr_binary() {
        None => println!("nxr budget --json: skipped (build nxr first: cargo build --release)"),
        Some(bin) => {
            let times = (0..10)
                .map(|_| {
                    let t = Instant::now();
                    let out = std::process::Command::new(&bin)
                        .args(["budget", "--json"])
                        .env("NXR_HOME", &env.nxr_home)
                        .env("HERMES_HOME", &env.hermes_home)
                        .env("NXR_OPENROUTER_URL", "http://127.0.0.1:9/api/v1")
                        .env("NXR_TELEGRAM_API_URL", "http://127.0.0.1:9")
                        .env_remove("NXR_DB_URL")
                        .output();
                    match out {
                        Ok(o) if o.status.success() => {}
                        Ok(o) => fail("nxr budget", String::from_utf8_lossy(&o.stderr)),
                        Err(e) => fail("run nxr", e),
                    }
                    ms(t.elapsed())
                })
                .collect();
            report(
                &format!("nxr budget --json, 1M events ({})", bin.display()),
                50.0,
                times,
            );
        }
    }

    // 2. A full scan of the 371-model catalog.
    let catalog =
        include_str!("../tests/fixtures/openrouter/catalog-history/models-2026-05-01.json");
    let home = dir.path().join("scan");
    let mut env = Env::for_dirs(home.join("nxr"), home.join("hermes"));
    env.openrouter_url = serve_catalog(catalog.to_string());
    env.ollama_url = "http://127.0.0.1:9".into();
    let store = match rt.block_on(Store::open(&env)) {
        Ok(s) => s,
        Err(e) => fail("open store", e),
    };
    let client = OpenRouterClient::from_env(&env, None);
    let scan = || {
        let t = Instant::now();
        match rt.block_on(scanner::scan(
            &store,
            &env,
            &client,
            &SystemClock,
            "bench",
            &|_| {},
        )) {
            Ok(r) => {
                std::hint::black_box(r.models);
            }
            Err(e) => fail("scan", e),
        }
        ms(t.elapsed())
    };
    scan();
    rt.block_on(async {
        for (name, role) in [
            ("pm", nxr::domain::base::roles::Role::Pm),
            ("eng", nxr::domain::base::roles::Role::Engineer),
            ("hermes", nxr::domain::base::roles::Role::Hermes),
        ] {
            let new = nxr::domain::agents::NewAgent {
                name: name.into(),
                role,
                category: None,
                model: None,
                skills: None,
                is_default: false,
                host: None,
            };
            if let Err(e) = nxr::domain::agents::create(&store, &env, new).await {
                fail("create agent", e);
            }
        }
    });
    let times = (0..10).map(|_| scan()).collect();
    report(
        "scan: fetch + store + rescore + notify, 371 models",
        300.0,
        times,
    );
}
