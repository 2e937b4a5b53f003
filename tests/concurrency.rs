//! Several nxr processes on one database at once, for a bounded time: three CLI writers creating
//! agents, `nxr serve` answering an HTTP reader, the TUI's domain loop (headless), `nxr scan` and `nxr models rescore` in a loop. No
//! "database is locked" (or any other error) reaches a user, and every write a command acknowledged
//! is there at the end. The same against a real libSQL server (sqld).

mod common;

use common::{FakeServer, Homes, Reply, Sqld};
use std::io::{BufRead, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const WRITERS: usize = 3;
const RUN_FOR: Duration = Duration::from_secs(15);

fn run_suite(homes: &Homes, db_url: Option<&str>, label: &str) {
    let server = FakeServer::start();
    server.always(
        "/api/v1/models",
        Reply::json(200, common::fixture("openrouter/models.json")),
    );
    let api = format!("{}/api/v1", server.base);
    let cmd = |args: &[&str]| {
        let mut c = homes.nxr();
        c.env("NXR_OPENROUTER_URL", &api).args(args);
        if let Some(u) = db_url {
            c.env("NXR_DB_URL", u);
        }
        c
    };
    let init = cmd(&["init", "--free"]).output().expect("init");
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );

    let mut serve = cmd(&["serve", "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve");
    let mut url = String::new();
    for line in std::io::BufReader::new(serve.stdout.take().expect("stdout")).lines() {
        let line = line.expect("line");
        if let Some(p) = line.find("http://")
            && line.contains("?token=")
        {
            url = line[p..].trim().to_string();
        }
        if line.contains("Ctrl-C") {
            break;
        }
    }
    let (addr, token) = url
        .trim_start_matches("http://")
        .split_once("/?token=")
        .map(|(a, t)| (a.to_string(), t.to_string()))
        .expect("sign-in URL");

    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let ops = Arc::new(AtomicUsize::new(0));
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let deadline = Instant::now() + RUN_FOR;
    std::thread::scope(|s| {
        for w in 0..WRITERS {
            let (errors, ops, acked) = (errors.clone(), ops.clone(), acknowledged.clone());
            let cmd = &cmd;
            s.spawn(move || {
                let mut i = 0;
                while Instant::now() < deadline {
                    let name = format!("W{w}n{i}");
                    i += 1;
                    let o = cmd(&["agents", "create", "--role", "custom", "--name", &name])
                        .output()
                        .expect("create");
                    ops.fetch_add(1, Ordering::SeqCst);
                    if o.status.success() {
                        acked.lock().expect("acked").push(name);
                    } else {
                        errors.lock().expect("errors").push(format!(
                            "writer {w}: {}",
                            String::from_utf8_lossy(&o.stderr).trim()
                        ));
                    }
                }
            });
        }
        for args in [&["scan"][..], &["models", "rescore"]] {
            let (errors, ops) = (errors.clone(), ops.clone());
            let cmd = &cmd;
            s.spawn(move || {
                while Instant::now() < deadline {
                    let o = cmd(args).output().expect("run");
                    ops.fetch_add(1, Ordering::SeqCst);
                    let err = String::from_utf8_lossy(&o.stderr);
                    if !o.status.success() || err.contains("locked") {
                        errors.lock().expect("errors").push(format!(
                            "{}: {}",
                            args.join(" "),
                            err.trim()
                        ));
                    }
                }
            });
        }
        {
            // The TUI's domain loop, headless: what each refresh of the screen reads.
            let (errors, ops) = (errors.clone(), ops.clone());
            let mut env = homes.env();
            env.db_url = db_url.map(str::to_string);
            s.spawn(move || {
                let rt = tokio::runtime::Runtime::new().expect("runtime");
                rt.block_on(async {
                    let store = nxr::domain::store::Store::open(&env).await.expect("store");
                    let clock = nxr::domain::base::clock::SystemClock;
                    while Instant::now() < deadline {
                        let catalog =
                            nxr::app::loader::load_catalog(&store, chrono::Utc::now()).await;
                        let data = nxr::app::loader::load(&store, &env, &clock, &catalog).await;
                        ops.fetch_add(1, Ordering::SeqCst);
                        for e in [
                            &data.agents_error,
                            &data.budget_error,
                            &data.notifications_error,
                        ]
                        .into_iter()
                        .flatten()
                        {
                            errors.lock().expect("errors").push(format!("TUI: {e}"));
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                });
            });
        }
        {
            let (errors, ops, stop) = (errors.clone(), ops.clone(), stop.clone());
            let (addr, token) = (addr.clone(), token.clone());
            s.spawn(move || {
                while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                    for path in ["/api/agents", "/agents", "/"] {
                        let mut c = std::net::TcpStream::connect(&addr).expect("connect");
                        let _ = c.set_read_timeout(Some(Duration::from_secs(20)));
                        let _ = write!(
                            c,
                            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
                        );
                        let mut a = String::new();
                        let _ = c.read_to_string(&mut a);
                        ops.fetch_add(1, Ordering::SeqCst);
                        if !a.starts_with("HTTP/1.1 200") || a.contains("locked") {
                            errors.lock().expect("errors").push(format!(
                                "GET {path}: {}",
                                a.lines().next().unwrap_or("no answer")
                            ));
                        }
                    }
                }
            });
        }
    });
    stop.store(true, Ordering::SeqCst);
    let _ = serve.kill();
    let _ = serve.wait();

    let listed = cmd(&["agents", "list", "--json"]).output().expect("list");
    let agents: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("json");
    let names: Vec<&str> = agents
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    let acked = acknowledged.lock().expect("acked").clone();
    let missing: Vec<&String> = acked
        .iter()
        .filter(|n| !names.contains(&n.as_str()))
        .collect();
    let errors = errors.lock().expect("errors").clone();
    common::figures(
        "concurrency",
        &format!(
            "concurrency ({label}): {WRITERS} writers + scan + rescore + web reader + TUI loop, {} ops, {} writes acknowledged, errors {}, missing {}",
            ops.load(Ordering::SeqCst),
            acked.len(),
            errors.len(),
            missing.len()
        ),
    );
    assert!(
        errors.is_empty(),
        "{label}: errors reached a user:\n{}",
        errors.join("\n")
    );
    assert!(
        missing.is_empty(),
        "{label}: acknowledged but missing: {missing:?}"
    );
    assert!(!acked.is_empty(), "{label}: no write went through");
}

#[test]
fn writers_server_scan_and_rescore_at_once_on_a_local_database() {
    let homes = Homes::new();
    run_suite(&homes, None, "local file");
}

#[test]
fn writers_server_scan_and_rescore_at_once_on_sqld() {
    let sqld = Sqld::start();
    let homes = Homes::new();
    run_suite(&homes, Some(&sqld.url), "sqld");
}
