//! The listener: tiny_http worker threads, request heads, body limits, dispatch to [`super::route`]
//! past authentication ([`super::auth`]), the page cache, gzip and security headers.
//!
//! - Binds loopback unless `allow_remote`.
//! - What one client may hold is bounded by tiny_http's connection limits ([`connection_limits`],
//!   vendor/tiny_http/PATCHES.md): socket timeouts, a deadline for the request head and one for the
//!   body (read in the connection's thread, so a slow body never holds a worker), at most
//!   [`MAX_CONNECTIONS`] open connections (the longest-waiting one is closed to admit a new one;
//!   `503` when all are busy), and an accept loop that survives accept errors.
//! - The access token lives in `$NXR_HOME/web_token` (mode 0600), created on first run, then reused.
//! - `?token=…` on any GET sets an HttpOnly, SameSite=Strict cookie and redirects to the same URL
//!   without the token (so it never stays in the address bar, history or a Referer). Followed from
//!   another site (`Sec-Fetch-Site: cross-site`), it answers a page that refreshes to that URL
//!   instead, since a browser drops Strict cookies on a cross-site redirect chain.
//! - `Authorization: Bearer <token>` works too (scripts); bearer requests are not cookie-driven, so
//!   they need no CSRF token.
//! - Cookie-authenticated POST/PUT/PATCH/DELETE must carry the CSRF token (form field `csrf` or
//!   header `X-CSRF-Token`): HMAC-SHA256 of a fixed label keyed by the access token.

use super::auth::{Auth, Session, authenticate, cookie_name, csrf_ok, token_sign_in};
pub use super::auth::{csrf_for, load_or_create_token, token_path};
use super::{Req, Resp, WebCtx};
use crate::domain::base::env::Env;
use crate::domain::store::Store;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Largest request body accepted; bigger → 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest request line plus headers accepted; bigger → 431 (browsers send a few KB).
pub const MAX_HEAD_BYTES: usize = 32 * 1024;
/// The file under `$NXR_HOME` that holds the access token.
pub const TOKEN_FILE: &str = "web_token";
/// The form field (and `X-CSRF-Token` header) that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
/// Most connections open at once (each holds one thread while open).
pub const MAX_CONNECTIONS: usize = 32;
/// Time a client has to send a request head; also how long an idle keep-alive connection stays.
pub const HEAD_DEADLINE: Duration = Duration::from_secs(10);
/// Time a client has to send a request body.
pub const BODY_DEADLINE: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(
        "refusing to bind {bind}: it is not a loopback address, so anyone on the network could reach your agents' setup; use --bind 127.0.0.1, or pass --allow-remote if you really mean to expose it"
    )]
    RemoteNotAllowed { bind: String },
    #[error(
        "{bind:?} is not an IP address to bind; use e.g. --bind 127.0.0.1 (or ::1, or localhost)"
    )]
    BadAddress { bind: String },
    #[error(
        "cannot listen on {addr}: {message}; pick another port with --port (0 picks a free one)"
    )]
    Bind { addr: String, message: String },
    #[error(
        "cannot read or create the web access token at {path}: {source}; check that NXR_HOME is a writable directory"
    )]
    Token {
        path: String,
        source: std::io::Error,
    },
}

/// A running server. `stop()` (or dropping it) stops the workers and closes the port.
pub struct ServerHandle {
    pub addr: SocketAddr,
    /// The access token (secret: never log it).
    pub token: String,
    server: Arc<tiny_http::Server>,
    stopping: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl ServerHandle {
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        match self.addr.ip() {
            IpAddr::V6(ip) => format!("http://[{ip}]:{}", self.addr.port()),
            IpAddr::V4(ip) => format!("http://{ip}:{}", self.addr.port()),
        }
    }

    /// The URL to open once: it carries the token and sets the session cookie.
    pub fn login_url(&self) -> String {
        format!("{}/?token={}", self.base_url(), self.token)
    }

    /// The CSRF token forms must carry in this server's sessions.
    pub fn csrf_token(&self) -> String {
        csrf_for(&self.token)
    }

    /// The name of the session cookie (per port, so two servers on one host do not clash).
    pub fn cookie_name(&self) -> String {
        cookie_name(self.addr.port())
    }

