//! The relay: an OpenAI-compatible endpoint on loopback that forwards each agent's requests to
//! OpenRouter with the stored key, pacing free-model requests account-wide
//! ([`crate::domain::budget::pacer`]) so that they are held instead of failing.
//!
//! Paths: `POST /agents/NAME/v1/chat/completions` and `GET /agents/NAME/v1/models` (NAME attributes
//! the request to an agent); `GET /status` answers the counts as JSON. Answers, streamed (SSE) or
//! not, are passed through unchanged as they arrive. The client's own `Authorization` is never
//! forwarded and the stored key never leaves for a client or a log line. Only loopback clients are
//! served.

mod stream;

use crate::domain::budget::pacer::{Limits, Pacer, Refusal};
use crate::domain::budget::relay_log::{self, AnswerUsage, Outcome, RelayRecord};
use crate::domain::catalog::ratelimit::RateLimitKind;
use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use stream::{Pending, Streamed, forward};

/// The largest request body forwarded (a chat request with long context stays far below).
const MAX_BODY: u64 = 16 * 1024 * 1024;

pub use crate::domain::budget::relay_status::{Counts, RelayDown, RelayStatus};

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("the relay cannot listen on {addr}: {message}; choose another port with --port")]
    Bind { addr: String, message: String },
    #[error("{down}: `nxr relay run --port {port}` (or `nxr serve`, once the agents are on it)", port = down.port)]
    NotRunning {
        #[from]
        down: RelayDown,
    },
}

/// Asks the relay on 127.0.0.1:`port` for its counts.
pub async fn fetch_status(port: u16) -> Result<RelayStatus, RelayError> {
    Ok(crate::domain::budget::relay_status::fetch_status(port, Duration::from_secs(5)).await?)
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

impl Shared {
    /// Writes `r` to `usage_events` in the background, when the relay has a store.
    fn record(&self, r: RelayRecord) {
        if let Some(store) = self.cfg.store.clone() {
            self.rt.spawn(async move {
                if let Err(e) = relay_log::record(&store, &r).await {
                    tracing::warn!(error = %e, agent = r.profile, "relay: cannot record a request");
                }
            });
        }
    }
}

/// A running relay; dropping it stops it.
pub struct RelayHandle {
    pub addr: SocketAddr,
    pub stats: Arc<Stats>,
    shared: Arc<Shared>,
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

    /// Counts `used` free requests as made today already (before the relay started).
    pub fn seed_today(&self, used: u32) {
        self.shared.pacer.seed_today(used);
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
    let handle_shared = shared.clone();
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
        shared: handle_shared,
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

fn serve(shared: &Arc<Shared>, mut request: tiny_http::Request) {
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
                    let p = Pending {
                        chat: false,
                        agent: agent.to_string(),
                        model: "-".into(),
                        free: false,
                        held_ms: 0,
                        admission: None,
                    };
                    forward(shared, p, reqwest::Method::GET, "models", None)
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
    shared: &Arc<Shared>,
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
    let free = model.ends_with(":free");
    let (admission, held_ms) = if free {
        match shared.pacer.admit(agent) {
            Ok(a) => {
                let held_ms = a.waited.as_millis() as u64;
                if a.waited >= Duration::from_millis(1) {
                    shared.stats.update(agent, &model, |c| {
                        c.held += 1;
                        c.held_ms += held_ms;
                    });
                }
                (Some(a), held_ms)
            }
            Err(refusal) => {
                shared.stats.update(agent, &model, |c| c.refused += 1);
                let (kind, held_ms) = match &refusal {
                    Refusal::Daily { .. } => (RateLimitKind::PerDay, 0),
                    Refusal::Waited { waited, .. } => {
                        (RateLimitKind::PerMinute, waited.as_millis() as u64)
                    }
                };
                shared.record(RelayRecord {
                    profile: agent.to_string(),
                    model: model.clone(),
                    free,
                    outcome: Outcome::Refused(kind),
                    usage: AnswerUsage::default(),
                    held_ms,
                    latency_ms: held_ms,
                    at: chrono::Utc::now(),
                });
                return Err(refused(&refusal));
            }
        }
    } else {
        (None, 0)
    };
    let p = Pending {
        chat: true,
        agent: agent.to_string(),
        model,
        free,
        held_ms,
        admission,
    };
    forward(
        shared,
        p,
        reqwest::Method::POST,
        "chat/completions",
        Some(body),
    )
}

fn refused(r: &Refusal) -> tiny_http::ResponseBox {
    let kind = match r {
        Refusal::Daily { .. } => "free-models-per-day",
        Refusal::Waited { .. } => "free-models-per-min",
    };
    let mut resp = error(429, kind, &format!("Rate limit exceeded: {}", r.message()));
    // The daily refusal's Retry-After is the reset as an HTTP date; the minute's, seconds. A client
    // that sleeps on a count of seconds (Hermes sleeps up to 600 s before each retry) would
    // otherwise sit out the day's remaining minutes instead of ending with the message.
    let retry = match r {
        Refusal::Daily { reset, .. } => reset.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
        Refusal::Waited { .. } => r.retry_after(chrono::Utc::now()).to_string(),
    };
    if let Ok(h) = tiny_http::Header::from_bytes("Retry-After", retry.as_bytes()) {
        resp.add_header(h);
    }
    resp
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
