//! `nxr serve` under hostile clients (loopback only, bounded in time): slowloris headers and bodies,
//! 1,000 short-lived connections, malformed HTTP, a bad Host header, path traversal, oversized
//! headers. Meanwhile a well-behaved client keeps being answered; the server's threads
//! (/proc/<pid>/task) and memory (VmRSS) stay bounded; it refuses what it must.

mod common;

use common::Homes;
use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

struct Served {
    child: std::process::Child,
    addr: String,
    token: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        // Only the server this test spawned, by its own handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(homes: &Homes) -> Served {
    let mut child = homes
        .nxr()
        .args(["serve", "--port", "0"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("nxr serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut url = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(p) = line.find("http://")
            && line.contains("?token=")
        {
            url = Some(line[p..].trim().to_string());
        }
        if line.contains("Ctrl-C") {
            break;
        }
    }
    let url = url.expect("sign-in URL");
    let rest = url.trim_start_matches("http://");
    let (addr, token) = rest.split_once("/?token=").expect("url shape");
    Served {
        child,
        addr: addr.to_string(),
        token: token.to_string(),
    }
}

/// Sends raw bytes, reads the answer (up to 64 KB, 5 s); "" when the server closed without one.
fn raw(addr: &str, bytes: &[u8]) -> String {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return "connect failed".into();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = s.set_write_timeout(Some(Duration::from_secs(5)));
    let _ = s.write_all(bytes);
    let mut buf = Vec::new();
    let _ = s.take(65536).read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

fn status_of(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn get(addr: &str, token: &str, path: &str) -> String {
    raw(
        addr,
        format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
}

fn proc_figures(pid: u32) -> (usize, u64) {
    let threads = std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| d.count())
        .unwrap_or(0);
    let rss_kb = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0);
    (threads, rss_kb)
}

#[test]
fn the_server_keeps_answering_and_stays_bounded_under_hostile_clients() {
    hostile_run(0);
}

/// 200 slow clients that never finish their headers or bodies, on top of the run above. Each
/// connection holds a thread while open, so the server keeps at most `MAX_CONNECTIONS` open and
/// closes the one that has waited longest for its client when a new one arrives; bodies are read
/// before a worker sees the request, so a dripping body never holds a worker.
#[test]
fn slowloris_clients_neither_starve_others_nor_grow_threads() {
    hostile_run(200);
}

/// Out of file descriptors, accept() (EMFILE) or the copy of an accepted socket fails. The server
/// must answer the client that connected meanwhile and accept again once descriptors are free
/// (tiny_http 0.12 as published ended its accept loop for good on the first accept error, and
/// panicked its accept thread when the copy failed).
#[test]
fn running_out_of_file_descriptors_does_not_stop_the_server() {
    let homes = Homes::new();
    let s = serve(&homes);
    assert_eq!(status_of(&get(&s.addr, &s.token, "/api/agents")), 200);
    let pid = s.child.id() as libc::pid_t;
    let set_soft_limit = |soft: Option<libc::rlim_t>| -> libc::rlim_t {
        let mut old = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: prlimit reads `new` and writes `old`, both valid for the call.
        let rc = unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, std::ptr::null(), &mut old) };
        assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
        if let Some(soft) = soft {
            let new = libc::rlimit {
                rlim_cur: soft,
                rlim_max: old.rlim_max,
            };
            // SAFETY: as above.
            let rc = unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, &new, std::ptr::null_mut()) };
            assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
        }
        old.rlim_cur
    };
    // Only stdin, stdout and stderr fit: every new descriptor fails.
    let original = set_soft_limit(Some(3));
    let waiting = {
        let (addr, token) = (s.addr.clone(), s.token.clone());
        std::thread::spawn(move || get(&addr, &token, "/api/agents"))
    };
    let log = homes.nxr_home().join("logs/nxr.log");
    common::wait_until(
        "the server to fail to take a connection (it logs each such error)",
        Duration::from_secs(10),
        || {
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains("Error accepting new client")
        },
    );
    set_soft_limit(Some(original));
    // Accepted once descriptors are back (200), or refused at once with "busy" (503) when the
    // socket was taken but could not be copied: never dropped without an answer.
    let answer = waiting.join().expect("client thread");
    assert!(
        [200, 503].contains(&status_of(&answer)),
        "the client that connected while the server was out of descriptors: {answer:?}"
    );
    assert_eq!(status_of(&get(&s.addr, &s.token, "/api/agents")), 200);
    common::figures(
        "web_hostile",
        &format!(
            "out of file descriptors: the client waiting meanwhile got {}, the next one 200",
            status_of(&answer)
        ),
    );
}

