//! `/hermes`: the gateway's live status with Start / Stop / Restart forms, and the Ollama card;
//! `/api/gateway` (GET status, POST `{"action": "start"|"stop"|"restart"}`) and `/api/ollama`.
//! Every action is `domain::agents::gateway_control`, the same functions as `nxr gateway`.

use super::pages::{csrf_field, layout, method_not_allowed, shown};
use super::{Req, Resp, WebCtx};
use crate::domain::agents::gateway::GatewayState;
use crate::domain::agents::gateway_control::{self, DEFAULT_TIMEOUT, GatewayView};
use crate::domain::catalog::ollama::{self, OllamaStatus};
use maud::{Markup, html};

/// `POST /api/gateway`: `{"action": "start" | "stop" | "restart"}`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct GatewayBody {
    action: String,
}

pub fn handle(ctx: &WebCtx, req: &Req) -> Option<Resp> {
    let m = req.method.as_str();
    Some(match (req.path.as_str(), m) {
        ("/hermes" | "/hermes/", "GET" | "HEAD") => page(ctx, req, None),
        ("/hermes" | "/hermes/", _) => method_not_allowed("GET"),
        ("/hermes/start" | "/hermes/stop" | "/hermes/restart", "POST") => {
            let action = req.path.trim_start_matches("/hermes/");
            let (ok, message) = act(ctx, action);
            page(ctx, req, Some((ok, message)))
        }
        ("/hermes/start" | "/hermes/stop" | "/hermes/restart", _) => method_not_allowed("POST"),
        ("/api/gateway", "GET" | "HEAD") => Resp::json(200, &view(ctx)),
        ("/api/gateway", "POST") => {
            const SEND: &str = "{\"action\": \"start\"}, \"stop\" or \"restart\"";
            let action = match super::json_body::<GatewayBody>(req, SEND) {
                Some(Ok(b)) => b.action,
                Some(Err(e)) => return Some(Resp::json_error(400, &e)),
                None => req.field("action").unwrap_or_default(),
            };
            if !matches!(action.as_str(), "start" | "stop" | "restart") {
                return Some(Resp::json_error(
                    400,
                    &format!("unknown gateway action {action:?}; send {SEND}"),
                ));
            }
            let (ok, message) = act(ctx, &action);
            let body = serde_json::json!({ "ok": ok, "message": message, "gateway": view(ctx) });
            Resp::json(if ok { 200 } else { 409 }, &body)
        }
        ("/api/gateway", _) => {
            Resp::json_error(405, "GET or POST").with_header("Allow", "GET, POST")
        }
        ("/api/ollama", "GET" | "HEAD") => match ollama_status(ctx) {
            Ok(s) => Resp::json(200, &s),
            Err(e) => Resp::json(
                200,
                &serde_json::json!({ "url": ctx.env.ollama_url, "reachable": false, "error": e }),
            ),
        },
        _ => return None,
    })
}

fn view(ctx: &WebCtx) -> GatewayView {
    gateway_control::view(
        &ctx.env,
        gateway_control::main_model(&ctx.env),
        ctx.store.now(),
    )
}

fn ollama_status(ctx: &WebCtx) -> Result<OllamaStatus, String> {
    ctx.rt
        .block_on(ollama::status(&ctx.env.ollama_url, ollama::DEFAULT_TIMEOUT))
        .map_err(|e| super::hints::explain(&e))
}

/// Runs one action; (succeeded, what happened).
fn act(ctx: &WebCtx, action: &str) -> (bool, String) {
    let env = &ctx.env;
    let started = |o: gateway_control::StartOutcome| {
        format!(
            "started the Hermes gateway (pid {}) in tmux session {:?}",
            o.pid, o.tmux_session
        )
    };
    let r = match action {
        "start" => gateway_control::start(env, DEFAULT_TIMEOUT).map(started),
        "stop" => gateway_control::stop(env, DEFAULT_TIMEOUT).map(|o| o.describe()),
        _ => gateway_control::restart(env, DEFAULT_TIMEOUT)
            .map(|o| format!("{}; {}", o.stopped.describe(), started(o.started))),
    };
    match r {
        Ok(m) => (true, m),
        Err(e) => (false, super::hints::explain(&e)),
    }
}

