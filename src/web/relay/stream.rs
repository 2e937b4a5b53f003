//! Forwarding one request to OpenRouter and passing its answer on as it arrives. When the answer
//! has ended, or the client went away before its end, the request's outcome is counted once
//! in the relay's [`Stats`](super::Stats) and, with a store, recorded in `usage_events`
//! ([`crate::domain::budget::relay_log`]).

use super::{Answer, Shared, error};
use crate::domain::budget::pacer::Admission;
use crate::domain::budget::relay_log::{self, AnswerUsage, Outcome, RelayRecord};
use crate::domain::catalog::ratelimit;
use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

/// The head of an answer kept for classifying an error.
const HEAD: usize = 4096;
/// A JSON answer is kept whole up to this size (its `usage` is read from it).
const WHOLE: usize = 256 * 1024;
/// Of a stream, the tail kept (its last `data:` lines carry the `usage`).
const TAIL: usize = 16 * 1024;

/// One request on its way: who sent it, for which model, and how long it was held.
pub(super) struct Pending {
    /// A chat request (recorded in `usage_events`); a model list is counted only.
    pub chat: bool,
    pub agent: String,
    pub model: String,
    pub free: bool,
    pub held_ms: u64,
    pub admission: Option<Admission>,
}

/// What is known of a request once its answer ended; counted and recorded when dropped, that is
/// when the body written to the client is dropped (at its end, or when the client went away).
pub(super) struct Finish {
    shared: Arc<Shared>,
    chat: bool,
    agent: String,
    model: String,
    free: bool,
    held_ms: u64,
    started: Instant,
    status: u16,
    /// The head (and, for a stream, the tail) of the answer.
    kept: Mutex<Kept>,
    /// The answer stopped before its end upstream.
    upstream_cut: AtomicBool,
    /// The client stopped reading before the end.
    client_closed: AtomicBool,
}

#[derive(Default)]
struct Kept {
    head: Vec<u8>,
    tail: Vec<u8>,
    stream: bool,
}

impl Kept {
    fn push(&mut self, chunk: &[u8]) {
        let room = if self.stream { HEAD } else { WHOLE };
        if self.head.len() < room {
            let n = chunk.len().min(room - self.head.len());
            self.head.extend_from_slice(&chunk[..n]);
            if n == chunk.len() {
                return;
            }
        }
        self.tail.extend_from_slice(chunk);
        if self.tail.len() > TAIL {
            let cut = self.tail.len() - TAIL;
            self.tail.drain(..cut);
        }
    }

    fn usage(&self) -> AnswerUsage {
        if self.tail.is_empty() {
            return relay_log::answer_usage(&String::from_utf8_lossy(&self.head));
        }
        let mut u = relay_log::answer_usage(&String::from_utf8_lossy(&self.head));
        let t = relay_log::answer_usage(&String::from_utf8_lossy(&self.tail));
        if t.model.is_some() {
            u.model = t.model;
        }
        if t.prompt_tokens + t.completion_tokens > 0 || t.cost_usd > 0.0 {
            (u.prompt_tokens, u.completion_tokens, u.cost_usd) =
                (t.prompt_tokens, t.completion_tokens, t.cost_usd);
        }
        u
    }
}

impl Drop for Finish {
    fn drop(&mut self) {
        let kept = self.kept.get_mut().unwrap_or_else(|e| e.into_inner());
        let head = String::from_utf8_lossy(&kept.head).into_owned();
        let outcome = if (200..300).contains(&self.status) {
            if self.client_closed.load(Ordering::SeqCst) {
                Outcome::ClientClosed
            } else if self.upstream_cut.load(Ordering::SeqCst) {
                Outcome::Broken
            } else {
                Outcome::Answered
            }
        } else if let Some(kind) = ratelimit::classify(self.status, &head) {
            Outcome::Limited(kind)
        } else {
            Outcome::Failed(self.status)
        };
        self.shared.stats.update(&self.agent, &self.model, |c| {
            match outcome {
                Outcome::Answered => c.answered += 1,
                Outcome::ClientClosed => {
                    c.answered += 1;
                    c.client_closed += 1;
                }
                Outcome::Broken => c.answered += 1,
                Outcome::Limited(kind) => {
                    *c.limited.entry(kind.as_str().to_string()).or_default() += 1
                }
                _ => *c.upstream_errors.entry(self.status).or_default() += 1,
            };
        });
        let record = RelayRecord {
            profile: self.agent.clone(),
            model: self.model.clone(),
            free: self.free,
            outcome,
            usage: kept.usage(),
            held_ms: self.held_ms,
            latency_ms: self.started.elapsed().as_millis() as u64,
            at: chrono::Utc::now(),
        };
        tracing::debug!(
            agent = self.agent,
            model = self.model,
            status = self.status,
            ms = record.latency_ms,
            "relay: answer ended"
        );
        if self.chat {
            self.shared.record(record);
        }
    }
}