fn hostile_run(slow_clients: usize) {
    let homes = Homes::new();
    let s = serve(&homes);
    let (addr, token, pid) = (s.addr.clone(), s.token.clone(), s.child.id());
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let slowest = Arc::new(std::sync::Mutex::new(Duration::ZERO));
    let (max_threads, max_rss) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));

    // The well-behaved client.
    let good = {
        let (addr, token, stop, served, slowest) = (
            addr.clone(),
            token.clone(),
            stop.clone(),
            served.clone(),
            slowest.clone(),
        );
        std::thread::spawn(move || {
            let mut failures = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let t = Instant::now();
                let a = get(&addr, &token, "/api/agents");
                let took = t.elapsed();
                let mut w = slowest.lock().expect("slowest");
                *w = (*w).max(took);
                if status_of(&a) == 200 {
                    served.fetch_add(1, Ordering::SeqCst);
                } else {
                    failures.push(a.lines().next().unwrap_or("no answer").to_string());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            failures
        })
    };
    let sampler = {
        let (stop, mt, mr) = (stop.clone(), max_threads.clone(), max_rss.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let (t, r) = proc_figures(pid);
                mt.fetch_max(t, Ordering::SeqCst);
                mr.fetch_max(r as usize, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };

    // Slowloris: 150 connections that send a header line now and then, never finishing; and 50
    // that promise a body and drip it.
    let mut slow = Vec::new();
    for i in 0..slow_clients {
        let Ok(mut c) = TcpStream::connect(&addr) else {
            continue;
        };
        let head = if i < slow_clients * 3 / 4 {
            format!("GET / HTTP/1.1\r\nHost: {addr}\r\n")
        } else {
            format!(
                "POST /api/models/rescore HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Length: 100000\r\n\r\nx"
            )
        };
        let _ = c.write_all(head.as_bytes());
        slow.push(c);
    }
    let drip = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) && n < 40 {
                for c in slow.iter_mut() {
                    let _ = c.write_all(b"X-a: b\r\n");
                }
                n += 1;
                std::thread::sleep(Duration::from_millis(250));
            }
        })
    };

    // 1,000 short-lived connections across 4 threads.
    let short_ok = Arc::new(AtomicUsize::new(0));
    let hammer: Vec<_> = (0..4)
        .map(|t| {
            let (addr, token, ok) = (addr.clone(), token.clone(), short_ok.clone());
            std::thread::spawn(move || {
                for i in 0..250 {
                    let a = if (i + t) % 2 == 0 {
                        get(&addr, &token, "/api/agents")
                    } else {
                        // No credentials: refused.
                        raw(
                            &addr,
                            b"GET /api/agents HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                        )
                    };
                    let st = status_of(&a);
                    if st == 200 || st == 401 {
                        ok.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();

    // Malformed HTTP, bad Host, traversal, oversized headers: a refusal or a closed connection,
    // never a file from outside, never a crash.
    let auth = format!("Authorization: Bearer {token}\r\n");
    let malformed: Vec<Vec<u8>> = vec![
        b"\x00\x01\x02garbage\r\n\r\n".to_vec(),
        b"GET\r\n\r\n".to_vec(),
        b"GET / HTTP/9.9\r\n\r\n".to_vec(),
        b"BREW /coffee HTCPCP/1.0\r\n\r\n".to_vec(),
        format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(100_000)).into_bytes(),
        b"POST /setup/key HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n".to_vec(),
        b"POST /setup/key HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n"
            .to_vec(),
    ];
    for m in &malformed {
        let a = raw(&addr, m);
        let st = status_of(&a);
        assert!(
            a.is_empty() || (400..600).contains(&st),
            "malformed request answered {st}: {}",
            a.lines().next().unwrap_or("")
        );
    }
    for path in [
        "/../../../../etc/passwd",
        "/api/../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2f..%2f..%2fCargo.toml",
        "/..%5c..%5cCargo.toml",
        "/assets/../../Cargo.toml",
        "/%2F%2Fetc%2Fpasswd",
    ] {
        let a = get(&addr, &token, path);
        let st = status_of(&a);
        assert!(
            (400..500).contains(&st),
            "{path} answered {st}: {}",
            a.lines().next().unwrap_or("")
        );
        assert!(
            !a.contains("root:x:0") && !a.contains("[package]"),
            "{path} leaked a file"
        );
    }
    // A bad Host: no credentials → refused; with a token the answer never points at that host.
    let a = raw(
        &addr,
        b"GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status_of(&a), 401, "{a}");
    let a = raw(
        &addr,
        format!("GET /?token={token} HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    );
    assert!(
        !a.to_ascii_lowercase().contains("location: http://evil"),
        "{a}"
    );
    let big_header = format!(
        "GET /api/agents HTTP/1.1\r\nHost: x\r\n{auth}X-Big: {}\r\nConnection: close\r\n\r\n",
        "b".repeat(200_000)
    );
    let st = status_of(&raw(&addr, big_header.as_bytes()));
    assert!(st == 0 || st == 431, "a 200 KB header answered {st}");
    let many: String = (0..10_000).map(|i| format!("X-{i}: v\r\n")).collect();
    let st = status_of(&raw(
        &addr,
        format!("GET /api/agents HTTP/1.1\r\nHost: x\r\n{auth}{many}Connection: close\r\n\r\n")
            .as_bytes(),
    ));
    assert!(st == 0 || st == 431, "10,000 headers answered {st}");

    for h in hammer {
        h.join().expect("hammer");
    }
    // Let the slow clients hold on a little longer while the good client keeps going.
    let deadline = Instant::now() + Duration::from_secs(20);
    while served.load(Ordering::SeqCst) < 20 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::SeqCst);
    drip.join().expect("drip");
    let failures = good.join().expect("good client");
    sampler.join().expect("sampler");

    let served = served.load(Ordering::SeqCst);
    let (threads, rss_kb) = (
        max_threads.load(Ordering::SeqCst),
        max_rss.load(Ordering::SeqCst),
    );
    common::figures(
        "web_hostile",
        &format!(
            "web clients served during the hostile run ({slow_clients} slowloris clients): {served} (slowest {:?}); short-lived connections answered {} / 1000; server threads at most {threads}, memory at most {} MB",
            *slowest.lock().expect("slowest"),
            short_ok.load(Ordering::SeqCst),
            rss_kb / 1024
        ),
    );
    assert!(
        failures.is_empty(),
        "the good client was refused: {failures:?}"
    );
    assert!(served >= 20, "the good client was served {served} times");
    assert_eq!(short_ok.load(Ordering::SeqCst), 1000);
    assert!(threads <= 64, "the server grew to {threads} threads");
    assert!(
        rss_kb < 400 * 1024,
        "the server grew to {} MB",
        rss_kb / 1024
    );
    // Still alive and answering after it all.
    assert_eq!(status_of(&get(&addr, &token, "/api/agents")), 200);
}