fn page(ctx: &WebCtx, req: &Req, result: Option<(bool, String)>) -> Resp {
    let v = view(ctx);
    let ollama = ollama_status(ctx);
    let status = match &result {
        Some((false, _)) => 409,
        _ => 200,
    };
    Resp::html(
        status,
        layout(
            &req.nav,
            "Hermes",
            "/hermes",
            body(req, &v, &ollama, result.as_ref()),
        ),
    )
}

fn body(
    req: &Req,
    v: &GatewayView,
    ollama: &Result<OllamaStatus, String>,
    result: Option<&(bool, String)>,
) -> Markup {
    let s = &v.status;
    let (label, class) = match s.state {
        GatewayState::Running => ("running", "ok"),
        GatewayState::Stopped => ("stopped", "bad"),
        GatewayState::NeverStarted => ("never started", "muted"),
    };
    let running = s.state == GatewayState::Running;
    html! {
        h1 { "Hermes gateway" }
        @if let Some((ok, msg)) = result {
            @if *ok { p.notice role="status" #result { (shown(msg)) } }
            @else { p.bad role="alert" #result { (shown(msg)) } }
        }
        section.card #gateway {
            table {
                tr { th { "State" } td #gw-state class=(class) { (label) } }
                tr { th { "PID" } td #gw-pid { @if let Some(p) = s.pid.filter(|_| running) { (p) } @else { "—" } } }
                tr { th { "Uptime" } td #gw-uptime { @if let Some(u) = v.uptime_secs { (crate::domain::view::duration_text(u)) } @else { "—" } } }
                tr { th { "Model" } td { code { (shown(s.model.as_deref().unwrap_or("(not set in config.yaml)"))) } } }
                tr { th { "Reported state" } td { (shown(s.reported_state.as_deref().unwrap_or("—"))) } }
                tr { th { "tmux session" } td {
                    code { (shown(&v.tmux_session)) }
                    @if v.tmux_session_exists { " open, " (v.tmux_viewers.len()) " viewer" @if v.tmux_viewers.len() != 1 { "s" } }
                    @else { " not open" }
                } }
                @if let Some(n) = &s.note { tr { th { "Note" } td.warn { (shown(n)) } } }
            }
            div style="display:flex; gap:.75rem; flex-wrap:wrap; margin-top:1rem" {
                form method="post" action="/hermes/start" { (csrf_field(req)) button #gw-start type="submit" disabled[running] { "Start" } }
                form method="post" action="/hermes/stop" { (csrf_field(req)) button #gw-stop type="submit" disabled[!running] { "Stop" } }
                form method="post" action="/hermes/restart" { (csrf_field(req)) button #gw-restart type="submit" { "Restart" } }
            }
            p.muted { "Start runs " code { "hermes gateway run" } " in a detached tmux session; Stop sends SIGTERM and waits, then SIGKILL after "
                (DEFAULT_TIMEOUT.as_secs()) " s. Same as " code { "nxr gateway start|stop|restart" } "." }
        }
        section.card #ollama {
            h2 { "Ollama" }
            @match ollama {
                Ok(o) => {
                    p { "Answering at " code { (shown(&o.url)) }
                        @if let Some(ver) = &o.version { ", version " code { (shown(ver)) } } "." }
                    @if o.models.is_empty() { p.muted { "No models pulled (" code { "ollama pull qwen3:8b" } ")." } }
                    @else { ul { @for m in &o.models { li { code { (shown(m)) } } } } }
                }
                Err(e) => { p.muted { "Not answering: " (shown(e)) } }
            }
        }
    }
}
