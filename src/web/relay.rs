//! The relay: an OpenAI-compatible endpoint on loopback that forwards each agent's requests to
//! OpenRouter with the stored key, pacing free-model requests account-wide
//! ([`crate::domain::budget::pacer`]) so that they are held instead of failing.
//!
//! Paths: `POST /agents/NAME/v1/chat/completions` and `GET /agents/NAME/v1/models` (NAME attributes
//! the request to an agent); `GET /status` answers the counts as JSON. Answers, streamed (SSE) or
//! not, are passed through unchanged as they arrive. The client's own `Authorization` is never
//! forwarded and the stored key never leaves for a client or a log line. Only loopback clients are
//! served.

use crate::domain::budget::pacer::{Limits, Pacer, Refusal};
use crate::domain::catalog::ratelimit;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The largest request body forwarded (a chat request with long context stays far below).
const MAX_BODY: u64 = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("the relay cannot listen on {addr}: {message}; choose another port with --port")]
    Bind { addr: String, message: String },
    #[error(
        "no relay answers on 127.0.0.1:{port} ({message}); start one with `nxr relay run --port {port}`"
    )]
    NotRunning { port: u16, message: String },
}

/// A relay's counts, as `GET /status` answers them.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct RelayStatus {
    pub free_today: u32,
    pub waiting: usize,
    pub per_minute: u32,
    pub per_day: u32,
    pub agents: BTreeMap<String, BTreeMap<String, Counts>>,
}

/// Asks the relay on 127.0.0.1:`port` for its counts.
pub async fn fetch_status(port: u16) -> Result<RelayStatus, RelayError> {
    let fail = |message: String| RelayError::NotRunning { port, message };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let resp = client
        .get(format!("http://127.0.0.1:{port}/status"))
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    resp.json::<RelayStatus>()
        .await
        .map_err(|e| fail(format!("its answer is not a relay status: {e}")))
}

/// What the relay forwards to and how it paces.
#[derive(Clone)]
pub struct RelayConfig {
    /// OpenRouter's API base, e.g. `https://openrouter.ai/api/v1`.
    pub upstream: String,
    /// The stored OpenRouter key (secret).
    pub key: Option<String>,
    pub limits: Limits,
    /// Where each answered request is recorded (`usage_events`), when set.
    pub store: Option<Arc<crate::domain::store::Store>>,
}

impl std::fmt::Debug for RelayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayConfig")
            .field("upstream", &self.upstream)
            .field("key", &self.key.as_ref().map(|_| "(stored)"))
            .field("limits", &self.limits)
            .field("records", &self.store.is_some())
            .finish()
    }
}

/// Per agent and model: what happened to its requests.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Counts {
    /// Requests forwarded upstream.
    pub forwarded: u64,
    /// Answered 2xx by OpenRouter.
    pub answered: u64,
    /// Held for a slot of the minute before going.
    pub held: u64,
    /// Total time held, in milliseconds.
    pub held_ms: u64,
    /// Refused by the relay (daily count used, or held past its bound): never sent.
    pub refused: u64,
    /// Answered 429 or 402 by OpenRouter, by kind (per_minute, per_day, high_demand, funding, …).
    pub limited: BTreeMap<String, u64>,
    /// Other non-2xx answers by status.
    pub upstream_errors: BTreeMap<u16, u64>,
    /// Answers the client stopped reading before their end.
    pub client_closed: u64,
}

/// The relay's counts, keyed by `agent` then `model`.
#[derive(Debug, Default)]
pub struct Stats {
    by: Mutex<BTreeMap<String, BTreeMap<String, Counts>>>,
}

impl Stats {
    fn update(&self, agent: &str, model: &str, f: impl FnOnce(&mut Counts)) {
        let mut by = self.by.lock().unwrap_or_else(|e| e.into_inner());
        f(by.entry(agent.to_string())
            .or_default()
            .entry(model.to_string())
            .or_default());
    }

