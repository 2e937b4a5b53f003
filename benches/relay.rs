//! What the relay (`src/web/relay/`) costs an agent, printed and never asserted (the targets are
//! printed next to each figure). Every figure compares the same requests sent through the relay with
//! the same requests sent straight to the upstream, a loopback OpenRouter in this file; every client
//! keeps its connection alive, as the relay keeps its own to the upstream.
//!
//! 1. Added latency: 2,000 sequential non-streaming chat requests, alternately direct and through
//!    an in-process relay; p50 and p99 of each and their difference. Target: p99 added < 1 ms.
//! 2. First byte of 50 concurrent streams (SSE, `"stream": true`): the upstream sends each stream's
//!    first event at once and ends the stream only once every client has read that event (or after
//!    2 s); the time from each request to its first event, direct and through the relay, over
//!    several rounds, and the added p50 / p99 / max. Target: added < 5 ms. Streams whose first
//!    event reached the client only after the upstream ended them are counted.
//! 3. The relay's memory with 50 streams open: `nxr relay run --port 0 --json` as its own process
//!    (the bench build of the binary), 50 streams held open mid-answer by the upstream, then VmRSS,
//!    VmHWM and the thread count from `/proc/PID/status`. Target: < 30 MB.
//!
//! Paid model ids throughout, which the pacer never holds. The clients, the upstream and (for 1 and
//! 2) the relay share the machine, so the core count and load average are printed first.
//!
//! Run: `cargo bench --bench relay`.

use nxr::domain::budget::pacer::Limits;
use nxr::web::relay::{self, RelayConfig};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

/// Sequential requests each way for figure 1.
const REQUESTS: usize = 2000;
const WARMUP: usize = 200;
/// Concurrent streams for figures 2 and 3.
const STREAMS: usize = 50;
/// Measured rounds of `STREAMS` streams each way for figure 2.
const ROUNDS: usize = 4;
/// How long the upstream holds streams open waiting for every client to read its first event.
const HOLD_LIMIT: Duration = Duration::from_secs(2);
/// A paid model: the relay forwards it without asking the pacer.
const MODEL: &str = "openai/gpt-4o-mini";
const KEY: &str = "sk-or-v1-bench-relay";
const RELAY_PATH: &str = "/agents/bench/v1/chat/completions";
const DIRECT_PATH: &str = "/api/v1/chat/completions";

const COMPLETION: &str = r#"{"id":"gen-bench","object":"chat.completion","created":1,"model":"openai/gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"pong"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}"#;
const EVENT_FIRST: &str = "data: {\"id\":\"gen-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"openai/gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"po\"},\"finish_reason\":null}]}\n\n";
const EVENT_LAST: &str = "data: {\"id\":\"gen-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"openai/gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ng\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6}}\n\ndata: [DONE]\n\n";

fn chat_body(stream: bool) -> String {
    format!(
        r#"{{"model":"{MODEL}","stream":{stream},"messages":[{{"role":"user","content":"ping"}}]}}"#
    )
}

// ---------------------------------------------------------------------------------------------
// The upstream: a loopback OpenRouter, one thread per keep-alive connection.

#[derive(Default)]
struct GateState {
    /// Streams wait after their first event while this is set.
    hold: bool,
    /// Streams whose first event was written since the last `set_hold`.
    first_sent: usize,
}

#[derive(Default)]
struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

impl Gate {
    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets whether streams are held after their first event, and restarts the count of them.
    fn set_hold(&self, hold: bool) {
        let mut s = self.lock();
        s.hold = hold;
        s.first_sent = 0;
        self.changed.notify_all();
    }

    fn release(&self) {
        self.lock().hold = false;
        self.changed.notify_all();
    }

    /// A stream's first event is written: count it, then wait while streams are held (60 s at most,
    /// so a forgotten hold cannot keep a thread forever).
    fn first_sent_then_wait(&self) {
        let mut s = self.lock();
        s.first_sent += 1;
        self.changed.notify_all();
        let _ = self
            .changed
            .wait_timeout_while(s, Duration::from_secs(60), |s| s.hold);
    }