    /// Stops accepting requests and waits for the workers to finish their current request.
    pub fn stop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        for _ in 0..self.workers.len() {
            self.server.unblock();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts the server on `bind:port` (port 0 picks a free one).
pub fn start(
    env: Env,
    store: Arc<Store>,
    rt: tokio::runtime::Handle,
    bind: &str,
    port: u16,
    allow_remote: bool,
) -> Result<ServerHandle, ServerError> {
    let ip = parse_bind(bind)?;
    if !ip.is_loopback() && !allow_remote {
        return Err(ServerError::RemoteNotAllowed {
            bind: bind.to_string(),
        });
    }
    let token = load_or_create_token(&env.nxr_home)?;
    let want = SocketAddr::new(ip, port);
    let server = tiny_http::Server::http_with_limits(want, connection_limits()).map_err(|e| {
        ServerError::Bind {
            addr: want.to_string(),
            message: e.to_string(),
        }
    })?;
    let addr = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| ServerError::Bind {
            addr: want.to_string(),
            message: "the listener has no IP address".into(),
        })?;
    let server = Arc::new(server);
    let stopping = Arc::new(AtomicBool::new(false));
    let shared = Arc::new(Shared {
        cache: super::cache::PageCache::new(env.hermes_home.clone()),
        ctx: WebCtx { env, store, rt },
        session: Session {
            csrf: csrf_for(&token),
            cookie_name: cookie_name(addr.port()),
            token: token.clone(),
        },
    });
    let count = worker_count();
    let mut workers = Vec::with_capacity(count);
    for i in 0..count {
        let (server, stopping, shared) = (server.clone(), stopping.clone(), shared.clone());
        let worker = std::thread::Builder::new()
            .name(format!("nxr-web-{i}"))
            .spawn(move || {
                while !stopping.load(Ordering::SeqCst) {
                    match server.recv_timeout(Duration::from_millis(250)) {
                        Ok(Some(request)) => serve_one(&shared, request),
                        Ok(None) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "web server: receive failed");
                            std::thread::sleep(Duration::from_millis(50));
                        }
                    }
                }
            })
            .map_err(|e| ServerError::Bind {
                addr: addr.to_string(),
                message: format!("cannot start a worker thread: {e}"),
            })?;
        workers.push(worker);
    }
    tracing::info!(%addr, "web server listening");
    Ok(ServerHandle {
        addr,
        token,
        server,
        stopping,
        workers,
    })
}

/// What one client may hold (see the module documentation).
pub fn connection_limits() -> tiny_http::ConnectionLimits {
    tiny_http::ConnectionLimits {
        read_timeout: Duration::from_secs(5),
        write_timeout: Duration::from_secs(10),
        head_deadline: HEAD_DEADLINE,
        body_deadline: BODY_DEADLINE,
        // Past this the connection layer answers 431 and closes; above MAX_HEAD_BYTES the handler
        // answers 431 with an explanation.
        max_head_bytes: 2 * MAX_HEAD_BYTES,
        max_body_bytes: MAX_BODY_BYTES,
        max_connections: MAX_CONNECTIONS,
    }
}

/// Handlers are short (in-memory renders, local database reads) and bodies are already read when a
/// worker gets a request: a few workers per core keep the cores busy while one waits on the database.
fn worker_count() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    (cores * 2).clamp(4, 16)
}

fn parse_bind(bind: &str) -> Result<IpAddr, ServerError> {
    let b = bind.trim();
    if b.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    b.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| ServerError::BadAddress {
            bind: bind.to_string(),
        })
}

struct Shared {
    ctx: WebCtx,
    cache: super::cache::PageCache,
    session: Session,
}

fn serve_one(shared: &Shared, mut request: tiny_http::Request) {
    let gzip_ok = super::cache::accepts_gzip(
        request
            .headers()
            .iter()
            .find(|h| h.field.equiv("Accept-Encoding"))
            .map(|h| h.value.as_str()),
    );
    let super::cache::Answer { resp, gzip } = answer(shared, &mut request);
    let gzip = if gzip_ok {
        gzip.map(|g| g.to_vec())
            .or_else(|| super::cache::compress(&resp))
    } else {
        None
    };
    let compressible =
        resp.content_type.starts_with("text/") || resp.content_type.starts_with("application/json");
    let encoded = gzip.is_some();
    // The whole body is in memory: always send its length (no chunked encoding).
    let mut out = tiny_http::Response::from_data(gzip.unwrap_or(resp.body))
        .with_status_code(resp.status)
        .with_chunked_threshold(usize::MAX);
    let mut headers: Vec<(String, String)> = vec![
        ("Content-Type".into(), resp.content_type.into()),
        ("X-Content-Type-Options".into(), "nosniff".into()),
        ("X-Frame-Options".into(), "DENY".into()),
        ("Referrer-Policy".into(), "no-referrer".into()),
        ("Cache-Control".into(), "no-store".into()),
        (
            "Content-Security-Policy".into(),
            "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'".into(),
        ),
    ];
    if compressible {
        headers.push(("Vary".into(), "Accept-Encoding".into()));
    }
    if encoded {
        headers.push(("Content-Encoding".into(), "gzip".into()));
    }
    headers.extend(resp.headers);
    for (k, v) in headers {
        match tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()) {
            Ok(h) => out.add_header(h),
            Err(()) => tracing::warn!(header = %k, "web server: dropped an invalid header"),
        }
    }
    if let Err(e) = request.respond(out) {
        tracing::debug!(error = %e, "web server: client went away");
    }
}

/// An error answer: JSON for the API, a message page for the rest.
pub(super) fn error_resp(is_api: bool, status: u16, title: &str, msg: &str) -> Resp {
    if is_api {
        Resp::json_error(status, msg)
    } else {
        Resp::html(status, super::pages::message_page(title, msg))
    }
}