    pub fn snapshot(&self) -> BTreeMap<String, BTreeMap<String, Counts>> {
        self.by.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

struct Shared {
    cfg: RelayConfig,
    pacer: Pacer,
    stats: Arc<Stats>,
    http: reqwest::Client,
    rt: tokio::runtime::Handle,
}

/// A running relay; dropping it stops it.
pub struct RelayHandle {
    pub addr: SocketAddr,
    pub stats: Arc<Stats>,
    server: Arc<tiny_http::Server>,
    stopping: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl RelayHandle {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The OpenAI-compatible base URL an agent's profile points at.
    pub fn agent_url(&self, agent: &str) -> String {
        format!("{}/agents/{agent}/v1", self.base_url())
    }

    pub fn stop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.server.unblock();
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

impl Drop for RelayHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts the relay on 127.0.0.1:`port` (0 picks a free one).
pub fn start(
    cfg: RelayConfig,
    rt: tokio::runtime::Handle,
    port: u16,
) -> Result<RelayHandle, RelayError> {
    let want = SocketAddr::from(([127, 0, 0, 1], port));
    let bind_err = |message: String| RelayError::Bind {
        addr: want.to_string(),
        message,
    };
    let server = tiny_http::Server::http(want).map_err(|e| bind_err(e.to_string()))?;
    let addr = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| bind_err("the listener has no IP address".into()))?;
    let server = Arc::new(server);
    let stopping = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(Stats::default());
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| bind_err(format!("cannot build the HTTP client: {e}")))?;
    let shared = Arc::new(Shared {
        pacer: Pacer::new(cfg.limits),
        cfg,
        stats: stats.clone(),
        http,
        rt,
    });
    let (srv, stop) = (server.clone(), stopping.clone());
    let accept = std::thread::Builder::new()
        .name("nxr-relay".into())
        .spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match srv.recv_timeout(Duration::from_millis(250)) {
                    Ok(Some(request)) => {
                        let shared = shared.clone();
                        // Each request holds its own thread: a held request must not block others.
                        let _ = std::thread::Builder::new()
                            .name("nxr-relay-req".into())
                            .spawn(move || serve(&shared, request));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "relay: receive failed");
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            }
        })
        .map_err(|e| bind_err(format!("cannot start the accept thread: {e}")))?;
    tracing::info!(%addr, "relay listening");
    Ok(RelayHandle {
        addr,
        stats,
        server,
        stopping,
        accept: Some(accept),
    })
}

/// An OpenAI-style error answer.
fn error(status: u16, code: &str, message: &str) -> tiny_http::ResponseBox {
    let body = serde_json::json!({"error": {"code": status, "message": message, "type": code}});
    tiny_http::Response::from_string(body.to_string())
        .with_status_code(status)
        .with_header(json_header())
        .boxed()
}

fn json_header() -> tiny_http::Header {
    // Both halves are constant ASCII, which `from_bytes` always accepts.
    tiny_http::Header::from_bytes("Content-Type", "application/json").expect("a constant header")
}

/// `/agents/NAME/v1/REST` → (NAME, REST), NAME being a plain agent name.
fn route(path: &str) -> Option<(&str, &str)> {
    let path = path.split('?').next().unwrap_or(path);
    let rest = path.strip_prefix("/agents/")?;
    let (agent, rest) = rest.split_once("/v1/")?;
    let plain = !agent.is_empty()
        && agent.len() <= 64
        && agent
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    plain.then_some((agent, rest))
}

fn serve(shared: &Shared, mut request: tiny_http::Request) {
    let loopback = request.remote_addr().is_some_and(|a| a.ip().is_loopback());
    let answer = if !loopback {
        Err(error(
            403,
            "forbidden",
            "the relay serves loopback clients only",
        ))
    } else {
        let method = request.method().clone();
        let url = request.url().to_string();
        match (method, url.as_str()) {
            (tiny_http::Method::Get, "/status") => Err(status(shared)),
            (m, _) => match route(&url) {
                Some((agent, "chat/completions")) if m == tiny_http::Method::Post => {
                    let agent = agent.to_string();
                    chat(shared, &agent, &mut request)
                }
                Some((agent, "models")) if m == tiny_http::Method::Get => {
                    let agent = agent.to_string();
                    forward(shared, &agent, "-", reqwest::Method::GET, "models", None)
                }
                _ => Err(error(
                    404,
                    "not_found",
                    "unknown path: use /agents/NAME/v1/chat/completions or /agents/NAME/v1/models",
                )),
            },
        }
    };
    match answer {
        Err(response) => {
            let _ = request.respond(response);
        }
        Ok(streamed) => streamed.respond(request),
    }
}

fn status(shared: &Shared) -> tiny_http::ResponseBox {
    let (free_today, waiting) = shared.pacer.counts();
    let limits = shared.pacer.limits();
    let body = RelayStatus {
        free_today,
        waiting,
        per_minute: limits.per_minute,
        per_day: limits.per_day,
        agents: shared.stats.snapshot(),
    };
    tiny_http::Response::from_string(serde_json::to_string(&body).unwrap_or_default())
        .with_header(json_header())
        .boxed()
}

fn chat(
    shared: &Shared,
    agent: &str,
    request: &mut tiny_http::Request,
) -> Result<Streamed, tiny_http::ResponseBox> {
    let mut body = Vec::new();
    if request
        .as_reader()
        .take(MAX_BODY + 1)
        .read_to_end(&mut body)
        .is_err()
        || body.len() as u64 > MAX_BODY
    {
        return Err(error(
            400,
            "bad_request",
            "the request body could not be read or is over 16 MB",
        ));
    }
    let model = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("model")?.as_str().map(str::to_string))
        .ok_or_else(|| {
            error(
                400,
                "bad_request",
                "the body is not a JSON chat request with a \"model\" string",
            )
        })?;
    let admission = if model.ends_with(":free") {
        match shared.pacer.admit(agent) {
            Ok(a) => {
                if a.waited >= Duration::from_millis(1) {
                    shared.stats.update(agent, &model, |c| {
                        c.held += 1;
                        c.held_ms += a.waited.as_millis() as u64;
                    });
                }
                Some(a)
            }
            Err(refusal) => {
                shared.stats.update(agent, &model, |c| c.refused += 1);
                return Err(refused(&refusal));
            }
        }
    } else {
        None
    };
    let answer = forward(
        shared,
        agent,
        &model,
        reqwest::Method::POST,
        "chat/completions",
        Some(body),
    );
    if let Some(a) = admission {
        shared.pacer.settle(&a);
    }
    answer
}

