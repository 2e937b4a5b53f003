//! The relay: an OpenAI-compatible endpoint on loopback that forwards each agent's requests to
//! OpenRouter with the stored key, pacing free-model requests account-wide
//! ([`crate::domain::budget::pacer`]) so that they are held instead of failing.
//!
//! Paths: `POST /agents/NAME/v1/chat/completions` and `GET /agents/NAME/v1/models` (NAME attributes
//! the request to an agent); `GET /status` answers the counts as JSON. Answers, streamed (SSE) or
//! not, are passed through unchanged as they arrive. The client's own `Authorization` is never
//! forwarded and the stored key never leaves for a client or a log line. Only loopback clients are
//! served.
//!
//! The relay runs on the tokio runtime (hyper's HTTP/1 server): a request is a task, not a thread,
//! so 50 open streams cost neither 50 threads nor the hops between them. Only a free request held
//! for a slot of the minute waits on a blocking-pool thread ([`Pacer::admit`] blocks).

mod stream;

use crate::domain::budget::pacer::{Limits, Pacer, Refusal};
use crate::domain::budget::relay_log::{self, AnswerUsage, Outcome, RelayRecord};
use crate::domain::catalog::ratelimit::RateLimitKind;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::{Method, Request, Response, StatusCode, body::Incoming, header};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stream::{Pending, RelayBody, forward};

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

/// A running relay; dropping it stops it taking connections.
pub struct RelayHandle {
    pub addr: SocketAddr,
    pub stats: Arc<Stats>,
    shared: Arc<Shared>,
    accept: Option<tokio::task::JoinHandle<()>>,
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

    /// Stops taking connections (the listener closes); requests under way run to their end.
    pub fn stop(&mut self) {
        if let Some(t) = self.accept.take() {
            t.abort();
        }
    }
}

impl Drop for RelayHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts the relay on 127.0.0.1:`port` (0 picks a free one), serving on `rt`.
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
    let listener = std::net::TcpListener::bind(want).map_err(|e| bind_err(e.to_string()))?;
    let addr = listener.local_addr().map_err(|e| bind_err(e.to_string()))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| bind_err(e.to_string()))?;
    let listener = {
        let _in_runtime = rt.enter();
        tokio::net::TcpListener::from_std(listener).map_err(|e| bind_err(e.to_string()))?
    };
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
        rt: rt.clone(),
    });
    let accept = rt.spawn(accept_loop(listener, shared.clone()));
    tracing::info!(%addr, "relay listening");
    Ok(RelayHandle {
        addr,
        stats,
        shared,
        accept: Some(accept),
    })
}

/// Takes connections until aborted, each served on its own task.
async fn accept_loop(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    loop {
        let (conn, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!(error = %e, "relay: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = conn.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(serve(shared, peer, req).await) }
            });
            let served = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(conn), service)
                .await;
            if let Err(e) = served {
                tracing::debug!(error = %e, "relay: connection ended");
            }
        });
    }
}

type Answer = Response<RelayBody>;

/// An OpenAI-style error answer.
fn error(status: u16, code: &str, message: &str) -> Answer {
    let body = serde_json::json!({"error": {"code": status, "message": message, "type": code}});
    json(status, body.to_string())
}

fn json(status: u16, body: String) -> Answer {
    let mut r = Response::new(RelayBody::whole(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r
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

async fn serve(shared: Arc<Shared>, peer: SocketAddr, req: Request<Incoming>) -> Answer {
    if !peer.ip().is_loopback() {
        return error(403, "forbidden", "the relay serves loopback clients only");
    }
    let path = req.uri().path().to_string();
    if req.method() == Method::GET && path == "/status" {
        return status(&shared);
    }
    let method = req.method().clone();
    let answer = match route(&path) {
        Some((agent, "chat/completions")) if method == Method::POST => {
            let agent = agent.to_string();
            chat(&shared, agent, req.into_body()).await
        }
        Some((agent, "models")) if method == Method::GET => {
            let p = Pending {
                chat: false,
                agent: agent.to_string(),
                model: "-".into(),
                free: false,
                held_ms: 0,
                admission: None,
            };
            forward(&shared, p, reqwest::Method::GET, "models", None).await
        }
        _ => Err(error(
            404,
            "not_found",
            "unknown path: use /agents/NAME/v1/chat/completions or /agents/NAME/v1/models",
        )),
    };
    answer.unwrap_or_else(|refusal| refusal)
}

fn status(shared: &Shared) -> Answer {
    let (free_today, waiting) = shared.pacer.counts();
    let limits = shared.pacer.limits();
    let body = RelayStatus {
        free_today,
        waiting,
        per_minute: limits.per_minute,
        per_day: limits.per_day,
        agents: shared.stats.snapshot(),
    };
    json(200, serde_json::to_string(&body).unwrap_or_default())
}

async fn chat(shared: &Arc<Shared>, agent: String, body: Incoming) -> Result<Answer, Answer> {
    let too_big = || {
        error(
            400,
            "bad_request",
            "the request body could not be read or is over 16 MB",
        )
    };
    let body = http_body_util::Limited::new(body, MAX_BODY as usize)
        .collect()
        .await
        .map_err(|_| too_big())?
        .to_bytes();
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
        let (pacing, who) = (shared.clone(), agent.clone());
        // Admission may hold the request for a slot of the minute: a blocking wait, kept off the
        // runtime's workers.
        let admitted = tokio::task::spawn_blocking(move || pacing.pacer.admit(&who))
            .await
            .map_err(|e| error(500, "internal", &format!("the pacer failed: {e}")))?;
        match admitted {
            Ok(a) => {
                let held_ms = a.waited.as_millis() as u64;
                if a.waited >= Duration::from_millis(1) {
                    shared.stats.update(&agent, &model, |c| {
                        c.held += 1;
                        c.held_ms += held_ms;
                    });
                }
                (Some(a), held_ms)
            }
            Err(refusal) => {
                shared.stats.update(&agent, &model, |c| c.refused += 1);
                let (kind, held_ms) = match &refusal {
                    Refusal::Daily { .. } => (RateLimitKind::PerDay, 0),
                    Refusal::Waited { waited, .. } => {
                        (RateLimitKind::PerMinute, waited.as_millis() as u64)
                    }
                };
                shared.record(RelayRecord {
                    profile: agent.clone(),
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
        agent,
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
    .await
}

fn refused(r: &Refusal) -> Answer {
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
    if let Ok(h) = header::HeaderValue::from_str(&retry) {
        resp.headers_mut().insert(header::RETRY_AFTER, h);
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