    /// Waits until `n` first events were written (or `limit` passed); returns how many were.
    fn wait_first_sent(&self, n: usize, limit: Duration) -> usize {
        let s = self.lock();
        let (s, _) = self
            .changed
            .wait_timeout_while(s, limit, |s| s.first_sent < n)
            .unwrap_or_else(|e| e.into_inner());
        s.first_sent
    }
}

struct Upstream {
    addr: SocketAddr,
    gate: Arc<Gate>,
}

impl Upstream {
    fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").expect("the upstream binds");
        let addr = listener.local_addr().expect("the upstream's address");
        let gate = Arc::new(Gate::default());
        let g = gate.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let g = g.clone();
                std::thread::spawn(move || {
                    let _ = serve_upstream(conn, &g);
                });
            }
        });
        Upstream { addr, gate }
    }

    /// The API base the relay forwards to.
    fn base(&self) -> String {
        format!("http://{}/api/v1", self.addr)
    }
}

/// One HTTP request's line and body (the head's other fields are read past).
fn read_request(r: &mut BufReader<TcpStream>) -> io::Result<Option<(String, Vec<u8>)>> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut len = 0;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h)? == 0 {
            return Ok(None);
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    Ok(Some((path, body)))
}

fn http_chunk(data: &str) -> String {
    format!("{:x}\r\n{data}\r\n", data.len())
}

fn serve_upstream(conn: TcpStream, gate: &Gate) -> io::Result<()> {
    conn.set_nodelay(true)?;
    let mut out = conn.try_clone()?;
    let mut r = BufReader::new(conn);
    while let Some((path, body)) = read_request(&mut r)? {
        if path != DIRECT_PATH {
            out.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")?;
            continue;
        }
        let stream = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["stream"].as_bool())
            .unwrap_or(false);
        if !stream {
            out.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{COMPLETION}",
                    COMPLETION.len()
                )
                .as_bytes(),
            )?;
            continue;
        }
        out.write_all(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n{}",
                http_chunk(EVENT_FIRST)
            )
            .as_bytes(),
        )?;
        gate.first_sent_then_wait();
        out.write_all(format!("{}0\r\n\r\n", http_chunk(EVENT_LAST)).as_bytes())?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The client: HTTP/1.1 keep-alive over one TcpStream.

enum Body {
    Chunked,
    Length(usize),
}

struct Conn {
    addr: SocketAddr,
    r: BufReader<TcpStream>,
}

