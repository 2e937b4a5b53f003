//! Load on the web server (printed, never asserted). With 100 agents created, every read page and
//! the JSON API — `/`, `/agents`, `/agents/manage`, `/models`, `/budget`, `/notifications`,
//! `/api/agents`, `/api/models/roster`, `/api/budget`, `/api/notifications` — is first fetched once
//! to print its size as sent and gzip-compressed, then loaded for a bounded time; each load prints
//! requests/s, the p50 / p99 latency and the errors. Targets on 2 cores: ≥ 5,000 req/s and
//! p99 < 10 ms for every path, and no page over 150 KB before compression. The client runs on the
//! same machine, so the cores and the load average are printed first.
//!
//! Each path is loaded twice: by wrk (the load tool from apt, `apt install wrk`; skipped with a note
//! when it is not installed) with 2 threads and 32 keep-alive connections sending
//! `Accept-Encoding: gzip` as browsers do, then by this file's own 8 keep-alive clients, which also
//! check every answer's status and Content-Length.
//!
//! Run: `cargo bench --bench web_load` (seconds per path: `NXR_BENCH_SECS`, default 5).

use nxr::domain::store::Store;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENTS: usize = 8;

/// One keep-alive GET; returns false on any error, a non-200 answer, or an answer without a
/// Content-Length (its end could not be found on the connection).
fn get(reader: &mut BufReader<TcpStream>, req: &[u8]) -> bool {
    if reader.get_mut().write_all(req).is_err() {
        return false;
    }
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || !line.starts_with("HTTP/1.1 200") {
        return false;
    }
    let mut len = None;
    loop {
        line.clear();
        if reader.read_line(&mut line).is_err() {
            return false;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse::<usize>().ok();
        }
    }
    let Some(len) = len else {
        return false;
    };
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).is_ok()
}

/// Milliseconds from a wrk latency figure ("512.00us", "3.16ms", "1.02s", "1.5m").
fn wrk_ms(v: &str) -> Option<f64> {
    let split = v.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = v.split_at(split);
    let n: f64 = n.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    })
}

/// Loads `path` with wrk for `secs` seconds and prints req/s, p50, p99 and errors; says so when wrk
/// is not installed or its output cannot be read.
fn run_wrk(addr: SocketAddr, path: &str, auth: &str, secs: u64) {
    let out = std::process::Command::new("wrk")
        .args(["-t2", "-c32", &format!("-d{secs}s"), "--latency", "-H"])
        .arg(format!("Authorization: Bearer {auth}"))
        .args(["-H", "Accept-Encoding: gzip"])
        .arg(format!("http://{addr}{path}"))
        .output();
    let out = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => {
            println!(
                "wrk {path}: failed ({})",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            return;
        }
        Err(_) => {
            println!("wrk {path}: wrk is not installed (apt install wrk); own client only");
            return;
        }
    };
    let field = |prefix: &str| {
        out.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::trim)
            .map(str::to_string)
    };
    let rps = field("Requests/sec:").and_then(|v| v.parse::<f64>().ok());
    let p50 = field("50%").and_then(|v| wrk_ms(&v));
    let p99 = field("99%").and_then(|v| wrk_ms(&v));
    let non_2xx = field("Non-2xx or 3xx responses:").unwrap_or_else(|| "0".into());
    let socket = field("Socket errors:").unwrap_or_else(|| "none".into());
    match (rps, p50, p99) {
        (Some(rps), Some(p50), Some(p99)) => println!(
            "wrk GET {path:<20} 32 conns {secs}s: {rps:>8.0} req/s   p50 {p50:>6.2} ms   p99 {p99:>6.2} ms   non-2xx {non_2xx}, socket errors {socket}"
        ),
        _ => println!("wrk {path}: unreadable output:\n{out}"),
    }
}