/// What a request's head says: method, path, raw query and lower-cased headers.
pub(super) struct Head {
    pub(super) method: String,
    pub(super) url: String,
    pub(super) path: String,
    pub(super) raw_query: String,
    pub(super) headers: Vec<(String, String)>,
}

impl Head {
    fn read(request: &tiny_http::Request) -> Head {
        let url = request.url().to_string();
        let (path, raw_query) = match url.split_once('?') {
            Some((p, q)) => (p.to_string(), q.to_string()),
            None => (url.clone(), String::new()),
        };
        let headers = request
            .headers()
            .iter()
            .map(|h| {
                (
                    h.field.as_str().as_str().to_ascii_lowercase(),
                    h.value.as_str().to_string(),
                )
            })
            .collect();
        Head {
            method: request.method().as_str().to_ascii_uppercase(),
            url,
            path,
            raw_query,
            headers,
        }
    }

    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn is_api(&self) -> bool {
        self.path == "/api" || self.path.starts_with("/api/")
    }

    /// 431 when the request line and headers are larger than [`MAX_HEAD_BYTES`].
    fn too_large(&self) -> Option<Resp> {
        let bytes = self.url.len()
            + self
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.len() + 4)
                .sum::<usize>();
        (bytes > MAX_HEAD_BYTES).then(|| {
            let msg = format!(
                "the request line and headers are larger than {MAX_HEAD_BYTES} bytes; send fewer or shorter headers"
            );
            error_resp(self.is_api(), 431, "Request headers too large", &msg)
                .with_header("Connection", "close")
        })
    }
}

/// The body, at most [`MAX_BODY_BYTES`], or the error to answer.
fn read_body(request: &mut tiny_http::Request, is_api: bool) -> Result<Vec<u8>, Resp> {
    if request.body_length().is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(too_large(is_api));
    }
    let mut body = Vec::new();
    let limit = (MAX_BODY_BYTES + 1) as u64;
    if let Err(e) = request.as_reader().take(limit).read_to_end(&mut body) {
        let msg = format!("could not read the request body: {e}");
        return Err(error_resp(is_api, 400, "Bad request", &msg));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(too_large(is_api));
    }
    Ok(body)
}

/// Runs the route; a panicking handler answers 500 instead of taking the server down.
fn dispatch(shared: &Shared, req: Req, is_api: bool) -> Resp {
    let path = req.path.clone();
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        super::route(&shared.ctx, req)
    })) {
        Ok(resp) => resp,
        Err(_) => {
            tracing::error!(path = %path, "web handler panicked");
            let msg = "internal error while handling this request; see $NXR_HOME/logs/nxr.log";
            error_resp(is_api, 500, "Internal error", msg)
        }
    }
}

fn answer(shared: &Shared, request: &mut tiny_http::Request) -> super::cache::Answer {
    let plain = |resp: Resp| super::cache::Answer { resp, gzip: None };
    let head = Head::read(request);
    let is_api = head.is_api();
    if let Some(resp) = head.too_large() {
        return plain(resp);
    }
    if let Some(resp) = token_sign_in(&shared.session, &head) {
        return plain(resp);
    }
    let auth = match authenticate(&shared.session, &head) {
        Ok(a) => a,
        Err(resp) => return plain(resp),
    };
    let body = match read_body(request, is_api) {
        Ok(b) => b,
        Err(resp) => return plain(resp),
    };
    let req = Req {
        query: super::url_decode_pairs(&head.raw_query),
        method: head.method,
        path: head.path,
        headers: head.headers,
        body,
        csrf_token: shared.session.csrf.clone(),
        nav: Default::default(),
    };
    let changes_state = !matches!(req.method.as_str(), "GET" | "HEAD" | "OPTIONS");
    if changes_state && auth == Auth::Cookie && !csrf_ok(&req, &shared.session.csrf) {
        let msg = "this form is missing its CSRF token or carries a stale one; reload the page and submit it again";
        return plain(error_resp(is_api, 403, "Forbidden", msg));
    }
    if req.method == "GET" && super::cache::cacheable(&req.path) {
        let key = format!("{}?{}", req.path, head_query(&req));
        let ctx = &shared.ctx;
        return shared
            .cache
            .get_or_build(&ctx.store, &ctx.rt, &key, || dispatch(shared, req, is_api));
    }
    plain(dispatch(shared, req, is_api))
}

/// The decoded query as one cache key part.
fn head_query(req: &Req) -> String {
    super::url_with_query(
        "",
        &req.query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
    )
}

fn too_large(is_api: bool) -> Resp {
    let msg = format!(
        "the request body is larger than {} bytes; send less",
        MAX_BODY_BYTES
    );
    let resp = if is_api {
        Resp::json_error(413, &msg)
    } else {
        Resp::html(413, super::pages::message_page("Request too large", &msg))
    };
    resp.with_header("Connection", "close")
}