/// An answer's body: whole (the relay's own answers), or the upstream's, polled by the client's
/// connection itself so that each chunk is written the moment it arrives.
pub(super) enum RelayBody {
    Whole(Option<Bytes>),
    Passed {
        upstream: reqwest::Body,
        finish: Arc<Finish>,
        ended: bool,
    },
}

impl RelayBody {
    pub(super) fn whole(b: Bytes) -> RelayBody {
        RelayBody::Whole(Some(b))
    }
}

impl Body for RelayBody {
    type Data = Bytes;
    type Error = reqwest::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, reqwest::Error>>> {
        let (upstream, finish, ended) = match self.get_mut() {
            RelayBody::Whole(b) => return Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            RelayBody::Passed {
                upstream,
                finish,
                ended,
            } => (upstream, finish, ended),
        };
        if *ended {
            return Poll::Ready(None);
        }
        let frame = std::task::ready!(Pin::new(upstream).poll_frame(cx));
        match &frame {
            Some(Ok(f)) => {
                if let Some(data) = f.data_ref() {
                    finish
                        .kept
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(data);
                }
            }
            Some(Err(_)) => {
                // The client's connection is closed with the error: it sees the answer break off.
                finish.upstream_cut.store(true, Ordering::SeqCst);
                *ended = true;
            }
            None => *ended = true,
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        match self {
            RelayBody::Whole(b) => b.is_none(),
            RelayBody::Passed { ended, .. } => *ended,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            RelayBody::Whole(Some(b)) => SizeHint::with_exact(b.len() as u64),
            RelayBody::Whole(None) => SizeHint::with_exact(0),
            RelayBody::Passed { .. } => SizeHint::default(),
        }
    }
}

impl Drop for RelayBody {
    /// Dropped before its end: the client went away (hyper drops the body of a connection that
    /// failed), and with it the upstream request.
    fn drop(&mut self) {
        if let RelayBody::Passed {
            finish,
            ended: false,
            ..
        } = self
        {
            finish.client_closed.store(true, Ordering::SeqCst);
        }
    }
}

/// Sends `body` to OpenRouter's `rest` path with the stored key and returns the answer as it
/// arrives. A free request's place in the pacer is settled when the answer's head arrives, and
/// given back when OpenRouter was not reached.
pub(super) async fn forward(
    shared: &Arc<Shared>,
    p: Pending,
    method: reqwest::Method,
    rest: &str,
    body: Option<Bytes>,
) -> Result<Answer, Answer> {
    let url = format!("{}/{rest}", shared.cfg.upstream.trim_end_matches('/'));
    let mut req = shared.http.request(method, &url);
    if let Some(key) = &shared.cfg.key {
        req = req.bearer_auth(key);
    }
    if let Some(body) = body {
        req = req.header("Content-Type", "application/json").body(body);
    }
    shared
        .stats
        .update(&p.agent, &p.model, |c| c.forwarded += 1);
    let started = Instant::now();
    let sent = req.send().await;
    if let Some(a) = &p.admission {
        match &sent {
            Ok(_) => shared.pacer.settle(a),
            Err(_) => shared.pacer.release(a),
        }
    }
    let resp = match sent {
        Ok(r) => r,
        Err(e) => {
            shared.stats.update(&p.agent, &p.model, |c| {
                *c.upstream_errors.entry(502).or_default() += 1
            });
            if p.chat {
                shared.record(RelayRecord {
                    profile: p.agent.clone(),
                    model: p.model.clone(),
                    free: p.free,
                    outcome: Outcome::Failed(0),
                    usage: AnswerUsage::default(),
                    held_ms: p.held_ms,
                    latency_ms: started.elapsed().as_millis() as u64,
                    at: chrono::Utc::now(),
                });
            }
            return Err(error(
                502,
                "upstream_unreachable",
                &format!("OpenRouter did not answer at {url}: {e}"),
            ));
        }
    };
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    let finish = Arc::new(Finish {
        shared: shared.clone(),
        chat: p.chat,
        agent: p.agent,
        model: p.model,
        free: p.free,
        held_ms: p.held_ms,
        started,
        status,
        kept: Mutex::new(Kept {
            stream: content_type.starts_with("text/event-stream"),
            ..Kept::default()
        }),
        upstream_cut: AtomicBool::new(false),
        client_closed: AtomicBool::new(false),
    });
    let mut answer = hyper::Response::new(RelayBody::Passed {
        upstream: reqwest::Body::from(resp),
        finish,
        ended: false,
    });
    *answer.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    let content_type = hyper::header::HeaderValue::from_str(&content_type)
        .unwrap_or(hyper::header::HeaderValue::from_static("application/json"));
    answer
        .headers_mut()
        .insert(hyper::header::CONTENT_TYPE, content_type);
    Ok(answer)
}