fn run(addr: SocketAddr, path: &str, auth: &str, secs: u64) {
    run_wrk(addr, path, auth, secs);
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {auth}\r\nAccept-Encoding: gzip\r\nConnection: keep-alive\r\n\r\n"
    )
    .into_bytes();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let handles: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let req = req.clone();
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                let mut errors = 0u64;
                let mut conn = None;
                while Instant::now() < deadline {
                    let reader = match &mut conn {
                        Some(r) => r,
                        None => match TcpStream::connect(addr) {
                            Ok(s) => {
                                let _ = s.set_nodelay(true);
                                conn.insert(BufReader::new(s))
                            }
                            Err(_) => {
                                errors += 1;
                                continue;
                            }
                        },
                    };
                    let t = Instant::now();
                    if get(reader, &req) {
                        lat.push(t.elapsed());
                    } else {
                        errors += 1;
                        conn = None;
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for h in handles {
        if let Ok((l, e)) = h.join() {
            all.extend(l);
            errors += e;
        }
    }
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "own GET {path:<20} {CLIENTS} clients {secs}s: {:>8.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   errors {errors}",
        all.len() as f64 / secs as f64,
        pct(0.50),
        pct(0.99),
    );
}

fn main() {
    let secs: u64 = std::env::var("NXR_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
        .clamp(1, 60);
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut env =
        nxr::domain::base::env::Env::for_dirs(dir.path().join("nxr"), dir.path().join("hermes"));
    env.openrouter_url = "http://127.0.0.1:9/api/v1".into();
    env.ollama_url = "http://127.0.0.1:9".into();
    let store = Arc::new(rt.block_on(Store::open(&env)).expect("store"));
    let body = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/openrouter/models.json"),
    )
    .expect("the recorded catalog");
    let parsed = nxr::domain::catalog::parse_catalog(&body).expect("catalog parses");
    rt.block_on(nxr::domain::catalog::save(
        &store,
        &parsed,
        "2026-05-01T00:00:00Z",
        "bench",
    ))
    .expect("catalog saved");
    let (store_for_agents, env_for_agents) = (store.clone(), env.clone());
    let server = nxr::web::server::start(env, store, rt.handle().clone(), "127.0.0.1", 0, false)
        .expect("server starts");
    println!(
        "cores {}, load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    for i in 0..100 {
        rt.block_on(nxr::domain::agents::create(
            &store_for_agents,
            &env_for_agents,
            nxr::domain::agents::NewAgent {
                name: format!("bench-agent-{i:03}"),
                role: nxr::domain::base::roles::Role::Custom,
                category: None,
                model: None,
                skills: None,
                is_default: false,
                host: None,
            },
        ))
        .expect("agent created");
    }
    // Every read page and the JSON API.
    let paths = nxr::web::cache::CACHED
        .iter()
        .chain(nxr::web::cache::API_READS.iter());
    for path in paths.clone() {
        print_size(server.addr, path, &server.token);
    }
    for path in paths {
        run(server.addr, path, &server.token, secs);
    }
}

/// The size of one answer for `path`: as sent without compression, and with gzip when asked.
fn print_size(addr: SocketAddr, path: &str, auth: &str) {
    let size = |gzip: bool| -> Option<(usize, bool)> {
        let mut s = TcpStream::connect(addr).ok()?;
        let enc = if gzip {
            "Accept-Encoding: gzip\r\n"
        } else {
            ""
        };
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {auth}\r\n{enc}Connection: close\r\n\r\n")
                .as_bytes(),
        )
        .ok()?;
        let mut all = Vec::new();
        s.read_to_end(&mut all).ok()?;
        let split = all.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&all[..split]).to_ascii_lowercase();
        Some((
            all.len() - split - 4,
            head.contains("content-encoding: gzip"),
        ))
    };
    match (size(false), size(true)) {
        (Some((plain, _)), Some((sent, gz))) => println!(
            "size {path:<20} {:>7.1} KB{}",
            plain as f64 / 1024.0,
            if gz {
                format!(", {:.1} KB gzip", sent as f64 / 1024.0)
            } else {
                ", not compressed".to_string()
            }
        ),
        _ => println!("size {path}: no answer"),
    }
}