fn bad(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

impl Conn {
    fn open(addr: SocketAddr) -> Conn {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_nodelay(true).expect("TCP_NODELAY");
        Conn {
            addr,
            r: BufReader::new(s),
        }
    }

    fn line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.r.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(line)
    }

    fn post(&mut self, path: &str, body: &str) -> io::Result<()> {
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer sk-agent-own\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        self.r.get_mut().write_all(req.as_bytes())
    }

    /// Reads an answer's head; anything but a 200 that keeps the connection is an error.
    fn head(&mut self) -> io::Result<Body> {
        let status = self.line()?;
        if !status.starts_with("HTTP/1.1 200") {
            return Err(bad(format!("answered {}", status.trim_end())));
        }
        let (mut chunked, mut len) = (false, None);
        loop {
            let line = self.line()?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let Some((k, v)) = l.split_once(':') else {
                continue;
            };
            let v = v.trim();
            if k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked") {
                chunked = true;
            } else if k.eq_ignore_ascii_case("content-length") {
                len = v.parse().ok();
            } else if k.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close") {
                return Err(bad("the answer closes the connection".into()));
            }
        }
        match (chunked, len) {
            (true, _) => Ok(Body::Chunked),
            (false, Some(n)) => Ok(Body::Length(n)),
            (false, None) => Err(bad("an answer without Content-Length or chunks".into())),
        }
    }

    /// One chunk of a chunked body; empty at its end.
    fn chunk(&mut self) -> io::Result<Vec<u8>> {
        let line = self.line()?;
        let size = line.trim_end().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size, 16).map_err(|_| bad(format!("chunk {line:?}")))?;
        let mut data = vec![0; size + 2];
        self.r.read_exact(&mut data)?;
        data.truncate(size);
        Ok(data)
    }

    /// One non-streaming chat request; its whole answer.
    fn chat(&mut self, path: &str, body: &str) -> io::Result<Vec<u8>> {
        self.post(path, body)?;
        match self.head()? {
            Body::Length(n) => {
                let mut all = vec![0; n];
                self.r.read_exact(&mut all)?;
                Ok(all)
            }
            Body::Chunked => {
                let mut all = Vec::new();
                loop {
                    let c = self.chunk()?;
                    if c.is_empty() {
                        return Ok(all);
                    }
                    all.extend(c);
                }
            }
        }
    }

    /// One streamed chat request: calls `first` with the time from the request to its first event,
    /// then reads the stream to its end.
    fn stream(&mut self, path: &str, first: impl FnOnce(Duration)) -> io::Result<()> {
        let t0 = Instant::now();
        self.post(path, &chat_body(true))?;
        if !matches!(self.head()?, Body::Chunked) {
            return Err(bad("a stream that is not chunked".into()));
        }
        let mut first = Some(first);
        let mut seen = Vec::new();
        loop {
            let c = self.chunk()?;
            if c.is_empty() {
                break;
            }
            seen.extend(c);
            if first.is_some() && seen.windows(5).any(|w| w == b"data:") {
                let at = t0.elapsed();
                if let Some(f) = first.take() {
                    f(at);
                }
            }
        }
        if !seen.ends_with(b"data: [DONE]\n\n") {
            return Err(bad("a stream without its [DONE]".into()));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Figures.

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The `p` quantile of sorted milliseconds.
fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or(f64::NAN)
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

/// Figure 1.
fn added_latency(relay: SocketAddr, upstream: SocketAddr) {
    let body = chat_body(false);
    let mut direct = Conn::open(upstream);
    let mut via = Conn::open(relay);
    let timed = |c: &mut Conn, path: &str| {
        let t = Instant::now();
        let answer = c.chat(path, &body).expect("a chat request is answered");
        let took = t.elapsed();
        assert!(
            answer == COMPLETION.as_bytes(),
            "the answer passes unchanged"
        );
        ms(took)
    };
    for _ in 0..WARMUP {
        timed(&mut direct, DIRECT_PATH);
        timed(&mut via, RELAY_PATH);
    }
    let (mut d, mut v) = (Vec::with_capacity(REQUESTS), Vec::with_capacity(REQUESTS));
    for _ in 0..REQUESTS {
        d.push(timed(&mut direct, DIRECT_PATH));
        v.push(timed(&mut via, RELAY_PATH));
    }
    let (d, v) = (sorted(d), sorted(v));
    println!(
        "1. {REQUESTS} sequential non-streaming chat requests each way (alternating, one keep-alive connection each):"
    );
    let row = |name: &str, t: &[f64]| {
        println!(
            "   {name:<7} p50 {:>7.3} ms   p90 {:>7.3} ms   p99 {:>7.3} ms   max {:>7.3} ms",
            pct(t, 0.5),
            pct(t, 0.9),
            pct(t, 0.99),
            pct(t, 1.0)
        )
    };
    row("direct", &d);
    row("relay", &v);
    let added99 = pct(&v, 0.99) - pct(&d, 0.99);
    println!(
        "   added   p50 {:>7.3} ms   p90 {:>7.3} ms   p99 {:>7.3} ms   target: p99 added < 1 ms ({})",
        pct(&v, 0.5) - pct(&d, 0.5),
        pct(&v, 0.9) - pct(&d, 0.9),
        added99,
        verdict(added99 < 1.0)
    );
}

/// What one round of streams saw.
struct Round {
    /// Each stream's time to its first event, and whether that event came while the upstream still
    /// held the stream open (false: only once the upstream ended it).
    first: Vec<(f64, bool)>,
    /// Streams whose first event the upstream had written when the round was measured.
    upstream_sent: usize,
}

/// One stream per connection in `conns`, all asked for at once. With `hold`, the upstream keeps each
/// stream open after its first event until every client has read that event (or `HOLD_LIMIT`
/// passed); `at_full` runs at that moment, with the streams still open. Then the streams end.
fn stream_round(
    conns: &mut [Conn],
    path: &str,
    gate: &Gate,
    hold: bool,
    at_full: impl FnOnce(usize, usize),
) -> Round {
    let n = conns.len();
    gate.set_hold(hold);
    let barrier = Barrier::new(n);
    let released = AtomicBool::new(!hold);
    let (tx, rx) = mpsc::channel::<()>();
    std::thread::scope(|s| {
        let clients: Vec<_> = conns
            .iter_mut()
            .map(|c| {
                let (tx, barrier, released) = (tx.clone(), &barrier, &released);
                s.spawn(move || {
                    barrier.wait();
                    let mut got = None;
                    c.stream(path, |at| {
                        got = Some((ms(at), !released.load(Ordering::SeqCst)));
                        let _ = tx.send(());
                    })
                    .expect("a stream is answered to its end");
                    got.expect("a stream with a first event")
                })
            })
            .collect();
        drop(tx);
        let deadline = Instant::now() + HOLD_LIMIT;
        let upstream_sent = gate.wait_first_sent(n, Duration::from_secs(10));
        let mut read = 0;
        while read < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if rx.recv_timeout(left).is_err() {
                break;
            }
            read += 1;
        }
        at_full(upstream_sent, read);
        released.store(true, Ordering::SeqCst);
        gate.release();
        Round {
            first: clients
                .into_iter()
                .map(|c| c.join().expect("a stream client"))
                .collect(),
            upstream_sent,
        }
    })
}

/// Figure 2.
fn stream_first_bytes(relay: SocketAddr, up: &Upstream) {
    let mut direct: Vec<Conn> = (0..STREAMS).map(|_| Conn::open(up.addr)).collect();
    let mut via: Vec<Conn> = (0..STREAMS).map(|_| Conn::open(relay)).collect();
    // A first round each way, not held and not counted, opens the relay's own connections upstream.
    stream_round(&mut direct, DIRECT_PATH, &up.gate, false, |_, _| {});
    stream_round(&mut via, RELAY_PATH, &up.gate, false, |_, _| {});
    let (mut d, mut v) = (Vec::new(), Vec::new());
    let (mut d_late, mut v_late) = (0, 0);
    for _ in 0..ROUNDS {
        for (conns, path, times, late) in [
            (&mut direct, DIRECT_PATH, &mut d, &mut d_late),
            (&mut via, RELAY_PATH, &mut v, &mut v_late),
        ] {
            let round = stream_round(conns, path, &up.gate, true, |_, _| {});
            assert_eq!(
                round.upstream_sent, STREAMS,
                "every stream reached the upstream"
            );
            for (t, early) in round.first {
                times.push(t);
                *late += usize::from(!early);
            }
        }
    }
    let (d, v) = (sorted(d), sorted(v));
    let total = ROUNDS * STREAMS;
    println!(
        "2. first event of {STREAMS} concurrent streams, {ROUNDS} rounds each way ({total} streams each way):"
    );
    let row = |name: &str, t: &[f64]| {
        println!(
            "   {name:<7} p50 {:>7.3} ms   p99 {:>7.3} ms   max {:>7.3} ms",
            pct(t, 0.5),
            pct(t, 0.99),
            pct(t, 1.0)
        )
    };
    row("direct", &d);
    row("relay", &v);
    let added = [
        pct(&v, 0.5) - pct(&d, 0.5),
        pct(&v, 0.99) - pct(&d, 0.99),
        pct(&v, 1.0) - pct(&d, 1.0),
    ];
    println!(
        "   added   p50 {:>7.3} ms   p99 {:>7.3} ms   max {:>7.3} ms   target: added < 5 ms ({})",
        added[0],
        added[1],
        added[2],
        verdict(added.iter().all(|a| *a < 5.0))
    );
    println!(
        "   first event reached the client only after the upstream ended the stream (held up to {} s): direct {d_late} of {total}, relay {v_late} of {total}",
        HOLD_LIMIT.as_secs()
    );
}

/// The relay as its own process, killed when dropped.
struct RelayProcess {
    child: Child,
    _homes: tempfile::TempDir,
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RelayProcess {
    /// `nxr relay run --port 0 --json` forwarding to `up`; returns it with the address it printed.
    fn start(up: &Upstream) -> (RelayProcess, SocketAddr) {
        let homes = tempfile::tempdir().expect("temp dir");
        let hermes = homes.path().join("hermes");
        std::fs::create_dir_all(&hermes).expect("HERMES_HOME");
        std::fs::write(hermes.join(".env"), format!("OPENROUTER_API_KEY={KEY}\n"))
            .expect("the stored key");
        let child = Command::new(env!("CARGO_BIN_EXE_nxr"))
            .args(["relay", "run", "--port", "0", "--json"])
            .env("NXR_HOME", homes.path().join("nxr"))
            .env("HERMES_HOME", &hermes)
            .env("NXR_OPENROUTER_URL", up.base())
            .env("NXR_OLLAMA_URL", "http://127.0.0.1:9")
            .env("NXR_TELEGRAM_API_URL", "http://127.0.0.1:9")
            .env("NO_COLOR", "1")
            .env_remove("NXR_DB_URL")
            .env_remove("NXR_DB_TOKEN")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nxr relay run starts");
        let mut relay = RelayProcess {
            child,
            _homes: homes,
        };
        // It prints one JSON object (over several lines) once it listens.
        let stdout = relay.child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                text.push_str(&line);
                text.push('\n');
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                    let _ = tx.send(v["addr"].as_str().and_then(|a| a.parse().ok()));
                    text.clear();
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Some(addr)) => addr,
            Ok(None) => panic!("nxr relay run --json printed no \"addr\""),
            Err(_) => panic!("nxr relay run printed no address within 30 s"),
        };
        (relay, addr)
    }

    /// (VmRSS kB, VmHWM kB, threads) from `/proc/PID/status`.
    fn memory(&self) -> (u64, u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc/PID/status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"), field("Threads:"))
    }
}