fn refused(r: &Refusal) -> tiny_http::ResponseBox {
    let kind = match r {
        Refusal::Daily { .. } => "free-models-per-day",
        Refusal::Waited { .. } => "free-models-per-min",
    };
    let mut resp = error(429, kind, &format!("Rate limit exceeded: {}", r.message()));
    let retry = r.retry_after(chrono::Utc::now()).to_string();
    if let Ok(h) = tiny_http::Header::from_bytes("Retry-After", retry.as_bytes()) {
        resp.add_header(h);
    }
    resp
}

/// An upstream answer being passed on as it arrives.
struct Streamed {
    status: u16,
    content_type: String,
    chunks: mpsc::Receiver<Vec<u8>>,
    /// Tells the reading task the client is gone.
    closed: Arc<AtomicBool>,
}

impl Streamed {
    fn respond(self, request: tiny_http::Request) {
        let header = tiny_http::Header::from_bytes("Content-Type", self.content_type.as_bytes())
            .unwrap_or_else(|_| json_header());
        let reader = ChannelReader {
            rx: self.chunks,
            buf: Vec::new(),
            pos: 0,
        };
        let response = tiny_http::Response::new(
            tiny_http::StatusCode(self.status),
            vec![header],
            reader,
            None,
            None,
        );
        if request.respond(response).is_err() {
            self.closed.store(true, Ordering::SeqCst);
        }
    }
}

/// Reads the chunks a task sends, in order, until it hangs up.
struct ChannelReader {
    rx: mpsc::Receiver<Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.buf.len() {
            match self.rx.recv() {
                Ok(chunk) => {
                    self.buf = chunk;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn forward(
    shared: &Shared,
    agent: &str,
    model: &str,
    method: reqwest::Method,
    rest: &str,
    body: Option<Vec<u8>>,
) -> Result<Streamed, tiny_http::ResponseBox> {
    let url = format!("{}/{rest}", shared.cfg.upstream.trim_end_matches('/'));
    let mut req = shared.http.request(method, &url);
    if let Some(key) = &shared.cfg.key {
        req = req.bearer_auth(key);
    }
    if let Some(body) = body {
        req = req.header("Content-Type", "application/json").body(body);
    }
    shared.stats.update(agent, model, |c| c.forwarded += 1);
    let started = Instant::now();
    let resp = shared.rt.block_on(req.send()).map_err(|e| {
        shared.stats.update(agent, model, |c| {
            *c.upstream_errors.entry(502).or_default() += 1
        });
        error(
            502,
            "upstream_unreachable",
            &format!("OpenRouter did not answer at {url}: {e}"),
        )
    })?;
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(64);
    let closed = Arc::new(AtomicBool::new(false));
    let (stats, agent, model, gone) = (
        shared.stats.clone(),
        agent.to_string(),
        model.to_string(),
        closed.clone(),
    );
    shared.rt.spawn(async move {
        let mut resp = resp;
        let mut head = Vec::new();
        let mut cut = false;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if head.len() < 4096 {
                        head.extend_from_slice(&chunk[..chunk.len().min(4096 - head.len())]);
                    }
                    if gone.load(Ordering::SeqCst) || tx.send(chunk.to_vec()).is_err() {
                        cut = true;
                        break;
                    }
                }
                Ok(None) => break,
                Err(_) => {
                    cut = true;
                    break;
                }
            }
        }
        drop(tx);
        let text = String::from_utf8_lossy(&head);
        stats.update(&agent, &model, |c| {
            if cut {
                c.client_closed += 1;
            }
            if (200..300).contains(&status) {
                c.answered += 1;
            } else if let Some(kind) = ratelimit::classify(status, &text) {
                *c.limited.entry(kind.as_str().to_string()).or_default() += 1;
            } else {
                *c.upstream_errors.entry(status).or_default() += 1;
            }
        });
        tracing::debug!(
            agent,
            model,
            status,
            ms = started.elapsed().as_millis() as u64,
            "relay: answer ended"
        );
    });
    Ok(Streamed {
        status,
        content_type,
        chunks: rx,
        closed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_agent_paths_route() {
        assert_eq!(
            route("/agents/pm/v1/chat/completions"),
            Some(("pm", "chat/completions"))
        );
        assert_eq!(route("/agents/pm/v1/models?x=1"), Some(("pm", "models")));
        assert_eq!(route("/agents/../v1/models"), None);
        assert_eq!(route("/agents//v1/models"), None);
        assert_eq!(route("/v1/models"), None);
    }
}