/// Figure 3.
fn process_memory(up: &Upstream) {
    let (relay, addr) = RelayProcess::start(up);
    let mb = |kb: u64| kb as f64 / 1024.0;
    let (rss, hwm, threads) = relay.memory();
    println!(
        "3. relay process `nxr relay run` (pid {}, {addr}), memory from /proc/PID/status:",
        relay.child.id()
    );
    println!(
        "   listening, no request yet:   VmRSS {:>6.1} MB   VmHWM {:>6.1} MB   threads {threads}",
        mb(rss),
        mb(hwm)
    );
    let mut conns: Vec<Conn> = (0..STREAMS).map(|_| Conn::open(addr)).collect();
    let mut open = None;
    let round = stream_round(&mut conns, RELAY_PATH, &up.gate, true, |sent, read| {
        open = Some((relay.memory(), sent, read));
    });
    let ((rss, hwm, threads), sent, read) = open.expect("measured with the streams open");
    println!(
        "   {STREAMS} streams open mid-answer:    VmRSS {:>6.1} MB   VmHWM {:>6.1} MB   threads {threads}   target: < 30 MB ({})",
        mb(rss),
        mb(hwm),
        verdict(hwm < 30 * 1024)
    );
    println!(
        "     (the upstream had sent the first event of {sent} of {STREAMS} streams; {read} clients had read it through the relay within {} s)",
        HOLD_LIMIT.as_secs()
    );
    let (rss, hwm, threads) = relay.memory();
    println!(
        "   after the {} streams ended:  VmRSS {:>6.1} MB   VmHWM {:>6.1} MB   threads {threads}",
        round.first.len(),
        mb(rss),
        mb(hwm)
    );
}

fn main() {
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
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let up = Upstream::start();
    {
        let relay = relay::start(
            RelayConfig {
                upstream: up.base(),
                key: Some(KEY.into()),
                limits: Limits::default(),
                store: None,
            },
            rt.handle().clone(),
            0,
        )
        .expect("the relay starts");
        added_latency(relay.addr, up.addr);
        stream_first_bytes(relay.addr, &up);
    }
    process_memory(&up);
}
